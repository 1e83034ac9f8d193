/**
 * llmpool for Micrometer: {@link io.github.llmpool.micrometer.LlmPoolMetrics} binds a pool to a
 * {@code MeterRegistry} (the OpenTelemetry GenAI client metrics, named per
 * {@link io.github.llmpool.telemetry.GenAiNaming}, and the router's {@code llmpool.*} metrics);
 * {@link io.github.llmpool.micrometer.LlmPoolAuditLog} writes one SLF4J line per logical request.
 * Both use only the core's exported hooks ({@code onAttempt}, {@code onEvent}, {@code onUsage})
 * and {@code ProviderPool.snapshot()}.
 */
package io.github.llmpool.micrometer;
