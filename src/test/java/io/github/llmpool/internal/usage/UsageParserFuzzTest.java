package io.github.llmpool.internal.usage;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;

/**
 * Seeded mutation fuzzing over every fixture. Invariants, for every case:
 * <ul>
 *   <li>accept() and result() never throw;
 *   <li>the result does not depend on how the body is chunked (random chunks == one chunk);
 *   <li>a reported usage has no negative count;
 *   <li>if the mutation left the usage object's bytes alone, a reported usage is exactly the
 *       original one (damage elsewhere may only make it unreported).
 * </ul>
 * The base seed is printed in every failure and can be set with {@code -Dllmpool.fuzz.seed=N}.
 */
class UsageParserFuzzTest {

  private static final long BASE_SEED = Long.getLong("llmpool.fuzz.seed", 20_240_611L);
  private static final int CASES_PER_BODY = 360;

  private static final byte[][] INVALID_UTF8 = {
      {(byte) 0xFF}, {(byte) 0x80}, {(byte) 0xC3}, {(byte) 0xC3, (byte) 0x28},
      {(byte) 0xE2, (byte) 0x82}, {(byte) 0xE2, (byte) 0x28, (byte) 0xA1},
      {(byte) 0xED, (byte) 0xA0, (byte) 0x80}, {(byte) 0xF0, (byte) 0x9F, (byte) 0x98},
      {(byte) 0xF8, (byte) 0x88, (byte) 0x80, (byte) 0x80, (byte) 0x80}, {(byte) 0xC0, (byte) 0xAF},
      {(byte) 0xF4, (byte) 0x90, (byte) 0x80, (byte) 0x80}};

  /** A fixture body with its unmutated result and the byte span of its usage object. */
  private record Body(String name, byte[] bytes, Supplier<UsageParser> factory,
      UsageResult original, int spanStart, int spanEnd) {}

  /** A mutated body; {@code touched}: the mutation changed or moved bytes of the usage span. */
  private record Mutant(byte[] bytes, boolean touched, String what) {}

  private static List<Body> bodies() {
    List<Body> out = new ArrayList<>();
    for (String n : new String[] {"openai-chat.json", "responses.json", "embeddings.json"}) {
      out.add(body(n, Feed.fixture(n), UsageParser::json));
    }
    for (String n : new String[] {"openai-chat-stream-usage.sse",
        "openai-chat-stream-no-usage.sse", "deepseek-chat-stream.sse", "responses-stream.sse"}) {
      out.add(body(n, Feed.fixture(n), UsageParser::sse));
    }
    for (String n : new String[] {"anthropic-529.http", "azure-429.http", "gemini-429.http",
        "openai-400.http", "openai-429-insufficient-quota.http", "openai-429-rate-limit.http",
        "openai-503.http"}) {
      out.add(body(n, Feed.httpBody(Feed.fixture(n)), UsageParser::json));
    }
    return out;
  }

  private static Body body(String name, byte[] bytes, Supplier<UsageParser> f) {
    UsageResult original = Feed.run(f, bytes, Feed.Mode.WHOLE, 0);
    int s = lastIndexOf(bytes, "\"usage\":{".getBytes(StandardCharsets.US_ASCII));
    int e = -1;
    if (s >= 0) {
      int depth = 0;
      for (int i = s + 8; i < bytes.length; i++) {
        if (bytes[i] == '{') {
          depth++;
        } else if (bytes[i] == '}' && --depth == 0) {
          e = i + 1;
          break;
        }
      }
      assertTrue(original.reported(), name);
    }
    return new Body(name, bytes, f, original, s, e);
  }

  @Test
  void mutatedFixtures() {
    long started = System.nanoTime();
    int cases = 0;
    for (Body b : bodies()) {
      for (int k = 0; k < CASES_PER_BODY; k++) {
        long seed = BASE_SEED * 1_000_003L + b.name().hashCode() * 10_007L + k;
        runCase(b, seed);
        cases++;
      }
    }
    long ms = (System.nanoTime() - started) / 1_000_000;
    System.out.println("UsageParserFuzzTest: " + cases + " mutated cases in " + ms
        + " ms (base seed " + BASE_SEED + ")");
  }

  private static void runCase(Body b, long seed) {
    Random r = new Random(seed);
    Mutant m = mutate(b, r);
    String ctx = "base seed " + BASE_SEED + ", case seed " + seed + ", " + b.name() + ", "
        + m.what();
    UsageResult whole;
    UsageResult chunked;
    UsageResult bytewise = null;
    try {
      whole = Feed.run(b.factory(), m.bytes(), Feed.Mode.WHOLE, 0);
      UsageParser p = b.factory().get();
      Feed.feedRandom(p, m.bytes(), r, 1 + r.nextInt(r.nextBoolean() ? 16 : 512));
      chunked = p.result();
      if (seed % 8 == 0) {
        bytewise = Feed.run(b.factory(), m.bytes(), Feed.Mode.BYTE_BY_BYTE, 0);
      }
    } catch (Throwable t) {
      fail("threw: " + ctx, t);
      return;
    }
    assertEquals(whole, chunked, "chunking changed the result: " + ctx);
    if (bytewise != null) {
      assertEquals(whole, bytewise, "byte-by-byte changed the result: " + ctx);
    }
    if (chunked.reported()) {
      assertTrue(chunked.promptTokens() >= 0 && chunked.completionTokens() >= 0
          && chunked.totalTokens() >= 0 && chunked.cachedTokens() >= 0
          && chunked.reasoningTokens() >= 0, "negative count: " + ctx + " " + chunked);
      if (!m.touched()) {
        assertEquals(Feed.usageOnly(b.original()), Feed.usageOnly(chunked),
            "damage outside the usage object changed it: " + ctx);
      }
    }
    assertTrue(chunked.events() >= 0, ctx);
  }

  private static Mutant mutate(Body b, Random r) {
    byte[] in = b.bytes();
    int n = in.length;
    int s = b.spanStart();
    int e = b.spanEnd();
    int kind = r.nextInt(11);
    switch (kind) {
      case 0: { // bit flip
        int p = r.nextInt(n);
        byte[] out = in.clone();
        out[p] ^= (byte) (1 << r.nextInt(8));
        return new Mutant(out, hits(s, e, p, p + 1), "bit flip at " + p);
      }
      case 1: { // truncation
        int p = r.nextInt(n);
        return new Mutant(Arrays.copyOf(in, p), s >= 0 && p < e, "truncated at " + p);
      }
      case 2: { // random bytes inserted
        int p = r.nextInt(n + 1);
        byte[] ins = new byte[1 + r.nextInt(4)];
        r.nextBytes(ins);
        return new Mutant(insert(in, p, ins), inside(s, e, p), "inserted "
            + Arrays.toString(ins) + " at " + p);
      }
      case 3: { // deletion
        int p = r.nextInt(n);
        int len = Math.min(n - p, 1 + r.nextInt(8));
        return new Mutant(delete(in, p, len), hits(s, e, p, p + len), "deleted " + len + " at "
            + p);
      }
      case 4: { // byte replaced by a random or a structural byte
        int p = r.nextInt(n);
        byte[] out = in.clone();
        byte[] structural = {'{', '}', '[', ']', ':', ',', '"', '\\', '\n', '\r', ' ', '-', '0'};
        out[p] = r.nextBoolean() ? (byte) r.nextInt(256)
            : structural[r.nextInt(structural.length)];
        return new Mutant(out, hits(s, e, p, p + 1), "byte " + out[p] + " at " + p);
      }
      case 5: { // a number made huge (or negative / fractional)
        List<int[]> runs = digitRuns(in);
        if (runs.isEmpty()) {
          break;
        }
        int[] run = runs.get(r.nextInt(runs.size()));
        String[] forms = {"9".repeat(19 + r.nextInt(30)), "1" + "0".repeat(1000 + r.nextInt(200)),
            "9223372036854775808", "-" + (1 + r.nextInt(99)), "1.5", "1e400", "-0",
            "9223372036854775807"};
        String num = forms[r.nextInt(forms.length)];
        byte[] out = replace(in, run[0], run[1] - run[0], num.getBytes(StandardCharsets.US_ASCII));
        return new Mutant(out, hits(s, e, run[0], run[1]), "number at " + run[0] + " -> "
            + (num.length() > 30 ? num.length() + " digits" : num));
      }
      case 6: { // deep nesting
        int p = r.nextInt(n + 1);
        String unit = r.nextBoolean() ? "[" : "{\"a\":";
        byte[] ins = unit.repeat(60 + r.nextInt(3000)).getBytes(StandardCharsets.US_ASCII);
        return new Mutant(insert(in, p, ins), inside(s, e, p), "nesting x" + ins.length / unit
            .length() + " " + unit + " at " + p);
      }
      case 7: { // invalid UTF-8
        int p = r.nextInt(n + 1);
        byte[] ins = INVALID_UTF8[r.nextInt(INVALID_UTF8.length)];
        return new Mutant(insert(in, p, ins), inside(s, e, p), "invalid UTF-8 "
            + Arrays.toString(ins) + " at " + p);
      }
      case 8: { // a segment duplicated elsewhere
        int a = r.nextInt(n);
        int len = Math.min(n - a, 1 + r.nextInt(64));
        int p = r.nextInt(n + 1);
        byte[] seg = Arrays.copyOfRange(in, a, a + len);
        boolean touched = inside(s, e, p) || hits(s, e, a, a + len);
        return new Mutant(insert(in, p, seg), touched, "copied [" + a + "," + (a + len) + ") to "
            + p);
      }
      case 9: { // several replacements
        byte[] out = in.clone();
        boolean touched = false;
        int count = 2 + r.nextInt(3);
        for (int i = 0; i < count; i++) {
          int p = r.nextInt(n);
          out[p] = (byte) r.nextInt(256);
          touched |= hits(s, e, p, p + 1);
        }
        return new Mutant(out, touched, count + " random bytes");
      }
      default: { // line endings changed or doubled, or two bytes swapped
        int p = r.nextInt(n - 1);
        byte[] out = in.clone();
        byte t = out[p];
        out[p] = out[p + 1];
        out[p + 1] = t;
        return new Mutant(out, hits(s, e, p, p + 2), "swapped " + p + "," + (p + 1));
      }
    }
    return new Mutant(in.clone(), false, "unchanged");
  }

  /** Random soup of SSE and JSON fragments, for the SSE state machine and the scan. */
  @Test
  void fragmentSoup() {
    String[] parts = {"data:", "data: ", "event: error", "event:", ":", "\n", "\r", "\r\n", "\n\n",
        "{", "}", "[", "]", "\"usage\"", "\"usage\":{", "\"prompt_tokens\":", "\"total_tokens\":",
        "\"finish_reason\":", "\"error\":", "\"type\":\"response.completed\"", "\"model\":\"m\"",
        "null", "1", "-1", "99999999999999999999", ",", ":", "\"", "\\", "[DONE]", "\u00e9",
        "\ud83c\udf89", " ", "\"response\":{", "\"choices\":[{", "id: 3", "retry: 1"};
    long started = System.nanoTime();
    for (int k = 0; k < 1000; k++) {
      long seed = BASE_SEED * 7 + k;
      Random r = new Random(seed);
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      int count = 1 + r.nextInt(120);
      for (int i = 0; i < count; i++) {
        out.writeBytes(parts[r.nextInt(parts.length)].getBytes(StandardCharsets.UTF_8));
      }
      byte[] bytes = out.toByteArray();
      for (Supplier<UsageParser> f : List.<Supplier<UsageParser>>of(UsageParser::sse,
          UsageParser::json)) {
        String ctx = "base seed " + BASE_SEED + ", soup seed " + seed + ": "
            + new String(bytes, StandardCharsets.UTF_8);
        try {
          UsageResult whole = Feed.run(f, bytes, Feed.Mode.WHOLE, 0);
          UsageParser p = f.get();
          Feed.feedRandom(p, bytes, r, 1 + r.nextInt(32));
          UsageResult chunked = p.result();
          assertEquals(whole, chunked, ctx);
          if (whole.reported()) {
            assertTrue(whole.promptTokens() >= 0 && whole.totalTokens() >= 0, ctx);
          }
        } catch (AssertionError a) {
          throw a;
        } catch (Throwable t) {
          fail("threw: " + ctx, t);
        }
      }
    }
    System.out.println("UsageParserFuzzTest: fragment soup in "
        + (System.nanoTime() - started) / 1_000_000 + " ms");
  }

  // --- helpers ---------------------------------------------------------------------------------

  /** [a, b) overlaps the span. */
  private static boolean hits(int s, int e, int a, int b) {
    return s >= 0 && a < e && b > s;
  }

  /** An insertion at p lands strictly inside the span. */
  private static boolean inside(int s, int e, int p) {
    return s >= 0 && p > s && p < e;
  }

  private static byte[] insert(byte[] in, int p, byte[] ins) {
    return replace(in, p, 0, ins);
  }

  private static byte[] delete(byte[] in, int p, int len) {
    return replace(in, p, len, new byte[0]);
  }

  private static byte[] replace(byte[] in, int p, int len, byte[] with) {
    byte[] out = new byte[in.length - len + with.length];
    System.arraycopy(in, 0, out, 0, p);
    System.arraycopy(with, 0, out, p, with.length);
    System.arraycopy(in, p + len, out, p + with.length, in.length - p - len);
    return out;
  }

  private static List<int[]> digitRuns(byte[] in) {
    List<int[]> runs = new ArrayList<>();
    int i = 0;
    while (i < in.length) {
      if (in[i] >= '0' && in[i] <= '9') {
        int j = i;
        while (j < in.length && in[j] >= '0' && in[j] <= '9') {
          j++;
        }
        runs.add(new int[] {i, j});
        i = j;
      } else {
        i++;
      }
    }
    return runs;
  }

  private static int lastIndexOf(byte[] hay, byte[] needle) {
    outer:
    for (int i = hay.length - needle.length; i >= 0; i--) {
      for (int j = 0; j < needle.length; j++) {
        if (hay[i + j] != needle[j]) {
          continue outer;
        }
      }
      return i;
    }
    return -1;
  }
}
