package io.github.llmpool.bench.quality;

/** The OpenAI chat-completion bodies the fake providers send. Stateless. */
final class Chunks {
  static final int PROMPT_TOKENS = 40;
  private static final String MODEL = "fake-model";

  private Chunks() {}

  /** Writes {@code data} to {@code sink} as one chunk of chunked transfer encoding (not flushed). */
  static void write(okio.BufferedSink sink, String data) throws java.io.IOException {
    byte[] bytes = data.getBytes(java.nio.charset.StandardCharsets.UTF_8);
    sink.writeUtf8(Integer.toHexString(bytes.length)).writeUtf8("\r\n").write(bytes).writeUtf8("\r\n");
  }

  /** One {@code chat.completion.chunk} event carrying {@code tokens} tokens of content. */
  static String delta(int tokens, boolean first) {
    StringBuilder sb = new StringBuilder(96 + tokens * 4);
    sb.append("data: {\"id\":\"chatcmpl-q\",\"object\":\"chat.completion.chunk\",\"model\":\"").append(MODEL)
        .append("\",\"choices\":[{\"index\":0,\"delta\":{");
    if (first) {
      sb.append("\"role\":\"assistant\",");
    }
    sb.append("\"content\":\"");
    for (int i = 0; i < tokens; i++) {
      sb.append("tok ");
    }
    return sb.append("\"},\"finish_reason\":null}]}\n\n").toString();
  }

  /** The finish-reason event and the usage event of a stream of {@code tokens} tokens. */
  static String finish(int tokens) {
    return "data: {\"id\":\"chatcmpl-q\",\"object\":\"chat.completion.chunk\",\"model\":\"" + MODEL
        + "\",\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}]}\n\n"
        + "data: {\"id\":\"chatcmpl-q\",\"object\":\"chat.completion.chunk\",\"model\":\"" + MODEL
        + "\",\"choices\":[],\"usage\":" + usage(tokens) + "}\n\n";
  }

  /** A whole {@code chat.completion} of {@code tokens} tokens. */
  static String completion(int tokens) {
    StringBuilder sb = new StringBuilder(256 + tokens * 4);
    sb.append("{\"id\":\"chatcmpl-q\",\"object\":\"chat.completion\",\"model\":\"").append(MODEL)
        .append("\",\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\",\"content\":\"");
    for (int i = 0; i < tokens; i++) {
      sb.append("tok ");
    }
    return sb.append("\"},\"finish_reason\":\"stop\"}],\"usage\":").append(usage(tokens)).append("}").toString();
  }

  private static String usage(int tokens) {
    return "{\"prompt_tokens\":" + PROMPT_TOKENS + ",\"completion_tokens\":" + tokens + ",\"total_tokens\":"
        + (PROMPT_TOKENS + tokens) + "}";
  }
}
