/**
 * llmpool: in-process load balancing of OpenAI-compatible LLM endpoints for OkHttp. Exports the
 * API package and the package of the OkHttp interceptor type; selection, health, usage parsing and
 * internals stay hidden.
 */
module io.github.llmpool {
  requires transitive okhttp3;
  requires okio;
  requires com.fasterxml.jackson.core;
  requires com.fasterxml.jackson.databind;
  requires org.slf4j;

  exports io.github.llmpool;
  exports io.github.llmpool.config;
}
