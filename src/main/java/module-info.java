/**
 * llmpool: in-process load balancing of OpenAI-compatible LLM endpoints for OkHttp. Exports the
 * API package, the configuration package and the extension points ({@code io.github.llmpool.spi}:
 * attempt listeners, shared state, the randomness seam); selection, health, usage parsing and the
 * interceptor's internals stay hidden.
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
