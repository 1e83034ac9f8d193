package io.github.llmpool.internal.usage;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import org.junit.jupiter.api.Test;

/** Factories, argument handling, repeatability, and that caller arrays are not retained. */
class UsageParserApiTest {

  @Test
  void forContentType() {
    String[] sse = {"text/event-stream", "text/event-stream; charset=utf-8", " Text/Event-Stream "};
    String[] json = {"application/json", "application/json; charset=utf-8", "APPLICATION/JSON",
        "application/problem+json", "application/vnd.api+json", "text/json",
        "application/x-json"};
    String[] none = {null, "", "text/plain", "application/x-ndjson", "application/jsonl",
        "application/json-seq", "text/html", "application/octet-stream", "json", "/json",
        "application/jsonx", "text/event-streams"};
    for (String s : sse) {
      assertEquals("UsageParser[sse]", UsageParser.forContentType(s).toString(), s);
      assertTrue(UsageParser.forContentType(s).isStreaming(), s);
    }
    for (String s : json) {
      assertEquals("UsageParser[json]", UsageParser.forContentType(s).toString(), s);
      assertFalse(UsageParser.forContentType(s).isStreaming(), s);
    }
    for (String s : none) {
      assertEquals("UsageParser[none]", UsageParser.forContentType(s).toString(), s);
    }
  }

  @Test
  void noneNeverReports() {
    UsageParser p = UsageParser.none();
    assertFalse(p.isStreaming());
    assertFalse(p.firstTokenSeen());
    byte[] body = Feed.fixture("openai-chat.json");
    p.accept(body, 0, body.length);
    assertTrue(p.firstTokenSeen());
    assertEquals(new UsageResult(false, 0, 0, 0, 0, 0, null, false, false, false, false, 0),
        p.result());
    UsageParser nd = UsageParser.forContentType("application/x-ndjson");
    nd.accept(body, 0, body.length);
    assertFalse(nd.result().reported());
  }

  @Test
  void badArgumentsAreIgnored() {
    for (UsageParser p : new UsageParser[] {UsageParser.json(), UsageParser.sse(),
        UsageParser.none()}) {
      byte[] b = Feed.utf8("data: {}\n\n");
      p.accept(null, 0, 3);
      p.accept(b, -1, 2);
      p.accept(b, 0, -1);
      p.accept(b, 5, b.length);
      p.accept(b, Integer.MAX_VALUE, 1);
      p.accept(b, b.length, 0);
      assertFalse(p.firstTokenSeen());
      assertFalse(p.result().reported());
      assertFalse(p.result().malformed());
    }
  }

  @Test
  void callerArraysAreNotRetained() {
    for (String name : new String[] {"openai-chat.json", "openai-chat-stream-usage.sse",
        "responses-stream.sse"}) {
      byte[] body = Feed.fixture(name);
      UsageResult expected = Feed.run(
          name.endsWith(".sse") ? UsageParser::sse : UsageParser::json, body, Feed.Mode.WHOLE, 0);
      // one shared scratch array, reused and overwritten between calls, like an I/O buffer
      UsageParser p = name.endsWith(".sse") ? UsageParser.sse() : UsageParser.json();
      byte[] scratch = new byte[13];
      for (int i = 0; i < body.length; i += 13) {
        int n = Math.min(13, body.length - i);
        System.arraycopy(body, i, scratch, 0, n);
        p.accept(scratch, 0, n);
        Arrays.fill(scratch, (byte) '[');
      }
      assertEquals(expected, p.result(), name);
    }
  }

  @Test
  void resultIsRepeatableMidStream() {
    byte[] body = Feed.fixture("openai-chat-stream-usage.sse");
    UsageParser p = UsageParser.sse();
    UsageResult last = null;
    for (int i = 0; i < body.length; i++) {
      p.accept(body, i, 1);
      UsageResult a = p.result();
      assertEquals(a, p.result());
      if (last != null) {
        assertTrue(a.events() >= last.events());
      }
      last = a;
    }
    assertEquals(Feed.run(UsageParser::sse, body, Feed.Mode.WHOLE, 0), last);
  }
}
