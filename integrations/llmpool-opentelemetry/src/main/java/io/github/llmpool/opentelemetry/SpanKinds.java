package io.github.llmpool.opentelemetry;

/**
 * The span kinds of llmpool's request and attempt spans, chosen so that one call never gets two
 * client spans (see {@link LlmPoolTelemetry.Builder#spanKinds}).
 */
public enum SpanKinds {
  /**
   * {@link #INTERNAL} when the OpenTelemetry Java agent is attached to the JVM (its openai-java
   * instrumentation makes the GenAI client span of an SDK call, and its OkHttp instrumentation an
   * HTTP client span per attempt), else {@link #CLIENT}. The default.
   */
  AUTO,

  /**
   * The request span and the attempt spans are {@code CLIENT} spans: the request span is the
   * GenAI inference span the conventions describe, and each attempt span is the call to one
   * provider. For an application without the agent.
   */
  CLIENT,

  /**
   * The request span and the attempt spans are {@code INTERNAL} spans, beside the client spans
   * another instrumentation (the Java agent, Spring AI's or LangChain4j's observation) makes for
   * the same call.
   */
  INTERNAL
}
