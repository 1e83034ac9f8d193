package io.github.llmpool.internal.usage;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import org.junit.jupiter.api.Test;

/** JSON bodies: shapes, damage and limits. */
class JsonBodyTest {

  private static final String CHAT = "{\"id\":\"x\",\"model\":\"m\",\"choices\":[{\"index\":0,"
      + "\"message\":{\"role\":\"assistant\",\"content\":\"hi\"},\"finish_reason\":\"stop\"}],"
      + "\"usage\":{\"prompt_tokens\":3,\"completion_tokens\":4,\"total_tokens\":7,"
      + "\"prompt_tokens_details\":{\"cached_tokens\":1},\"completion_tokens_details\":"
      + "{\"reasoning_tokens\":2}}}";

  private static UsageResult all(String body) {
    return all(Feed.utf8(body));
  }

  /** All three feeding modes, asserted to agree. */
  private static UsageResult all(byte[] body) {
    UsageResult whole = Feed.run(UsageParser::json, body, Feed.Mode.WHOLE, 0);
    assertEquals(whole, Feed.run(UsageParser::json, body, Feed.Mode.BYTE_BY_BYTE, 0), "bytewise");
    for (long seed = 1; seed <= 5; seed++) {
      assertEquals(whole, Feed.run(UsageParser::json, body, Feed.Mode.RANDOM_CHUNKS, seed),
          "seed " + seed);
    }
    return whole;
  }

  @Test
  void chatCompletion() {
    assertEquals(Feed.with(new UsageResult(true, 3, 4, 7, 1, 2, "m", false, true, false, false, 0), "x", "stop"),
        all(CHAT));
    // usage before model, whitespace everywhere
    assertEquals(new UsageResult(true, 3, 0, 3, 0, 0, "m", false, true, false, false, 0),
        all(" \r\n\t{ \"usage\" : { \"prompt_tokens\" : 3 , \"total_tokens\" : 3 } ,\n"
            + " \"model\" : \"m\" }\n"));
  }

  @Test
  void onlyTopLevelFieldsCount() {
    UsageResult r = all("{\"data\":{\"model\":\"inner\",\"usage\":{\"total_tokens\":5},"
        + "\"error\":{\"x\":1}},\"list\":[{\"usage\":{\"total_tokens\":6}}],\"model\":\"outer\"}");
    assertEquals(new UsageResult(false, 0, 0, 0, 0, 0, "outer", false, true, false, false, 0), r);
  }

  @Test
  void topLevelError() {
    assertTrue(all("{\"error\":{\"message\":\"bad\"}}").errorEvent());
    assertTrue(all("{\"error\":\"bad\"}").errorEvent());
    assertTrue(all("[{\"error\":{\"code\":429}}]").errorEvent());
    // Responses bodies carry "error": null on success
    UsageResult ok = all("{\"object\":\"response\",\"error\":null,\"model\":\"m\",\"usage\":"
        + "{\"input_tokens\":1,\"output_tokens\":2,\"total_tokens\":3}}");
    assertEquals(new UsageResult(true, 1, 2, 3, 0, 0, "m", false, true, false, false, 0), ok);
  }

  @Test
  void truncatedBody() {
    int cut = CHAT.indexOf("\"total_tokens\"");
    UsageResult r = all(CHAT.substring(0, cut));
    assertEquals(Feed.with(new UsageResult(false, 0, 0, 0, 0, 0, "m", false, false, false, false, 0), "x", "stop"), r);
    // cut after the usage object closed: usage stays, not terminated
    String early = "{\"usage\":{\"prompt_tokens\":1,\"total_tokens\":1},\"model\":\"m\",\"x\":[1,2";
    assertEquals(new UsageResult(true, 1, 0, 1, 0, 0, "m", false, false, false, false, 0),
        all(early));
  }

  @Test
  void emptyAndGarbage() {
    UsageParser p = UsageParser.json();
    assertEquals(new UsageResult(false, 0, 0, 0, 0, 0, null, false, false, false, false, 0),
        p.result());
    assertFalse(p.firstTokenSeen());
    p.accept(new byte[] {' '}, 0, 1);
    assertTrue(p.firstTokenSeen());

    for (String g : new String[] {"<html><body>502 Bad Gateway</body></html>", "}", "{]",
"{\"a\":tru}", "{'usage':{}}", "\u0000\u0000",
        "{\"a\":1}}", "upstream connect error"}) {
      UsageResult r = all(g);
      assertFalse(r.reported(), g);
      assertEquals(!g.equals("{\"a\":1}}"), r.malformed(), g);
    }
    byte[] junk = new byte[10_000];
    new Random(9).nextBytes(junk);
    assertFalse(all(junk).reported());
  }

  @Test
  void trailingCommasAreTolerated() {
    // Jackson's non-blocking parser lets "1,}" pass at some split points; tolerating trailing
    // commas always keeps the result independent of the chunking.
    assertEquals(new UsageResult(true, 1, 0, 2, 0, 0, null, false, true, false, false, 0),
        all("{\"usage\":{\"prompt_tokens\":1,\"total_tokens\":2,},\"x\":[1,],}"));
    assertTrue(all("{\"usage\":{\"total_tokens\":1,,}}").malformed());
  }

  @Test
  void contentAfterTheRootValueIsIgnored() {
    UsageResult r = all(CHAT + "\n{\"usage\":{\"total_tokens\":999}} garbage \u0000");
    assertEquals(Feed.with(new UsageResult(true, 3, 4, 7, 1, 2, "m", false, true, false, false, 0), "x", "stop"), r);
  }

  @Test
  void scalarAndArrayRoots() {
    assertTrue(all("[]").terminated());
    assertTrue(all("\"text\"").terminated());
    assertTrue(all("null ").terminated()); // a root literal ends at the next delimiter
    assertFalse(all("[1,2").terminated());
  }

  @Test
  void usageNumbers() {
    String[] bad = {"99999999999999999999", "9223372036854775808", "-1", "2.0", "1E2"};
    for (String n : bad) {
      UsageResult r = all("{\"model\":\"m\",\"usage\":{\"prompt_tokens\":" + n
          + ",\"total_tokens\":1}}");
      assertEquals(new UsageResult(false, 0, 0, 0, 0, 0, "m", false, false, false, true, 0), r, n);
    }
    assertEquals(Long.MAX_VALUE, all("{\"usage\":{\"total_tokens\":9223372036854775807}}")
        .totalTokens());
    // over the default number length limit (1000 digits): malformed wherever it is
    UsageResult longNum = all("{\"created\":" + "9".repeat(1001) + ",\"usage\":"
        + "{\"total_tokens\":1}}");
    assertFalse(longNum.reported());
    assertTrue(longNum.malformed());
    // big but legal numbers outside usage are not even converted
    UsageResult big = all("{\"created\":" + "9".repeat(500) + ",\"x\":1e400,\"usage\":"
        + "{\"total_tokens\":1}}");
    assertTrue(big.reported());
    assertFalse(big.malformed());
    // nulls and non-numbers are absent; an empty usage object is no report
    assertEquals(new UsageResult(true, 0, 0, 5, 0, 0, null, false, true, false, false, 0),
        all("{\"usage\":{\"prompt_tokens\":null,\"completion_tokens\":\"2\",\"total_tokens\":5,"
            + "\"prompt_tokens_details\":null,\"completion_tokens_details\":"
            + "{\"reasoning_tokens\":null}}}"));
    assertFalse(all("{\"usage\":{}}").reported());
    assertFalse(all("{\"usage\":null}").reported());
    assertFalse(all("{\"usage\":[1]}").reported());
  }

  @Test
  void deepNesting() {
    UsageResult deep = all("{\"x\":" + "[".repeat(100_000));
    assertFalse(deep.reported());
    assertTrue(deep.malformed());
    // usage read before the deep part is kept
    UsageResult after = all("{\"usage\":{\"total_tokens\":4},\"x\":" + "{\"a\":".repeat(100)
        + "1" + "}".repeat(100) + "}");
    assertEquals(new UsageResult(true, 0, 0, 4, 0, 0, null, false, false, false, true, 0), after);
    // 64 levels are allowed
    String ok = "{\"x\":" + "[".repeat(63) + "]".repeat(63) + ",\"usage\":{\"total_tokens\":4}}";
    assertEquals(new UsageResult(true, 0, 0, 4, 0, 0, null, false, true, false, false, 0),
        all(ok));
    String over = "{\"x\":" + "[".repeat(64) + "]".repeat(64) + ",\"usage\":{\"total_tokens\":4}}";
    assertTrue(all(over).malformed());
  }

  @Test
  void invalidUtf8() {
    byte[][] bad = {{(byte) 0xFF}, {(byte) 0xC3, (byte) 0x28}, {(byte) 0xE2, (byte) 0x82},
        {(byte) 0xED, (byte) 0xA0, (byte) 0x80}, {(byte) 0x80}, {(byte) 0xF8, (byte) 0x88,
        (byte) 0x80, (byte) 0x80, (byte) 0x80}};
    for (byte[] b : bad) {
      byte[] body = SseStreamTest.concat(Feed.utf8("{\"model\":\"m\",\"content\":\"a"), b,
          Feed.utf8("b\",\"usage\":{\"total_tokens\":1}}"));
      UsageResult r = all(body);
      assertFalse(r.reported());
      assertTrue(r.malformed());
      assertEquals("m", r.servedModel());
    }
    // valid multi-byte text everywhere, split at every byte
    byte[] body = Feed.utf8("{\"model\":\"世界-🎉\",\"content\":\"héllo\",\"usage\":"
        + "{\"total_tokens\":1}}");
    UsageResult r = all(body);
    assertEquals("世界-🎉", r.servedModel());
    assertTrue(r.reported());
    for (int i = 0; i <= body.length; i++) {
      UsageParser p = UsageParser.json();
      p.accept(body, 0, i);
      p.accept(body, i, body.length - i);
      assertEquals(r, p.result(), "split " + i);
    }
  }

  @Test
  void largeBodyIsStreamedThrough() {
    StringBuilder sb = new StringBuilder("{\"object\":\"list\",\"data\":[");
    for (int i = 0; i < 3000; i++) {
      sb.append(i == 0 ? "" : ",").append("{\"object\":\"embedding\",\"index\":").append(i)
          .append(",\"embedding\":[");
      for (int j = 0; j < 64; j++) {
        sb.append(j == 0 ? "" : ",").append("-0.0").append(1000 + i + j);
      }
      sb.append("]}");
    }
    sb.append("],\"model\":\"e\",\"usage\":{\"prompt_tokens\":3000,\"total_tokens\":3000}}");
    byte[] body = Feed.utf8(sb.toString());
    UsageParser p = UsageParser.json();
    Feed.feedRandom(p, body, new Random(2), 4096);
    assertEquals(new UsageResult(true, 3000, 0, 3000, 0, 0, "e", false, true, false, false, 0),
        p.result());
  }

  @Test
  void errorBodyWithoutUsage() {
    UsageResult r = all("{\"type\":\"error\",\"error\":{\"type\":\"overloaded_error\"}}");
    assertEquals(new UsageResult(false, 0, 0, 0, 0, 0, null, false, true, true, false, 0), r);
    assertNull(r.servedModel());
  }
}
