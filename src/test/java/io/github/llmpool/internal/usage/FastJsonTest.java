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
  void jsonFixturesAgreeOnIdAndFinishReasons() {
    String[][] expected = {
        {"openai-chat.json", "chatcmpl-abc123", "stop"},
        {"responses.json", "resp_1", "completed"},
        {"embeddings.json", null},
    };
    for (String[] e : expected) {
      byte[] body = Feed.fixture(e[0]);
      assertTrue(taken(body), e[0]);
      agree(body);
      UsageResult r = read(body, true);
      assertEquals(e[1], r.responseId(), e[0]);
      assertEquals(java.util.Arrays.asList(e).subList(2, e.length), r.finishReasons(), e[0]);
    }
    for (String http : new String[] {"openai-400.http", "openai-429-rate-limit.http", "gemini-429.http",
        "azure-429.http", "anthropic-529.http"}) {
      byte[] body = Feed.httpBody(Feed.fixture(http));
      agree(body);
      assertEquals(java.util.List.of(), read(body, true).finishReasons(), http);
    }
  }

  @Test
  void idAndFinishReasonShapes() {
    String[][] cases = {
        // body, id, reasons...
        {"{\"id\":\"a\",\"choices\":[{\"finish_reason\":\"stop\"},{\"finish_reason\":\"length\"},"
            + "{\"finish_reason\":null},{\"finish_reason\":\"tool_calls\"}]}", "a", "stop", "length", "tool_calls"},
        {"{\"id\":\"resp_9\",\"object\":\"response\",\"status\":\"incomplete\","
            + "\"incomplete_details\":{\"reason\":\"max_output_tokens\"}}", "resp_9", "max_output_tokens"},
        {"{\"incomplete_details\":{\"reason\":\"content_filter\"},\"status\":\"incomplete\",\"object\":\"response\"}",
            null, "content_filter"},
        {"{\"object\":\"response\",\"status\":\"incomplete\",\"incomplete_details\":null}", null, "incomplete"},
        {"{\"object\":\"response\",\"status\":\"failed\",\"error\":{\"code\":\"x\"}}", null, "failed"},
        {"{\"object\":\"response\",\"status\":\"in_progress\"}", null},
        {"{\"status\":\"completed\"}", null}, // not a Responses object: not a finish reason
        {"{\"id\":1,\"choices\":{\"finish_reason\":\"stop\"}}", null},
        {"{\"id\":\"first\",\"id\":\"second\",\"choices\":[{\"message\":{\"finish_reason\":\"no\"}}]}", "first"},
        {"{\"id\":\"" + "x".repeat(200) + "\"}", "x".repeat(128)},
        {"{\"choices\":[{\"finish_reason\":\"" + "y".repeat(100) + "\"}]}", null, "y".repeat(64)},
    };
    for (String[] c : cases) {
      byte[] body = c[0].getBytes(StandardCharsets.UTF_8);
      assertTrue(taken(body), c[0]);
      agree(body);
      UsageResult r = read(body, true);
      assertEquals(c[1], r.responseId(), c[0]);
      assertEquals(java.util.Arrays.asList(c).subList(2, c.length), r.finishReasons(), c[0]);
    }
    // at most 16 reasons
    StringBuilder many = new StringBuilder("{\"choices\":[");
    for (int i = 0; i < 20; i++) {
      many.append(i > 0 ? "," : "").append("{\"finish_reason\":\"r").append(i).append("\"}");
    }
    byte[] body = many.append("]}").toString().getBytes(StandardCharsets.UTF_8);
    agree(body);
    UsageResult r = read(body, true);
    assertEquals(16, r.finishReasons().size());
    assertEquals("r15", r.finishReasons().get(15));
    // an escape in an id or a reason: the Jackson path reads it, with the same outcome
    byte[] escaped = "{\"id\":\"a\\u0062\",\"choices\":[{\"finish_reason\":\"st\\u006fp\"}]}"
        .getBytes(StandardCharsets.UTF_8);
    assertFalse(taken(escaped));
    assertEquals("ab", read(escaped, true).responseId());
    assertEquals(java.util.List.of("stop"), read(escaped, true).finishReasons());
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

  private static final String[] ROOT_KEYS = {"model", "usage", "error", "id", "choices", "type", "response",
      "object", "status", "incomplete_details", "finish_reason", "reason"};
  private static final String[] CHOICE_KEYS = {"index", "message", "finish_reason", "delta", "finish_reason"};
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
      if (key.equals("choices") && r.nextInt(5) != 0) {
        StringBuilder a = new StringBuilder("[");
        int m = r.nextInt(4) == 0 ? 17 + r.nextInt(3) : r.nextInt(4);
        for (int c = 0; c < m; c++) {
          a.append(c > 0 ? "," : "").append(r.nextInt(6) == 0 ? value(r, depth + 2) : object(r, CHOICE_KEYS, depth + 2));
        }
        sb.append(a).append(']');
      } else if (key.equals("incomplete_details") && r.nextInt(4) != 0) {
        sb.append("{\"reason\":").append(reason(r)).append(r.nextBoolean() ? ",\"x\":1}" : "}");
      } else if (key.equals("object")) {
        sb.append(r.nextBoolean() ? "\"response\"" : r.nextBoolean() ? "\"chat.completion\"" : value(r, depth + 1));
      } else if (key.equals("status") || key.equals("finish_reason") || key.equals("reason")) {
        sb.append(reason(r));
      } else if (key.equals("id") && r.nextInt(3) != 0) {
        sb.append(r.nextInt(4) == 0 ? "\"" + "i".repeat(120 + r.nextInt(20)) + "\ud83d\ude00\"" : "\"chatcmpl-" + r.nextInt(1000) + "\"");
      } else if (key.equals("usage") || key.endsWith("_details")) {
        sb.append(r.nextInt(5) == 0 ? value(r, depth + 1) : object(r, USAGE_KEYS, depth + 1));
      } else if (key.endsWith("tokens")) {
        sb.append(count(r));
      } else {
        sb.append(value(r, depth + 1));
      }
    }
    return sb.append(ws(r)).append('}').toString();
  }

  private static String reason(Random r) {
    String[] forms = {"\"stop\"", "\"length\"", "\"tool_calls\"", "\"completed\"", "\"incomplete\"",
        "\"in_progress\"", "\"queued\"", "\"max_output_tokens\"", "\"content_filter\"", "\"st\\u006fp\"", "null", "1",
        "\"" + "r".repeat(70) + "\"", "\"\u00e9t\u00e9\""};
    return r.nextInt(6) == 0 ? string(r) : forms[r.nextInt(forms.length)];
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
