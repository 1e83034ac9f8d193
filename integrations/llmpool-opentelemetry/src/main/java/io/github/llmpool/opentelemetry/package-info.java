/**
 * llmpool for OpenTelemetry: {@link io.github.llmpool.opentelemetry.LlmPoolTelemetry} binds a pool
 * to the OpenTelemetry API (the GenAI client metrics, named per
 * {@link io.github.llmpool.telemetry.GenAiNaming}, the router's {@code llmpool.*} metrics, and a
 * span per logical request with a child span per attempt). It uses only the core's exported hooks
 * ({@code onAttempt}, {@code onEvent}, {@code onUsage}) and {@code ProviderPool.snapshot()}.
 */
package io.github.llmpool.opentelemetry;
