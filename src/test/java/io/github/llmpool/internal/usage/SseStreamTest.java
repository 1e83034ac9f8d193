package io.github.llmpool.internal.usage;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

/** SSE framing and stream semantics. */
class SseStreamTest {

  private static final String C1 =
      "{\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"model\":\"m1\",\"choices\":[{\"index\":0,"
          + "\"delta\":{\"content\":\"a\"},\"finish_reason\":null}],\"usage\":null}";
  private static final String C2 =
      "{\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"model\":\"m2\",\"choices\":[{\"index\":0,"
          + "\"delta\":{\"content\":\"b\"},\"finish_reason\":null}],\"usage\":null}";
  private static final String STOP =
      "{\"id\":\"c\",\"model\":\"m1\",\"choices\":[{\"index\":0,\"delta\":{},"
          + "\"finish_reason\":\"stop\"}],\"usage\":null}";
  private static final String USAGE =
      "{\"id\":\"c\",\"model\":\"m1\",\"choices\":[],\"usage\":{\"prompt_tokens\":5,"
          + "\"completion_tokens\":7,\"total_tokens\":12,\"prompt_tokens_details\":"
          + "{\"cached_tokens\":3},\"completion_tokens_details\":{\"reasoning_tokens\":4}}}";

  private static UsageResult all(String body) {
    return all(Feed.utf8(body));
  }

  /** Runs all three feeding modes, asserts they agree, returns the result. */
  private static UsageResult all(byte[] body) {
    UsageResult whole = Feed.run(UsageParser::sse, body, Feed.Mode.WHOLE, 0);
    assertEquals(whole, Feed.run(UsageParser::sse, body, Feed.Mode.BYTE_BY_BYTE, 0), "bytewise");
    for (long seed = 1; seed <= 5; seed++) {
      assertEquals(whole, Feed.run(UsageParser::sse, body, Feed.Mode.RANDOM_CHUNKS, seed),
          "seed " + seed);
    }
    return whole;
  }

  private static void assertUsage(UsageResult r, long p, long c, long t, long cached, long rs) {
    assertTrue(r.reported(), r.toString());
    assertEquals(p, r.promptTokens());
    assertEquals(c, r.completionTokens());
    assertEquals(t, r.totalTokens());
    assertEquals(cached, r.cachedTokens());
    assertEquals(rs, r.reasoningTokens());
  }

  @Test
  void openAiStyleStream() {
    UsageResult r = all("data: " + C1 + "\n\ndata: " + C2 + "\n\ndata: " + STOP + "\n\ndata: "
        + USAGE + "\n\ndata: [DONE]\n\n");
    assertEquals(Feed.with(new UsageResult(true, 5, 7, 12, 3, 4, "m1", true, true, false, false, 4), "c", "stop"), r);
  }

  @Test
  void dataWithoutSpaceAfterColonAndExtraSpaces() {
    UsageResult r = all("data:" + C1 + "\n\ndata:   " + USAGE + "  \n\ndata:[DONE]\n\n");
    assertEquals(Feed.with(new UsageResult(true, 5, 7, 12, 3, 4, "m1", true, true, false, false, 2), "c"), r);
  }

  @Test
  void multiLineDataIsJoinedWithNewline() {
    // A JSON object split over three data lines; the LF joins make it valid JSON again.
    String body = "data: {\"model\":\"m\",\"usage\":\ndata: {\"prompt_tokens\":1,\n"
        + "data: \"total_tokens\":2}}\n\n";
    UsageResult r = all(body);
    assertEquals(new UsageResult(true, 1, 0, 2, 0, 0, "m", true, false, false, false, 1), r);
    // The join is LF, not nothing: a number split across lines stays two tokens (invalid JSON).
    UsageResult split = all("data: {\"usage\":{\"total_tokens\":1\ndata: 2}}\n\n");
    assertFalse(split.reported());
    assertTrue(split.malformed());
  }

  @Test
  void lineEndingsMixed() {
    String body = "data: " + C1 + "\r\n\r\n: ping\r\rdata: " + USAGE + "\n\r\ndata: [DONE]\r";
    UsageResult r = all(body);
    assertEquals(Feed.with(new UsageResult(true, 5, 7, 12, 3, 4, "m1", true, true, false, false, 2), "c"), r);
  }

  @Test
  void crAndLfSplitAcrossCalls() {
    byte[] body = Feed.utf8("data: " + C1 + "\r\n\r\ndata: " + USAGE + "\r\n\r\n");
    UsageResult expected = Feed.run(UsageParser::sse, body, Feed.Mode.WHOLE, 0);
    for (int i = 0; i < body.length; i++) {
      if (body[i] == '\r') {
        UsageParser p = UsageParser.sse();
        p.accept(body, 0, i + 1);
        p.accept(body, i + 1, body.length - i - 1);
        assertEquals(expected, p.result(), "split after CR at " + i);
      }
    }
    assertEquals(2, expected.events()); // CRLF counted once, not as two line ends
  }

  @Test
  void commentsKeepAlivesAndOtherFieldsIgnored() {
    String body = ": keep-alive\n\n:\n\nid: 1\nretry: 100\nfoo: bar\nevent: message\ndata: "
        + C1 + "\n\n: comment with \"usage\":{\"total_tokens\":9}\n\ndata:\n\ndata: \n\n"
        + "data: " + USAGE + "\n\n";
    UsageResult r = all(body);
    assertEquals(Feed.with(new UsageResult(true, 5, 7, 12, 3, 4, "m1", true, false, false, false, 2), "c"), r);
  }

  @Test
  void utf8BomAndMultiByteCharactersAtEverySplit() {
    byte[] bom = {(byte) 0xEF, (byte) 0xBB, (byte) 0xBF};
    String first = "{\"model\":\"mödel-世界-🎉\",\"choices\":[{\"delta\":{\"content\":\"héllo 🎉\"},"
        + "\"finish_reason\":null}]}";
    byte[] rest = Feed.utf8("data: " + first + "\n\ndata: {\"choices\":[{\"delta\":{\"content\":"
        + "\"日本語\"},\"finish_reason\":\"length\"}],\"usage\":{\"input_tokens\":3,"
        + "\"output_tokens\":4,\"total_tokens\":7}}\n\n");
    byte[] body = new byte[bom.length + rest.length];
    System.arraycopy(bom, 0, body, 0, 3);
    System.arraycopy(rest, 0, body, 3, rest.length);
    UsageResult r = all(body);
    assertEquals(Feed.with(new UsageResult(true, 3, 4, 7, 0, 0, "mödel-世界-🎉", true, true, false, false,
        2), null, "length"), r);
    for (int i = 0; i <= body.length; i++) {
      UsageParser p = UsageParser.sse();
      p.accept(body, 0, i);
      p.accept(body, i, body.length - i);
      assertEquals(r, p.result(), "split at " + i);
    }
  }

  @Test
  void finalEventWithoutTrailingBlankLineIsCounted() {
    for (String tail : new String[] {"", "\n", "\r\n", "\r"}) {
      UsageResult r = all("data: " + C1 + "\n\ndata: " + USAGE + tail);
      assertEquals(Feed.with(new UsageResult(true, 5, 7, 12, 3, 4, "m1", true, false, false, false, 2), "c"), r,
          "tail " + Arrays.toString(tail.getBytes(StandardCharsets.US_ASCII)));
      UsageResult done = all("data: " + C1 + "\n\ndata: [DONE]" + tail);
      assertTrue(done.terminated());
      assertEquals(1, done.events());
    }
  }

  @Test
  void pendingEventIsNotDoubleCountedOnceDispatched() {
    UsageParser p = UsageParser.sse();
    byte[] a = Feed.utf8("data: " + C1 + "\n\ndata: " + USAGE);
    p.accept(a, 0, a.length);
    UsageResult before = p.result();
    assertEquals(2, before.events());
    assertTrue(before.reported());
    assertTrue(p.firstTokenSeen());
    byte[] b = Feed.utf8("\n\ndata: [DONE]\n\n");
    p.accept(b, 0, b.length);
    UsageResult after = p.result();
    assertEquals(2, after.events());
    assertEquals(Feed.with(new UsageResult(true, 5, 7, 12, 3, 4, "m1", true, true, false, false, 2), "c"), after);
  }

  @Test
  void partlyReceivedFinalEventIsLeftOut() {
    String full = "data: " + C1 + "\n\ndata: " + USAGE + "\n\n";
    int cut = full.indexOf("\"total_tokens\"");
    UsageParser p = UsageParser.sse();
    byte[] head = Feed.utf8(full.substring(0, cut));
    p.accept(head, 0, head.length);
    UsageResult r = p.result();
    assertEquals(Feed.with(new UsageResult(false, 0, 0, 0, 0, 0, "m1", true, false, false, false, 1), "c"), r);
    byte[] tail = Feed.utf8(full.substring(cut));
    p.accept(tail, 0, tail.length);
    assertEquals(Feed.with(new UsageResult(true, 5, 7, 12, 3, 4, "m1", true, false, false, false, 2), "c"),
        p.result());
  }

  @Test
  void pendingBrokenOrPartialDataIsNotCountedUntilDispatched() {
    for (String pending : new String[] {"[", "[DO", "[DONE", "{\"a\":", "{\"a\":1,"}) {
      UsageParser p = UsageParser.sse();
      byte[] b = Feed.utf8("data: " + C1 + "\n\ndata: " + pending);
      p.accept(b, 0, b.length);
      assertEquals(Feed.with(new UsageResult(false, 0, 0, 0, 0, 0, "m1", true, false, false, false, 1), "c"),
          p.result(), pending);
    }
    // once dispatched, broken JSON counts and is malformed
    assertEquals(Feed.with(new UsageResult(false, 0, 0, 0, 0, 0, "m1", true, false, false, true, 2), "c"),
        all("data: " + C1 + "\n\ndata: {\"error\":\n\n"));
  }

  @Test
  void truncatedStreamIsNotTerminated() {
    UsageResult r = all("data: " + C1 + "\n\ndata: " + C2 + "\n\n");
    assertEquals(Feed.with(new UsageResult(false, 0, 0, 0, 0, 0, "m1", true, false, false, false, 2), "c"), r);
  }

  @Test
  void doneIsOptionalFinishReasonTerminates() {
    assertTrue(all("data: " + C1 + "\n\ndata: " + STOP + "\n\n").terminated());
    assertTrue(all("data: " + C1 + "\n\ndata: [DONE]\n\n").terminated());
    // "finish_reason": null never terminates
    assertFalse(all("data: " + C1 + "\n\n").terminated());
  }

  @Test
  void usageNullIgnoredAndLastUsageWins() {
    String u1 = "{\"choices\":[],\"usage\":{\"prompt_tokens\":1,\"completion_tokens\":1,"
        + "\"total_tokens\":2}}";
    String u2 = "{\"choices\":[],\"usage\":{\"prompt_tokens\":1,\"completion_tokens\":3,"
        + "\"total_tokens\":4}}";
    String nul = "{\"choices\":[],\"usage\":null}";
    String empty = "{\"choices\":[],\"usage\":{}}";
    UsageResult r = all("data: " + C1 + "\n\ndata: " + u1 + "\n\ndata: " + u2 + "\n\ndata: " + nul
        + "\n\ndata: " + empty + "\n\n");
    assertUsage(r, 1, 3, 4, 0, 0);
    assertEquals(5, r.events());
  }

  @Test
  void totalIsReportedNotRecomputed() {
    UsageResult r = all("data: {\"usage\":{\"prompt_tokens\":1,\"completion_tokens\":1,"
        + "\"total_tokens\":99}}\n\n");
    assertUsage(r, 1, 1, 99, 0, 0);
    UsageResult noTotal = all("data: {\"usage\":{\"prompt_tokens\":1,\"completion_tokens\":1}}"
        + "\n\n");
    assertUsage(noTotal, 1, 1, 0, 0, 0);
  }

  @Test
  void deepSeekCacheHitTokens() {
    String u = "{\"model\":\"deepseek-reasoner\",\"choices\":[{\"index\":0,\"delta\":{\"content\":"
        + "\"!\"},\"finish_reason\":\"stop\"}],\"usage\":{\"prompt_tokens\":10,"
        + "\"completion_tokens\":2,\"total_tokens\":12,\"prompt_cache_hit_tokens\":7,"
        + "\"prompt_cache_miss_tokens\":3,\"completion_tokens_details\":"
        + "{\"reasoning_tokens\":1}}}";
    UsageResult r = all(": keep-alive\n\ndata: " + u + "\n\ndata: [DONE]\n\n");
    assertEquals(Feed.with(new UsageResult(true, 10, 2, 12, 7, 1, "deepseek-reasoner", true, true, false,
        false, 1), null, "stop"), r);
    // prompt_tokens_details.cached_tokens, when present, is the one used
    String both = u.replace("\"prompt_cache_miss_tokens\":3",
        "\"prompt_tokens_details\":{\"cached_tokens\":6}");
    assertEquals(6, all("data: " + both + "\n\n").cachedTokens());
  }

  @Test
  void modelFromFirstChunk() {
    UsageResult r = all("data: " + C1 + "\n\ndata: " + C2 + "\n\ndata: " + USAGE + "\n\n");
    assertEquals("m1", r.servedModel());
    // if the first chunk names none, a later one does
    UsageResult later = all("data: {\"choices\":[]}\n\ndata: " + C2 + "\n\n");
    assertEquals("m2", later.servedModel());
  }

  @Test
  void errorEventByName() {
    UsageResult r = all("data: " + C1 + "\n\nevent: error\ndata: {\"message\":\"overloaded\"}\n\n");
    assertTrue(r.errorEvent());
    assertFalse(r.terminated());
    assertFalse(r.malformed());
    assertTrue(all("event:error\ndata: not json\n\n").errorEvent());
    assertFalse(all("event: errors\ndata: {}\n\n").errorEvent());
    assertFalse(all("event: message\ndata: " + C1 + "\n\n").errorEvent());
  }

  @Test
  void errorEventByTopLevelErrorField() {
    UsageResult r = all("data: " + C1 + "\n\ndata: " + C2 + "\n\ndata: {\"error\":{\"message\":"
        + "\"Internal error\",\"type\":\"server_error\"}}\n\n");
    assertTrue(r.errorEvent());
    assertEquals(3, r.events());
    assertFalse(all("data: " + C1 + "\n\ndata: {\"error\":null,\"choices\":[]}\n\n")
        .errorEvent());
    // an "error" key deeper down is not an in-band error
    assertFalse(all("data: " + C1 + "\n\ndata: {\"choices\":[{\"delta\":{\"error\":1}}]}\n\n")
        .errorEvent());
  }

  @Test
  void idAndFinishReasonsOfStreams() {
    // n = 2: each choice finishes in its own chunk; the id is the first chunk's
    String c0 = "{\"id\":\"chatcmpl-7\",\"model\":\"m\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"a\"},"
        + "\"finish_reason\":null},{\"index\":1,\"delta\":{\"content\":\"b\"},\"finish_reason\":null}]}";
    String f1 = "{\"id\":\"chatcmpl-7\",\"choices\":[{\"index\":1,\"delta\":{},\"finish_reason\":\"length\"}]}";
    String f0 = "{\"id\":\"chatcmpl-7\",\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"tool_calls\"}]}";
    UsageResult r = all("data: " + c0 + "\n\ndata: " + f1 + "\n\ndata: " + f0 + "\n\ndata: [DONE]\n\n");
    assertEquals("chatcmpl-7", r.responseId());
    assertEquals(java.util.List.of("length", "tool_calls"), r.finishReasons());
    // cut before the finish chunks: the id, no reason
    UsageResult cut = all("data: " + c0 + "\n\n");
    assertEquals("chatcmpl-7", cut.responseId());
    assertEquals(java.util.List.of(), cut.finishReasons());
    // Responses stream: response.id, and the incomplete reason of response.incomplete
    String created = "{\"type\":\"response.created\",\"response\":{\"id\":\"resp_3\",\"object\":\"response\","
        + "\"status\":\"in_progress\",\"incomplete_details\":null,\"model\":\"g\"}}";
    String incomplete = "{\"type\":\"response.incomplete\",\"response\":{\"id\":\"resp_3\",\"object\":\"response\","
        + "\"status\":\"incomplete\",\"incomplete_details\":{\"reason\":\"max_output_tokens\"},\"model\":\"g\"}}";
    UsageResult inc = all("event: response.created\ndata: " + created + "\n\nevent: response.incomplete\ndata: "
        + incomplete + "\n\n");
    assertEquals("resp_3", inc.responseId());
    assertEquals(java.util.List.of("max_output_tokens"), inc.finishReasons());
    UsageResult started = all("event: response.created\ndata: " + created + "\n\n");
    assertEquals("resp_3", started.responseId());
    assertEquals(java.util.List.of(), started.finishReasons()); // in_progress is no finish
    // an oversized final event (parsed as it arrives) carries its reasons too
    String big = "{\"type\":\"response.completed\",\"response\":{\"id\":\"resp_3\",\"object\":\"response\","
        + "\"status\":\"completed\",\"output\":\"" + "z".repeat(SseEngine.MAX_EVENT + 10) + "\",\"model\":\"g\"}}";
    UsageResult huge = Feed.run(UsageParser::sse, Feed.utf8("data: " + created + "\n\ndata: " + big + "\n\n"),
        Feed.Mode.RANDOM_CHUNKS, 3);
    assertEquals("resp_3", huge.responseId());
    assertEquals(java.util.List.of("completed"), huge.finishReasons());
  }

  @Test
  void responsesStreamEvents() {
    String created = "{\"type\":\"response.created\",\"response\":{\"id\":\"r\",\"model\":\"gpt-x\","
        + "\"usage\":null,\"error\":null}}";
    String delta = "{\"type\":\"response.output_text.delta\",\"delta\":\"usage error model\"}";
    String usage = "\"usage\":{\"input_tokens\":9,\"input_tokens_details\":{\"cached_tokens\":2},"
        + "\"output_tokens\":5,\"output_tokens_details\":{\"reasoning_tokens\":3},"
        + "\"total_tokens\":14}";
    String completed = "{\"type\":\"response.completed\",\"response\":{\"model\":\"gpt-x\","
        + usage + "}}";
    String incomplete = "{\"type\":\"response.incomplete\",\"response\":{\"model\":\"gpt-x\","
        + "\"status\":\"incomplete\"," + usage + "}}";
    String failed = "{\"type\":\"response.failed\",\"response\":{\"model\":\"gpt-x\","
        + "\"status\":\"failed\",\"error\":{\"code\":\"server_error\"}}}";
    String errorType = "{\"type\":\"error\",\"code\":\"ERR\",\"message\":\"boom\"}";

    assertEquals(Feed.with(new UsageResult(true, 9, 5, 14, 2, 3, "gpt-x", true, true, false, false, 3), "r"),
        all("event: response.created\ndata: " + created + "\n\nevent: response.output_text.delta"
            + "\ndata: " + delta + "\n\nevent: response.completed\ndata: " + completed + "\n\n"));
    assertEquals(Feed.with(new UsageResult(true, 9, 5, 14, 2, 3, "gpt-x", true, true, false, false, 2), "r", "incomplete"),
        all("data: " + created + "\n\ndata: " + incomplete + "\n\n"));
    assertEquals(Feed.with(new UsageResult(false, 0, 0, 0, 0, 0, "gpt-x", true, true, true, false, 2), "r", "failed"),
        all("data: " + created + "\n\ndata: " + failed + "\n\n"));
    assertEquals(Feed.with(new UsageResult(false, 0, 0, 0, 0, 0, "gpt-x", true, false, true, false, 3), "r"),
        all("data: " + created + "\n\ndata: " + delta + "\n\ndata: " + errorType + "\n\n"));
    // deltas alone: not terminated
    assertFalse(all("data: " + created + "\n\ndata: " + delta + "\n\n").terminated());
  }

  @Test
  void firstTokenSeenOnFirstDataEvent() {
    UsageParser p = UsageParser.sse();
    byte[] a = Feed.utf8(": keep-alive\n\nevent: ping\n\ndata:\n\ndata: " + C1.substring(0, 20));
    p.accept(a, 0, a.length);
    assertFalse(p.firstTokenSeen());
    byte[] b = Feed.utf8(C1.substring(20) + "\n");
    p.accept(b, 0, b.length);
    assertFalse(p.firstTokenSeen()); // the event is dispatched by the blank line
    p.accept(new byte[] {'\n'}, 0, 1);
    assertTrue(p.firstTokenSeen());

    UsageParser done = UsageParser.sse();
    byte[] d = Feed.utf8("data: [DONE]\n\n");
    done.accept(d, 0, d.length);
    assertFalse(done.firstTokenSeen());
    assertEquals(new UsageResult(false, 0, 0, 0, 0, 0, null, true, true, false, false, 0),
        done.result());
  }

  @Test
  void oversizedEventIsParsedAsItArrives() {
    StringBuilder big = new StringBuilder("{\"choices\":[{\"delta\":{\"content\":\"");
    while (big.length() < SseEngine.MAX_EVENT + 10) {
      big.append("0123456789abcdef");
    }
    big.append("\"},\"finish_reason\":null}],\"usage\":{\"total_tokens\":1}}");
    // its own usage is read, whether the event arrives whole or cut into pieces
    String alone = "data: " + C1 + "\n\ndata: " + big + "\n\ndata: [DONE]\n\n";
    UsageResult own = Feed.with(new UsageResult(true, 0, 0, 1, 0, 0, "m1", true, true, false, false, 2), "c");
    assertEquals(own, Feed.run(UsageParser::sse, Feed.utf8(alone), Feed.Mode.WHOLE, 0));
    UsageParser cut = UsageParser.sse();
    Feed.feedRandom(cut, Feed.utf8(alone), new java.util.Random(1), 8192);
    assertEquals(own, cut.result());
    // and a later usage replaces it, as for any event
    String body = "data: " + C1 + "\n\ndata: " + big + "\n\ndata: " + USAGE
        + "\n\ndata: [DONE]\n\n";
    UsageResult r = Feed.run(UsageParser::sse, Feed.utf8(body), Feed.Mode.WHOLE, 0);
    assertEquals(Feed.with(new UsageResult(true, 5, 7, 12, 3, 4, "m1", true, true, false, false, 3), "c"), r);
    UsageParser p = UsageParser.sse();
    Feed.feedRandom(p, Feed.utf8(body), new java.util.Random(1), 8192);
    assertEquals(r, p.result());
    // one over several data lines that is not JSON: counted, not parsed
    String lines = ("data: " + "x".repeat(1000) + "\n").repeat(1100);
    UsageResult multi = Feed.run(UsageParser::sse, Feed.utf8(lines + "\ndata: " + USAGE + "\n\n"),
        Feed.Mode.WHOLE, 0);
    assertEquals(Feed.with(new UsageResult(true, 5, 7, 12, 3, 4, "m1", true, false, false, false, 2), "c"), multi);
    // broken JSON over the buffer stops JSON parsing, like a small broken event
    String broken = "data: " + big.substring(0, big.length() - 1) + "]\n\ndata: " + USAGE + "\n\n";
    UsageParser b = UsageParser.sse();
    Feed.feedRandom(b, Feed.utf8(broken), new java.util.Random(2), 8192);
    UsageResult br = b.result();
    assertTrue(br.malformed());
    assertEquals(2, br.events());
    assertEquals(1, br.totalTokens()); // read completely before the damage
  }

  @Test
  void eventJustUnderTheCapIsParsed() {
    String head = "{\"model\":\"m\",\"pad\":\"";
    String tail = "\",\"usage\":{\"total_tokens\":3}}";
    String pad = "y".repeat(SseEngine.MAX_EVENT - head.length() - tail.length());
    UsageResult r = Feed.run(UsageParser::sse, Feed.utf8("data: " + head + pad + tail + "\n\n"),
        Feed.Mode.WHOLE, 0);
    assertEquals(new UsageResult(true, 0, 0, 3, 0, 0, "m", true, false, false, false, 1), r);
  }

  @Test
  void nonJsonDataIsCountedButNotParsed() {
    UsageResult r = all("data: ping\n\ndata: " + C1 + "\n\ndata: hello \"usage\": 1\n\ndata: "
        + USAGE + "\n\n");
    assertEquals(Feed.with(new UsageResult(true, 5, 7, 12, 3, 4, "m1", true, false, false, false, 4), "c"), r);
  }

  @Test
  void malformedJsonStopsParsingButKeepsWhatWasRead() {
    // broken first chunk: no usage is reported afterwards, framing still tracked
    UsageResult r = all("data: {\"model\":\"m\",\"choices\":[}\n\ndata: " + USAGE
        + "\n\ndata: [DONE]\n\n");
    // (the model, read before the damage, is kept)
    assertEquals(new UsageResult(false, 0, 0, 0, 0, 0, "m", true, true, false, true, 2), r);
    // usage read before the damage stays
    UsageResult after = all("data: " + C1 + "\n\ndata: " + USAGE + "\n\ndata: {\"error\": nope}"
        + "\n\n");
    assertEquals(Feed.with(new UsageResult(true, 5, 7, 12, 3, 4, "m1", true, false, false, true, 3), "c"), after);
  }

  @Test
  void invalidUtf8() {
    byte[] bad = {(byte) 0xC3, (byte) 0x28, (byte) 0xFF, (byte) 0xED, (byte) 0xA0, (byte) 0x80};
    // in the first chunk (parsed in full): malformed, nothing reported
    byte[] first = concat(Feed.utf8("data: {\"model\":\"m\",\"x\":\""), bad,
        Feed.utf8("\"}\n\ndata: " + USAGE + "\n\n"));
    UsageResult r = all(first);
    assertFalse(r.reported());
    assertTrue(r.malformed());
    assertEquals(2, r.events());
    // in a content delta that is never parsed: harmless
    byte[] delta = concat(Feed.utf8("data: " + C1 + "\n\ndata: {\"choices\":[{\"delta\":"
        + "{\"content\":\""), bad, Feed.utf8("\"}}]}\n\ndata: " + USAGE + "\n\n"));
    UsageResult ok = all(delta);
    assertUsage(ok, 5, 7, 12, 3, 4);
    assertFalse(ok.malformed());
    // raw garbage bytes, including bare CRs and NULs, as framing
    byte[] junk = new byte[4096];
    new java.util.Random(5).nextBytes(junk);
    UsageResult g = all(junk);
    assertFalse(g.reported());
  }

  @Test
  void hugeAndInvalidNumbersInUsage() {
    String[] bad = {"99999999999999999999", "9223372036854775808", "-1", "1.5", "1e3",
        "1" + "0".repeat(2000)};
    for (String n : bad) {
      UsageResult r = all("data: " + C1 + "\n\ndata: {\"usage\":{\"prompt_tokens\":" + n
          + ",\"total_tokens\":1}}\n\ndata: [DONE]\n\n");
      assertFalse(r.reported(), n);
      assertTrue(r.malformed(), n);
      assertTrue(r.terminated(), n);
    }
    UsageResult max = all("data: {\"usage\":{\"prompt_tokens\":9223372036854775807,"
        + "\"total_tokens\":0}}\n\n");
    assertUsage(max, Long.MAX_VALUE, 0, 0, 0, 0);
    // huge numbers elsewhere are fine
    UsageResult elsewhere = all("data: {\"created\":123456789012345678901234567890,\"model\":\"m\","
        + "\"usage\":{\"total_tokens\":2}}\n\n");
    assertUsage(elsewhere, 0, 0, 2, 0, 0);
    // string / boolean counts are treated as absent
    UsageResult strings = all("data: {\"usage\":{\"prompt_tokens\":\"3\",\"total_tokens\":2,"
        + "\"completion_tokens\":true}}\n\n");
    assertUsage(strings, 0, 0, 2, 0, 0);
  }

  @Test
  void deepNesting() {
    String deep = "[".repeat(10_000);
    UsageResult r = all("data: {\"model\":\"m\",\"x\":" + deep + "\n\ndata: " + USAGE + "\n\n");
    assertFalse(r.reported());
    assertTrue(r.malformed());
    String ok = "[".repeat(60) + "]".repeat(60);
    UsageResult fine = all("data: {\"model\":\"m\",\"x\":" + ok + ",\"usage\":{\"total_tokens\":1}}"
        + "\n\n");
    assertUsage(fine, 0, 0, 1, 0, 0);
    assertFalse(fine.malformed());
    String over = "[".repeat(70) + "]".repeat(70);
    UsageResult limit = all("data: {\"model\":\"m\",\"x\":" + over
        + ",\"usage\":{\"total_tokens\":1}}\n\n");
    assertFalse(limit.reported());
    assertTrue(limit.malformed());
  }

  @Test
  void garbageDoesNotThrow() {
    String[] bodies = {"", "\n\n\n", "data", "data:", "data: {", "data: }\n\n", "data: [\n\n",
        "event: \n\n", ":\r\r\r",
        "data: {\"usage\":[1,2]}\n\n", "data: \"usage\"\n\n", "data: null\n\n", "data: [1]\n\n",
        "data: [{\"error\":{}}]\n\n", "data: {\"choices\":null,\"response\":7,\"type\":5}\n\n",
        "\u0000\u0001data: x\n\n"};
    for (String b : bodies) {
      UsageResult r = all(b);
      assertFalse(r.reported(), b);
      assertNull(r.servedModel(), b);
    }
    assertTrue(all("data: [{\"error\":{}}]\n\n").errorEvent());
    // the usage object closed before the JSON broke: kept, and the damage is recorded
    UsageResult unclosed = all("data: {\"usage\":{\"total_tokens\":1}\n\n");
    assertUsage(unclosed, 0, 0, 1, 0, 0);
    assertTrue(unclosed.malformed());
  }

  static byte[] concat(byte[]... parts) {
    int n = 0;
    for (byte[] p : parts) {
      n += p.length;
    }
    byte[] out = new byte[n];
    int at = 0;
    for (byte[] p : parts) {
      System.arraycopy(p, 0, out, at, p.length);
      at += p.length;
    }
    return out;
  }
}
