package io.github.llmpool.internal.usage;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Answers with huge strings (past Jackson's default 20 M characters, past the SSE event buffer)
 * report their usage exactly, and the parser's memory does not grow with them.
 */
class LargeValueTest {
  /** Jackson's default {@code StreamReadConstraints.maxStringLength}. */
  static final int JACKSON_DEFAULT_MAX_STRING = 20_000_000;

  static final String USAGE = "\"usage\":{\"prompt_tokens\":11,\"completion_tokens\":5000001,"
      + "\"total_tokens\":5000012,\"prompt_tokens_details\":{\"cached_tokens\":3},"
      + "\"completion_tokens_details\":{\"reasoning_tokens\":7}}";

  /**
   * JSON string content of at least {@code chars} characters of JSON text (about 0.72 characters
   * once decoded): ASCII, escapes, raw multi-byte UTF-8, surrogate pairs.
   */
  static String content(int chars) {
    String unit = "lorem ipsum \\\"quoted\\\" back\\\\slash caf\u00e9 \u4e16\u754c \ud83c\udf89 \\u00e9 \\ud83d\\ude00 \\n ";
    StringBuilder sb = new StringBuilder(chars + unit.length());
    while (sb.length() < chars) {
      sb.append(unit);
    }
    return sb.toString();
  }

  static byte[] chatJson(String content, boolean usageFirst) {
    String head = "{\"id\":\"chatcmpl-big\",\"object\":\"chat.completion\",\"model\":\"m-big\"," + (usageFirst ? USAGE + "," : "")
        + "\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\",\"content\":\"";
    String tail = "\"},\"finish_reason\":\"length\"}]" + (usageFirst ? "" : "," + USAGE) + "}";
    return (head + content + tail).getBytes(StandardCharsets.UTF_8);
  }

  static final UsageResult JSON_EXPECTED =
      Feed.with(new UsageResult(true, 11, 5000001, 5000012, 3, 7, "m-big", false, true, false, false, 0),
          "chatcmpl-big", "length");
  /** The same usage from a body without an id or choices. */
  static final UsageResult JSON_NO_ID = Feed.with(JSON_EXPECTED, null);

  static void feedChunks(UsageParser p, byte[] body, int chunk) {
    for (int i = 0; i < body.length; i += chunk) {
      p.accept(body, i, Math.min(chunk, body.length - i));
    }
  }

  @Test
  void jsonAnswerWithAContentStringPastJacksonsDefaultLimitReportsItsUsage() throws Exception {
    String content = content(30_000_000); // about 21.7 M characters decoded
    for (boolean usageFirst : new boolean[] {false, true}) {
      byte[] body = chatJson(content, usageFirst);
      UsageParser whole = UsageParser.json();
      whole.accept(body, 0, body.length);
      assertEquals(JSON_EXPECTED, whole.result(), "whole, usage first " + usageFirst);
      UsageParser chunked = UsageParser.json();
      feedChunks(chunked, body, 65_536);
      assertEquals(JSON_EXPECTED, chunked.result(), "64 KiB chunks, usage first " + usageFirst);
    }
    // random cuts over a smaller one, so that every kind of split inside the string happens
    byte[] body = chatJson(content(3_000_000), false);
    UsageParser random = UsageParser.json();
    Feed.feedRandom(random, body, new Random(8), 3_000);
    assertEquals(JSON_EXPECTED, random.result());
    escapesAndMultiByteCharactersAtEveryOffsetOfLongStrings();
    sameAsTheBlockingParserOnRandomDocuments();
  }

  private static void escapesAndMultiByteCharactersAtEveryOffsetOfLongStrings() {
    // Strings of every length around a few KiB, each ending in a tricky sequence, so whatever
    // the parser does with long strings, it meets escapes and UTF-8 at every offset.
    String[] tricky = {"\\u00e9", "\\ud83d\\ude00", "\u00e9", "\ud83c\udf89", "\u4e16", "\\\"", "\\\\", "\\n"};
    StringBuilder sb = new StringBuilder("{\"model\":\"m-big\",\"pad\":[");
    for (int len = 4_000; len < 20_000; len += 997) {
      for (String t : tricky) {
        for (int shift = 0; shift < 8; shift++) {
          sb.append('"').append("a".repeat(len + shift)).append(t).append("b".repeat(len)).append("\",");
        }
      }
    }
    sb.append("0],").append(USAGE).append('}');
    byte[] body = sb.toString().getBytes(StandardCharsets.UTF_8);
    assertEquals(JSON_NO_ID, Feed.run(UsageParser::json, body, Feed.Mode.WHOLE, 0));
    UsageParser p = UsageParser.json();
    Feed.feedRandom(p, body, new Random(2), 5_000);
    assertEquals(JSON_NO_ID, p.result());
    // and damage inside a long string is still damage when the parser reads that part
    byte[] broken = ("{\"model\":\"m\",\"x\":\"" + "a".repeat(10) + "\u0001" + "\"," + USAGE + "}")
        .getBytes(StandardCharsets.UTF_8);
    assertTrue(Feed.run(UsageParser::json, broken, Feed.Mode.WHOLE, 0).malformed());
  }

  // Random documents with strings around and far past JsonFeed.KEEP (escapes, surrogate pairs,
  // multi-byte UTF-8, JSON punctuation inside strings), long member names included: the
  // non-blocking path must read exactly what a blocking parse of the whole document reads.

  private static String randomString(Random r) {
    int len = r.nextInt(4) == 0 ? r.nextInt(50) : JsonFeed.KEEP - 20 + r.nextInt(60);
    if (r.nextInt(10) == 0) len = r.nextInt(30_000);
    StringBuilder sb = new StringBuilder("\"");
    String[] atoms = {"a", "\\\"", "\\\\", "\\n", "\\u00e9", "\\ud83d\\ude00", "\u00e9", "\u4e16", "\ud83c\udf89", "\\/", " ", ":", ",", "{", "}", "[", "]"};
    int bytes = 0;
    while (bytes < len) {
      String a = atoms[r.nextInt(atoms.length)];
      sb.append(a);
      bytes += a.getBytes(StandardCharsets.UTF_8).length;
    }
    return sb.append('"').toString();
  }

  private static String value(Random r, int depth) {
    int k = r.nextInt(depth > 4 ? 3 : 6);
    switch (k) {
      case 0: return randomString(r);
      case 1: return String.valueOf(r.nextInt(1000));
      case 2: return r.nextBoolean() ? "true" : "null";
      case 3: { StringBuilder sb = new StringBuilder("["); int n = r.nextInt(4); for (int i = 0; i < n; i++) { if (i > 0) sb.append(','); sb.append(value(r, depth + 1)); } return sb.append(']').toString(); }
      default: { StringBuilder sb = new StringBuilder("{"); int n = r.nextInt(4); for (int i = 0; i < n; i++) { if (i > 0) sb.append(','); sb.append(randomString(r)).append(':').append(value(r, depth + 1)); } return sb.append('}').toString(); }
    }
  }

  /** The whole document through the blocking parser (which skips strings without shortening them). */
  private static UsageResult reference(byte[] b) throws Exception {
    Acc acc = new Acc();
    UsageWalker w = new UsageWalker(false, true);
    w.reset(acc);
    try (JsonParser p = UsageWalker.FACTORY.createParser(b)) {
      JsonToken t;
      while ((t = p.nextToken()) != null) {
        int res = w.token(t, p);
        if (res == UsageWalker.DONE) { acc.terminated = true; break; }
        if (res == UsageWalker.INVALID) { acc.malformed = true; break; }
      }
    }
    return acc.toResult(false);
  }

  private static void sameAsTheBlockingParserOnRandomDocuments() throws Exception {
    Random r = new Random(42);
    for (int c = 0; c < 200; c++) {
      String model = r.nextBoolean() ? "\"m-" + c + "\"" : randomString(new Random(c)).substring(0, 1) + "m\\u00e9" + c + "\"";
      StringBuilder sb = new StringBuilder("{");
      int n = 1 + r.nextInt(5);
      int usageAt = r.nextInt(n + 1), modelAt = r.nextInt(n + 1);
      for (int i = 0; i <= n; i++) {
        if (i == usageAt) sb.append("\"usage\":{\"prompt_tokens\":").append(c).append(",\"total_tokens\":").append(c + 1).append("},");
        if (i == modelAt) sb.append("\"model\":").append(model).append(',');
        sb.append(randomString(r)).append(':').append(value(r, 0)).append(',');
      }
      sb.append("\"z\":0}");
      byte[] b = sb.toString().getBytes(StandardCharsets.UTF_8);
      UsageResult ref = reference(b);
      assertEquals(false, ref.malformed(), "case " + c);
      UsageParser p = UsageParser.json();
      Feed.feedRandom(p, b, new Random(c), 1 + r.nextInt(20_000));
      assertEquals(ref, p.result(), "case " + c);
      if (c % 100 == 0) {
        // as an SSE event over the buffer: whole (in place, blocking parser) vs cut (JsonFeed)
        String ev = "data: {\"pad\":\"" + "p".repeat(SseEngine.MAX_EVENT) + "\"," + sb.substring(1) + "\n\ndata: [DONE]\n\n";
        byte[] e = ev.getBytes(StandardCharsets.UTF_8);
        UsageParser whole = UsageParser.sse();
        whole.accept(e, 0, e.length);
        UsageParser cut = UsageParser.sse();
        Feed.feedRandom(cut, e, new Random(c), 1 + r.nextInt(70_000));
        assertEquals(whole.result(), cut.result(), "sse case " + c);
        assertEquals(false, whole.result().malformed(), "sse case " + c);
      }
    }
  }

  @Test
  void longNamesAndValuesAnywhereOutsideTheUsageAreHarmless() {
    String longName = "n".repeat(200_000); // Jackson's default name limit is 50,000
    String s = "{\"model\":\"m-big\",\"extra\":{\"" + longName + "\":[\"" + "v".repeat(300_000) + "\",{\"" + longName
        + "x\":1}]},\"" + longName + "\":\"" + "w".repeat(100_000) + "\"," + USAGE + "}";
    byte[] body = s.getBytes(StandardCharsets.UTF_8);
    for (Feed.Mode m : new Feed.Mode[] {Feed.Mode.WHOLE, Feed.Mode.RANDOM_CHUNKS}) {
      assertEquals(JSON_NO_ID, Feed.run(UsageParser::json, body, m, 4), m.name());
    }
  }

  @Test
  void memoryDoesNotGrowWithTheString() {
    // 200 MB of content through one parser: what it allocates must not depend on that.
    com.sun.management.ThreadMXBean mx = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
    byte[] head = "{\"model\":\"m-big\",\"choices\":[{\"message\":{\"content\":\"".getBytes(StandardCharsets.UTF_8);
    byte[] tail = ("\"}}]," + USAGE + "}").getBytes(StandardCharsets.UTF_8);
    byte[] chunk = content(40_000).getBytes(StandardCharsets.UTF_8); // whole units: valid on its own
    int repeats = 200_000_000 / chunk.length;
    UsageParser warm = UsageParser.json(); // load classes and the recycled buffers first
    warm.accept(head, 0, head.length);
    warm.accept(chunk, 0, chunk.length);
    long id = Thread.currentThread().getId();
    long before = mx.getThreadAllocatedBytes(id);
    UsageParser p = UsageParser.json();
    p.accept(head, 0, head.length);
    for (int i = 0; i < repeats; i++) {
      p.accept(chunk, 0, chunk.length);
    }
    p.accept(tail, 0, tail.length);
    long allocated = mx.getThreadAllocatedBytes(id) - before;
    assertEquals(JSON_NO_ID, p.result());
    assertTrue(allocated < 4_000_000, "allocated " + allocated + " bytes for " + (long) repeats * chunk.length
        + " bytes of content");
  }

  // ------------------------------------------------------------------------------------ SSE

  static byte[] sse(String... events) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    for (String e : events) {
      byte[] b = e.getBytes(StandardCharsets.UTF_8);
      out.write(b, 0, b.length);
    }
    return out.toByteArray();
  }

  @Test
  void responsesStreamWhoseCompletedEventCarriesAHugeAnswerReportsItsUsage() {
    String text = content(30_000_000);
    byte[] body = sse(
        "event: response.created\ndata: {\"type\":\"response.created\",\"response\":{\"id\":\"r\",\"model\":\"gpt-big\","
            + "\"output\":[],\"usage\":null}}\n\n",
        "event: response.output_text.delta\ndata: {\"type\":\"response.output_text.delta\",\"delta\":\"Hi\"}\n\n",
        "event: response.completed\ndata: {\"type\":\"response.completed\",\"response\":{\"id\":\"r\",\"model\":\"gpt-big\","
            + "\"status\":\"completed\",\"output\":[{\"type\":\"message\",\"content\":[{\"type\":\"output_text\",\"text\":\""
            + text + "\",\"annotations\":[]}]}],\"usage\":{\"input_tokens\":37,\"input_tokens_details\":{\"cached_tokens\":5},"
            + "\"output_tokens\":6000000,\"output_tokens_details\":{\"reasoning_tokens\":9},\"total_tokens\":6000037}}}\n\n");
    UsageResult expected = Feed.with(new UsageResult(true, 37, 6000000, 6000037, 5, 9, "gpt-big", true, true, false, false, 3), "r", "completed");
    UsageParser whole = UsageParser.sse();
    whole.accept(body, 0, body.length);
    assertEquals(expected, whole.result());
    UsageParser chunked = UsageParser.sse();
    feedChunks(chunked, body, 8_192);
    assertEquals(expected, chunked.result());
    // the stream cut before the completed event's blank line: taken into account (its JSON is whole)
    UsageParser open = UsageParser.sse();
    feedChunks(open, java.util.Arrays.copyOf(body, body.length - 2), 8_192);
    assertEquals(expected, open.result());
    // cut inside it: not yet received (and not malformed), as for a small event
    UsageParser cut = UsageParser.sse();
    feedChunks(cut, java.util.Arrays.copyOf(body, body.length - 1_000), 8_192);
    assertEquals(Feed.with(new UsageResult(false, 0, 0, 0, 0, 0, "gpt-big", true, false, false, false, 2), "r"), cut.result());
  }

  @Test
  void chatChunkWithAHugeDeltaAndItsUsageReportsIt() {
    String delta = content(SseEngine.MAX_EVENT * 3);
    String chunk = "data: {\"id\":\"c\",\"model\":\"ds\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"" + delta
        + "\"},\"finish_reason\":\"stop\"}],\"usage\":{\"prompt_tokens\":4,\"completion_tokens\":900000,"
        + "\"total_tokens\":900004,\"prompt_cache_hit_tokens\":2}}\n\n";
    UsageResult expected = Feed.with(new UsageResult(true, 4, 900000, 900004, 2, 0, "ds", true, true, false, false, 2),
        "c", "stop");
    byte[] body = sse("data: {\"id\":\"c\",\"model\":\"ds\",\"choices\":[{\"delta\":{\"role\":\"assistant\"}}]}\n\n", chunk);
    for (int size : new int[] {body.length, 65_536, 1_000}) {
      UsageParser p = UsageParser.sse();
      feedChunks(p, body, size);
      assertEquals(expected, p.result(), "chunks of " + size);
    }
    UsageParser random = UsageParser.sse();
    Feed.feedRandom(random, body, new Random(3), 20_000);
    assertEquals(expected, random.result());
    // the same over several data lines (joined with LF, which JSON takes as whitespace)
    String lines = "data: {\"id\":\"c\",\"model\":\"ds\",\n" + ("data: \"pad\":\"" + "z".repeat(100_000) + "\",\n").repeat(30)
        + "data: \"usage\":{\"prompt_tokens\":4,\"completion_tokens\":900000,\"total_tokens\":900004}}\n\n";
    UsageParser multi = UsageParser.sse();
    feedChunks(multi, sse(lines), 4_096);
    assertEquals(Feed.with(new UsageResult(true, 4, 900000, 900004, 0, 0, "ds", true, false, false, false, 1), "c"),
        multi.result());
  }
}
