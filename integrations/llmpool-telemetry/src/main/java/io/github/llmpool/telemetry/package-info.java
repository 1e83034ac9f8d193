/**
 * Support code shared by llmpool's telemetry modules ({@code llmpool-micrometer},
 * {@code llmpool-opentelemetry}), so that both group attempts into logical requests the same way
 * ({@link io.github.llmpool.telemetry.RequestTracker}) and emit the same attribute values
 * ({@link io.github.llmpool.telemetry.TelemetryValues},
 * {@link io.github.llmpool.telemetry.ModelNames}) under the same names
 * ({@link io.github.llmpool.telemetry.GenAiNaming}), and take the options they share alike
 * ({@link io.github.llmpool.telemetry.TelemetryOptions}). Applications use those modules; this one
 * depends on the core only.
 */
package io.github.llmpool.telemetry;
