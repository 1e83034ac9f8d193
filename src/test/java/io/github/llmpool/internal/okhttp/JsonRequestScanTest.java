package io.github.llmpool.internal.okhttp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The fast request scan ({@link JsonRequest.Scan}) against Jackson's reading: whenever the scan
 * answers, Jackson accepts the same body and finds the same fields at the same byte offsets; the
 * scan answers for ordinary request bodies (so the fast path is the one taken); and it leaves to
 * Jackson every body it is unsure of.
 */
class JsonRequestScanTest {

  private static void agree(byte[] body) {
    JsonRequest fast = JsonRequest.Scan.request(body, false);
    if (fast == null) {
      return;
    }
    JsonRequest jackson = JsonRequest.parseWithJackson(body, false);
    assertNotNull(jackson, () -> "the scan accepted what Jackson rejects: " + new String(body, StandardCharsets.UTF_8));
    assertEquals(jackson.layout(), fast.layout(), () -> new String(body, StandardCharsets.UTF_8));
  }

  private static JsonRequest scan(String s) {
    return JsonRequest.Scan.request(s.getBytes(StandardCharsets.UTF_8), false);
  }

  @Test
  void ordinaryRequestsTakeTheFastPathAndMatchJackson() {
    String[] bodies = {
        "{\"model\":\"gpt-4o-mini\",\"temperature\":0.2,\"max_tokens\":256,\"messages\":[{\"role\":\"user\","
            + "\"content\":\"Hi \\\"there\\\" \\u00e9\\n\"}]}",
        "{ \"model\" : \"a\" ,\n \"x\":[1, 2.5e-3, -0, true, false, null, {}, []] }",
        "{\"stream\":true,\"stream_options\":{\"include_usage\":false},\"user\":\"u-1\",\"prompt_cache_key\":\"k\"}",
        "{}", " { } ", "{\"input\":\"日本語のテキスト 😀\",\"model\":\"m-ü\"}",
        "{\"model\":\"a\",\"model\":\"b\",\"user\":\"x\",\"user\":7,\"stream\":true,\"stream\":false}",
    };
    for (String b : bodies) {
      assertNotNull(scan(b), b);
      agree(b.getBytes(StandardCharsets.UTF_8));
    }
  }

  @Test
  void theCompletionBudgetAndTheTokenEstimateAreReadAlikeByBothParsers() {
    String[][] cases = { // body, expected maxTokens
        {"{\"model\":\"m\",\"max_tokens\":256}", "256"},
        {"{\"max_completion_tokens\":100,\"max_tokens\":256}", "100"}, // the newer name wins
        {"{\"max_tokens\":256,\"max_completion_tokens\":100}", "100"},
        {"{\"max_tokens\":-5}", "-1"}, {"{\"max_tokens\":-0}", "-1"}, {"{\"max_tokens\":2.5}", "-1"},
        {"{\"max_tokens\":1e3}", "-1"}, {"{\"max_tokens\":\"300\"}", "-1"}, {"{\"max_tokens\":null}", "-1"},
        {"{\"max_tokens\":1234567890123456}", "-1"}, // 16 digits: absurd, ignored
        {"{\"max_tokens\":{\"a\":1}}", "-1"}, {"{\"messages\":[]}", "-1"},
    };
    for (String[] c : cases) {
      byte[] body = c[0].getBytes(StandardCharsets.UTF_8);
      JsonRequest jackson = JsonRequest.parseWithJackson(body, false);
      assertEquals(Long.parseLong(c[1]), jackson.maxTokens(), c[0]);
      JsonRequest fast = JsonRequest.Scan.request(body, false);
      if (fast != null) {
        assertEquals(jackson.layout(), fast.layout(), c[0]);
      }
      long expected = (body.length + 3) / 4 + Math.max(0, Long.parseLong(c[1]));
      assertEquals(expected, jackson.estimatedTokens(), c[0]);
    }
  }

  @Test
  void leavesToJacksonWhatItIsUnsureOf() {
    String[] bodies = {
        "{\"model\":7}", "{\"mod\\u0065l\":\"x\"}", "{\"model\":\"a\\\"b\"}", "\uFEFF{\"model\":\"a\"}",
        "{\"a\":1,}", "{\"a\":01}", "{\"a\":truex}", "{\"a\":1} x", "{\"a\":1} {}", "[1]", "{\"a\":\"\u0001\"}",
        "{\"a\":NaN}", "{\"a\":.5}", "{\"a\":1.}", "{\"a\":-}", "{'a':1}", "{a:1}", "{\"a\":1 /* c */}",
    };
    for (String b : bodies) {
      assertNull(scan(b), b);
    }
    byte[] invalidUtf8 = {'{', '"', 'a', '"', ':', '"', (byte) 0xC0, (byte) 0x80, '"', '}'};
    assertNull(JsonRequest.Scan.request(invalidUtf8, false));
    StringBuilder deep = new StringBuilder("{\"a\":");
    deep.append("[".repeat(JsonRequest.Scan.MAX_DEPTH)).append("]".repeat(JsonRequest.Scan.MAX_DEPTH)).append('}');
    assertNull(scan(deep.toString()));
  }

  @Test
  void generatedAndMutatedBodiesNeverDisagree() {
    Random r = new Random(20261201);
    int fastHits = 0;
    int generated = 4000;
    for (int k = 0; k < generated; k++) {
      byte[] body = object(r, 0, true).getBytes(StandardCharsets.UTF_8);
      if (JsonRequest.Scan.request(body, false) != null) {
        fastHits++;
      }
      agree(body);
      for (int m = 0; m < 20; m++) {
        agree(mutate(r, body));
      }
    }
    // generated bodies hold escapes of surrogate pairs and keys with escapes, which go to Jackson
    assertTrue(fastHits > generated / 3, "fast path taken for " + fastHits + " of " + generated);
  }

  private static byte[] mutate(Random r, byte[] b) {
    byte[] c = b.clone();
    int at = r.nextInt(c.length);
    byte[] pool = {'{', '}', '[', ']', '"', ',', ':', '\\', ' ', '0', '1', '-', '.', 'e', 't', 'n', 'x', (byte) 0xC3,
        (byte) 0xA9, (byte) 0xFF, 0x01};
    switch (r.nextInt(3)) {
      case 0 -> c[at] = pool[r.nextInt(pool.length)];
      case 1 -> {
        byte[] d = new byte[c.length - 1];
        System.arraycopy(c, 0, d, 0, at);
        System.arraycopy(c, at + 1, d, at, c.length - at - 1);
        c = d;
      }
      default -> {
        byte[] d = new byte[c.length + 1];
        System.arraycopy(c, 0, d, 0, at);
        d[at] = pool[r.nextInt(pool.length)];
        System.arraycopy(c, at, d, at + 1, c.length - at);
        c = d;
      }
    }
    return c;
  }

  private static final String[] KEYS = {"model", "stream", "stream_options", "user", "prompt_cache_key", "messages",
      "temperature", "input", "mod\\u0065l", "n"};

  private static String object(Random r, int depth, boolean root) {
    StringBuilder sb = new StringBuilder("{");
    int fields = r.nextInt(root ? 7 : 4);
    for (int i = 0; i < fields; i++) {
      if (i > 0) {
        sb.append(',');
      }
      sb.append(ws(r)).append('"').append(KEYS[r.nextInt(KEYS.length)]).append('"').append(ws(r)).append(':')
          .append(ws(r)).append(value(r, depth + 1)).append(ws(r));
    }
    return sb.append('}').toString();
  }

  private static String value(Random r, int depth) {
    int k = r.nextInt(depth > 3 ? 6 : 8);
    return switch (k) {
      case 0 -> string(r);
      case 1 -> r.nextBoolean() ? "true" : "false";
      case 2 -> "null";
      case 3 -> number(r);
      case 4, 5 -> string(r);
      case 6 -> object(r, depth, false);
      default -> {
        StringBuilder sb = new StringBuilder("[");
        int n = r.nextInt(4);
        for (int i = 0; i < n; i++) {
          sb.append(i > 0 ? "," : "").append(ws(r)).append(value(r, depth + 1));
        }
        yield sb.append(ws(r)).append(']').toString();
      }
    };
  }

  private static String number(Random r) {
    String[] forms = {"0", "-0", "12", "-3.25", "1e5", "2.5E-3", "-7e+2", "123456789012345678901234567890"};
    return forms[r.nextInt(forms.length)];
  }

  private static String string(Random r) {
    String[] parts = {"a", "gpt-4o", " ", "é", "日本", "😀", "\\\"", "\\\\", "\\n", "\\u00e9", "\\ud83d\\ude00", "x/y"};
    StringBuilder sb = new StringBuilder("\"");
    int n = r.nextInt(5);
    for (int i = 0; i < n; i++) {
      sb.append(parts[r.nextInt(parts.length)]);
    }
    return sb.append('"').toString();
  }

  private static String ws(Random r) {
    String[] w = {"", "", "", " ", "\n", "\t ", "\r\n"};
    return w[r.nextInt(w.length)];
  }
}
