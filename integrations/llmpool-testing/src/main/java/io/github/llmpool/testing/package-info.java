/**
 * Test support for code that runs on an llmpool {@code ProviderPool}: {@link
 * io.github.llmpool.testing.FakeLlmServer}, a real OpenAI-compatible HTTP server on loopback with
 * scripted {@link io.github.llmpool.testing.Fault faults}, latency and outages; {@link
 * io.github.llmpool.testing.ManualTicker}, a {@code Ticker} tests move by hand; and {@link
 * io.github.llmpool.testing.WireFixtures}, recorded response shapes of real providers.
 */
package io.github.llmpool.testing;
