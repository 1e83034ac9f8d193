/**
 * llmpool: in-process load balancing of OpenAI-compatible LLM endpoints for OkHttp. Exports the
 * API package ({@code io.github.llmpool}), the configuration file package
 * ({@code io.github.llmpool.config}) and the extension points ({@code io.github.llmpool.spi}:
 * attempt listeners, shared state, the randomness seam); the interceptors, the engine, selection,
 * health and usage parsing live in {@code io.github.llmpool.internal.*} and stay hidden (see
 * docs/architecture.md).
 */
module io.github.llmpool {
  requires transitive okhttp3;
  requires okio;
  requires com.fasterxml.jackson.core;
  requires com.fasterxml.jackson.databind;
  requires org.slf4j;

  exports io.github.llmpool;
  exports io.github.llmpool.config;
  exports io.github.llmpool.spi;
}
