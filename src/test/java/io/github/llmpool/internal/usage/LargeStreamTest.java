package io.github.llmpool.internal.usage;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** A several-MB synthetic chat stream: usage from the final chunk is exact, whatever the cuts. */
class LargeStreamTest {

  static final int CHUNKS = 20_000;

  /** OpenAI-style stream with include_usage: every chunk has "usage":null until the last. */
  static byte[] syntheticStream(int chunks, String eol) {
    StringBuilder sb = new StringBuilder(chunks * 260);
    String head = "data: {\"id\":\"chatcmpl-big\",\"object\":\"chat.completion.chunk\","
        + "\"created\":1743015077,\"model\":\"gpt-4o-mini-2024-07-18\",\"system_fingerprint\":"
        + "\"fp_1\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"";
    String tail = "\"},\"logprobs\":null,\"finish_reason\":null}],\"usage\":null}";
    sb.append(": keep-alive").append(eol).append(eol);
    for (int i = 0; i < chunks; i++) {
      sb.append(head);
      switch (i % 4) {
        case 0: sb.append("token ").append(i).append(' '); break;
        case 1: sb.append("caf\u00e9 \\\"usage\\\": {\\\"total_tokens\\\": 1} "); break;
        case 2: sb.append("\u4e16\u754c \ud83c\udf89 finish_reason error "); break;
        default: sb.append("\\n\\t model \\u0041 "); break;
      }
      sb.append(tail).append(eol).append(eol);
      if (i % 1000 == 999) {
        sb.append(": keep-alive").append(eol).append(eol);
      }
    }
    sb.append("data: {\"id\":\"chatcmpl-big\",\"object\":\"chat.completion.chunk\",\"model\":"
        + "\"gpt-4o-mini-2024-07-18\",\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":"
        + "\"length\"}],\"usage\":null}").append(eol).append(eol);
    sb.append("data: {\"id\":\"chatcmpl-big\",\"object\":\"chat.completion.chunk\",\"model\":"
        + "\"gpt-4o-mini-2024-07-18\",\"choices\":[],\"usage\":{\"prompt_tokens\":123456,"
        + "\"completion_tokens\":20000,\"total_tokens\":143456,\"prompt_tokens_details\":"
        + "{\"cached_tokens\":65536,\"audio_tokens\":0},\"completion_tokens_details\":"
        + "{\"reasoning_tokens\":4096,\"audio_tokens\":0}}}").append(eol).append(eol);
    sb.append("data: [DONE]").append(eol).append(eol);
    return sb.toString().getBytes(StandardCharsets.UTF_8);
  }

  static final UsageResult EXPECTED = new UsageResult(true, 123456, 20000, 143456, 65536, 4096,
      "gpt-4o-mini-2024-07-18", true, true, false, false, CHUNKS + 2, "chatcmpl-big", java.util.List.of("length"));

  @Test
  void smallRandomChunks() {
    byte[] body = syntheticStream(CHUNKS, "\n");
    assertTrue(body.length > 4_000_000, "size " + body.length);
    UsageParser p = UsageParser.sse();
    long t0 = System.nanoTime();
    Feed.feedRandom(p, body, new Random(42), 100);
    long ms = (System.nanoTime() - t0) / 1_000_000;
    assertEquals(EXPECTED, p.result());
    System.out.println("LargeStreamTest: " + body.length + " bytes in chunks of 1..100 in " + ms
        + " ms");
  }

  @Test
  void ioSizedChunksAndCrlf() {
    for (String eol : new String[] {"\n", "\r\n"}) {
      byte[] body = syntheticStream(CHUNKS, eol);
      UsageParser p = UsageParser.sse();
      byte[] buf = new byte[8192];
      for (int i = 0; i < body.length; i += buf.length) {
        int n = Math.min(buf.length, body.length - i);
        System.arraycopy(body, i, buf, 0, n);
        p.accept(buf, 0, n);
        assertTrue(p.firstTokenSeen());
      }
      assertEquals(EXPECTED, p.result());
    }
  }

  @Test
  void truncatedBeforeTheUsageChunk() {
    byte[] body = syntheticStream(2_000, "\n");
    String s = new String(body, StandardCharsets.UTF_8);
    int cut = s.lastIndexOf("data: {\"id\":\"chatcmpl-big\",\"object\":\"chat.completion.chunk\","
        + "\"model\"");
    cut = s.lastIndexOf("data: ", cut - 1); // before the finish_reason chunk too
    byte[] head = s.substring(0, cut).getBytes(StandardCharsets.UTF_8);
    UsageParser p = UsageParser.sse();
    Feed.feedRandom(p, head, new Random(3), 4096);
    UsageResult r = p.result();
    assertFalse(r.reported());
    assertFalse(r.terminated());
    assertEquals(2_000, r.events());
    assertEquals("gpt-4o-mini-2024-07-18", r.servedModel());
    assertEquals("chatcmpl-big", r.responseId()); // from the first chunk
    assertEquals(java.util.List.of(), r.finishReasons()); // cut before the finish_reason chunk
  }
}
