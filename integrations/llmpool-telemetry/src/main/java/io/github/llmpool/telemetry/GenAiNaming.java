package io.github.llmpool.telemetry;

/**
 * Which names of the OpenTelemetry GenAI client metrics llmpool-micrometer and llmpool-opentelemetry register. The
 * conventions are being renamed while they are in development; both sets are supported so that a
 * dashboard can follow either, and {@link #CURRENT} is the default because it is what Spring AI and
 * LangChain4j emit today.
 */
public enum GenAiNaming {
  /**
   * The names of semantic conventions v1.41.0 (the last release with the GenAI pages in
   * {@code open-telemetry/semantic-conventions}): the histograms
   * {@code gen_ai.client.token.usage} (by {@code gen_ai.token.type} {@code input}/{@code output}),
   * {@code gen_ai.client.operation.duration},
   * {@code gen_ai.client.operation.time_to_first_chunk} and
   * {@code gen_ai.client.operation.time_per_output_chunk}. The default.
   */
  CURRENT,

  /**
   * The names proposed in {@code open-telemetry/semantic-conventions-genai} (pull requests 521 and
   * 374, open when this was written): the histograms {@code gen_ai.client.inference.duration},
   * {@code gen_ai.client.inference.time_to_first_chunk},
   * {@code gen_ai.client.inference.time_per_output_chunk},
   * {@code gen_ai.client.inference.operation.input_tokens} and {@code .output_tokens}, and the
   * counters {@code gen_ai.client.inference.usage.input_tokens}, {@code .output_tokens},
   * {@code .cache_read.input_tokens} and {@code .reasoning.output_tokens}, by
   * {@code gen_ai.token.modality} ({@code text}).
   */
  INFERENCE
}
