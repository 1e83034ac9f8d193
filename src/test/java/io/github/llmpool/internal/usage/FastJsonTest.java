package io.github.llmpool.internal.usage;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The Jackson-free reading of a whole JSON body ({@link FastJson}) against the Jackson path it
 * stands in for: on generated answers (usage with details, errors, models, root arrays, noise) and
 * on byte-level mutations of them, the two give the same {@link UsageResult}; the fast reading is
 * the one taken for ordinary answers; and it declines what it is unsure of.
 */
class FastJsonTest {

  private static UsageResult read(byte[] body, boolean fast) {
    JsonEngine e = new JsonEngine(fast);
    e.accept(body, 0, body.length);
    return e.result();
  }

  private static boolean taken(byte[] body) {
    return FastJson.read(body, 0, body.length, new Acc());
  }

  private static void agree(byte[] body) {
    assertEquals(read(body, false), read(body, true), () -> new String(body, StandardCharsets.UTF_8));
  }

  @Test
  void ordinaryAnswersTakeTheFastPath() {
    String[] bodies = {
        "{\"id\":\"chatcmpl-1\",\"object\":\"chat.completion\",\"model\":\"gpt-4o-mini\",\"choices\":[{\"index\":0,"
            + "\"message\":{\"role\":\"assistant\",\"content\":\"Hi \\\"x\\\" é 😀\"},\"finish_reason\":\"stop\"}],"
            + "\"usage\":{\"prompt_tokens\":41,\"completion_tokens\":96,\"total_tokens\":137,"
            + "\"prompt_tokens_details\":{\"cached_tokens\":3},\"completion_tokens_details\":{\"reasoning_tokens\":7}}}\n",
        "{\"model\":\"m\",\"usage\":{\"input_tokens\":1,\"output_tokens\":2,\"input_tokens_details\":{\"cached_tokens\":0}}}",
        "{\"error\":{\"message\":\"bad\",\"type\":\"invalid_request_error\"}}",
        "[{\"error\":{\"code\":429}}]", "{}", "[]", "{\"usage\":{}}", "{\"usage\":null,\"error\":null}",
        "{\"usage\":{\"prompt_cache_hit_tokens\":5,\"total_tokens\":9,\"prompt_tokens\":\"x\"}}",
    };
    for (String b : bodies) {
      byte[] bytes = b.getBytes(StandardCharsets.UTF_8);
      assertTrue(taken(bytes), b);
      agree(bytes);
    }
    UsageResult r = read(bodies[0].getBytes(StandardCharsets.UTF_8), true);
    assertTrue(r.reported() && r.terminated() && !r.malformed());
    assertEquals(137, r.totalTokens());
    assertEquals(3, r.cachedTokens());
    assertEquals(7, r.reasoningTokens());
    assertEquals("gpt-4o-mini", r.servedModel());
  }

  @Test
  void declinesWhatItIsUnsureOf() {
    String[] bodies = {
        "{\"usage\":{\"total_tokens\":1.5}}", "{\"usage\":{\"total_tokens\":-1}}",
        "{\"usage\":{\"total_tokens\":12345678901234567890}}", "{\"a\":1,}", "{\"mod\\u0065l\":\"x\"}",
        "{\"model\":\"a\\nb\"}", "5", "\"x\"", "{\"a\":1} x", "{\"a\":1", "{\"a\":\"\\ud800\"}",
        "{\"a\":\"" + "x".repeat(FastJson.MAX_STRING + 1) + "\"}",
        "[".repeat(FastJson.MAX_DEPTH + 1) + "]".repeat(FastJson.MAX_DEPTH + 1),
    };
    for (String b : bodies) {
      byte[] bytes = b.getBytes(StandardCharsets.UTF_8);
      assertFalse(taken(bytes), b);
      agree(bytes);
    }
  }

  @Test
  void generatedAndMutatedAnswersNeverDisagree() {
    Random r = new Random(1201);
    int taken = 0;
    int n = 4000;
    for (int k = 0; k < n; k++) {
      byte[] body = answer(r).getBytes(StandardCharsets.UTF_8);
      if (taken(body)) {
        taken++;
      }
      agree(body);
      for (int m = 0; m < 20; m++) {
        agree(mutate(r, body));
      }
    }
    assertTrue(taken > n / 2, "fast path taken for " + taken + " of " + n);
  }

  private static byte[] mutate(Random r, byte[] b) {
    byte[] c = b.clone();
    int at = r.nextInt(c.length);
    byte[] pool = {'{', '}', '[', ']', '"', ',', ':', '\\', ' ', '0', '1', '-', '.', 'e', 't', 'f', 'n', 'x',
        (byte) 0xC3, (byte) 0xA9, (byte) 0xFF, 0x01};
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

  private static final String[] ROOT_KEYS = {"model", "usage", "error", "id", "choices", "type", "response"};
  private static final String[] USAGE_KEYS = {"prompt_tokens", "completion_tokens", "total_tokens", "input_tokens",
      "output_tokens", "prompt_cache_hit_tokens", "prompt_tokens_details", "completion_tokens_details",
      "input_tokens_details", "output_tokens_details", "cached_tokens", "reasoning_tokens", "usage"};

  private static String answer(Random r) {
    if (r.nextInt(10) == 0) {
      StringBuilder sb = new StringBuilder("[");
      int n = r.nextInt(3);
      for (int i = 0; i < n; i++) {
        sb.append(i > 0 ? "," : "").append(object(r, ROOT_KEYS, 1));
      }
      return sb.append("]").toString();
    }
    return object(r, ROOT_KEYS, 0) + (r.nextBoolean() ? "\n" : "");
  }

  private static String object(Random r, String[] keys, int depth) {
    StringBuilder sb = new StringBuilder("{");
    int n = r.nextInt(depth == 0 ? 6 : 4);
    for (int i = 0; i < n; i++) {
      String key = keys[r.nextInt(keys.length)];
      sb.append(i > 0 ? "," : "").append(ws(r)).append('"').append(key).append("\":").append(ws(r));
      if (key.equals("usage") || key.endsWith("_details")) {
        sb.append(r.nextInt(5) == 0 ? value(r, depth + 1) : object(r, USAGE_KEYS, depth + 1));
      } else if (key.endsWith("tokens")) {
        sb.append(count(r));
      } else {
        sb.append(value(r, depth + 1));
      }
    }
    return sb.append(ws(r)).append('}').toString();
  }

  private static String count(Random r) {
    String[] forms = {"0", "7", "137", "-0", "41", "9223372036854775807", "1.0", "-3", "\"12\"", "null", "true"};
    return r.nextInt(4) == 0 ? forms[r.nextInt(forms.length)] : String.valueOf(r.nextInt(100_000));
  }

  private static String value(Random r, int depth) {
    int k = r.nextInt(depth > 4 ? 5 : 7);
    return switch (k) {
      case 0 -> string(r);
      case 1 -> r.nextBoolean() ? "true" : "false";
      case 2 -> "null";
      case 3 -> count(r);
      case 4 -> string(r);
      case 5 -> object(r, ROOT_KEYS, depth);
      default -> {
        StringBuilder sb = new StringBuilder("[");
        int n = r.nextInt(3);
        for (int i = 0; i < n; i++) {
          sb.append(i > 0 ? "," : "").append(value(r, depth + 1));
        }
        yield sb.append(']').toString();
      }
    };
  }

  private static String string(Random r) {
    String[] parts = {"a", "gpt-4o", " ", "é", "日本", "😀", "\\\"", "\\\\", "\\n", "\\u00e9", "x/y", "error"};
    StringBuilder sb = new StringBuilder("\"");
    int n = r.nextInt(4);
    for (int i = 0; i < n; i++) {
      sb.append(parts[r.nextInt(parts.length)]);
    }
    return sb.append('"').toString();
  }

  private static String ws(Random r) {
    String[] w = {"", "", " ", "\n", "\t"};
    return w[r.nextInt(w.length)];
  }
}
