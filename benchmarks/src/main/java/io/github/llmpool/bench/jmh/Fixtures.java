package io.github.llmpool.bench.jmh;

import java.nio.charset.StandardCharsets;

/**
 * Wire payloads shared by the benchmarks, shaped like OpenAI's (see
 * {@code /work/shared/fixtures}): a chat request, a ~1 KB chat completion with {@code usage}, and a
 * multi-megabyte {@code chat.completion.chunk} stream that ends with a usage chunk and
 * {@code [DONE]}, as a server answers a request with {@code stream_options.include_usage}.
 */
final class Fixtures {
  private Fixtures() {}

  /** What the caller posts (its {@code model} is overridden by the provider in the pool path). */
  static final String CHAT_REQUEST = "{\"model\":\"gpt-4o-mini\",\"temperature\":0.2,\"max_tokens\":256,"
      + "\"messages\":[{\"role\":\"system\",\"content\":\"You are a terse assistant that answers in one paragraph.\"},"
      + "{\"role\":\"user\",\"content\":\"Explain in a few sentences why client-side load balancing avoids a network hop.\"}]}";

  private static final String ANSWER = "Client-side load balancing runs inside the calling process: the client keeps"
      + " a live view of every upstream endpoint, picks one per request with a cheap in-memory decision, and"
      + " connects to it directly. A proxy or gateway puts another process between the two, so every request"
      + " pays an extra network round trip, an extra TLS session and another queue, and the proxy itself must"
      + " be deployed, scaled and monitored. In-process selection costs nanoseconds, sees the caller's own"
      + " latency and error signals first, and fails over without waiting on anything else.";

  /** A complete, non-streamed chat completion with usage details: about 1 KB. */
  static final String CHAT_RESPONSE = "{\"id\":\"chatcmpl-B9MHDbslfkBeAs8l4bebGdFOJ6PeG\",\"object\":\"chat.completion\","
      + "\"created\":1743015077,\"model\":\"gpt-4o-mini-2024-07-18\",\"choices\":[{\"index\":0,\"message\":"
      + "{\"role\":\"assistant\",\"content\":\"" + ANSWER + "\",\"refusal\":null,\"annotations\":[]},"
      + "\"logprobs\":null,\"finish_reason\":\"stop\"}],\"usage\":{\"prompt_tokens\":41,\"completion_tokens\":96,"
      + "\"total_tokens\":137,\"prompt_tokens_details\":{\"cached_tokens\":0,\"audio_tokens\":0},"
      + "\"completion_tokens_details\":{\"reasoning_tokens\":0,\"audio_tokens\":0,"
      + "\"accepted_prediction_tokens\":0,\"rejected_prediction_tokens\":0}},\"service_tier\":\"default\","
      + "\"system_fingerprint\":\"fp_b376dfbbd5\"}";

  private static final String CHUNK_PREFIX = "data: {\"id\":\"chatcmpl-B9MHDbslfkBeAs8l4bebGdFOJ6PeG\","
      + "\"object\":\"chat.completion.chunk\",\"created\":1743015077,\"model\":\"gpt-4o-mini-2024-07-18\","
      + "\"service_tier\":\"default\",\"system_fingerprint\":\"fp_b376dfbbd5\",\"choices\":[{\"index\":0,\"delta\":";

  private static final String[] WORDS = {" the", " pool", " picks", " a", " provider", " in", " nanoseconds", ",",
      " then", " streams", " tokens", " back", " to", " its", " caller", "."};

  /**
   * A {@code text/event-stream} body of at least {@code minBytes}: a role chunk, content chunks of
   * one word each (every one carrying {@code "usage":null}, as OpenAI sends them when usage is
   * requested), a {@code finish_reason} chunk, the usage chunk ({@code choices: []}) and
   * {@code [DONE]}. Events are separated by a blank line, lines end with LF.
   */
  static byte[] sseStream(int minBytes) {
    StringBuilder sb = new StringBuilder(minBytes + 4096);
    sb.append(CHUNK_PREFIX).append("{\"role\":\"assistant\",\"content\":\"\",\"refusal\":null},\"logprobs\":null,"
        + "\"finish_reason\":null}],\"usage\":null}\n\n");
    int words = 0;
    while (sb.length() < minBytes) {
      sb.append(CHUNK_PREFIX).append("{\"content\":\"").append(WORDS[words % WORDS.length])
          .append("\"},\"logprobs\":null,\"finish_reason\":null}],\"usage\":null}\n\n");
      words++;
    }
    sb.append(CHUNK_PREFIX).append("{},\"logprobs\":null,\"finish_reason\":\"stop\"}],\"usage\":null}\n\n");
    sb.append("data: {\"id\":\"chatcmpl-B9MHDbslfkBeAs8l4bebGdFOJ6PeG\",\"object\":\"chat.completion.chunk\","
        + "\"created\":1743015077,\"model\":\"gpt-4o-mini-2024-07-18\",\"service_tier\":\"default\","
        + "\"system_fingerprint\":\"fp_b376dfbbd5\",\"choices\":[],\"usage\":{\"prompt_tokens\":41,"
        + "\"completion_tokens\":").append(words).append(",\"total_tokens\":").append(41 + words)
        .append(",\"prompt_tokens_details\":{\"cached_tokens\":0,\"audio_tokens\":0},"
            + "\"completion_tokens_details\":{\"reasoning_tokens\":0,\"audio_tokens\":0,"
            + "\"accepted_prediction_tokens\":0,\"rejected_prediction_tokens\":0}}}\n\n");
    sb.append("data: [DONE]\n\n");
    return sb.toString().getBytes(StandardCharsets.UTF_8);
  }

  /** Output tokens reported by {@link #sseStream(int)}: one per content chunk. */
  static long sseCompletionTokens(byte[] stream) {
    String s = new String(stream, StandardCharsets.UTF_8);
    int at = s.lastIndexOf("\"completion_tokens\":") + "\"completion_tokens\":".length();
    int end = at;
    while (Character.isDigit(s.charAt(end))) {
      end++;
    }
    return Long.parseLong(s.substring(at, end));
  }
}
