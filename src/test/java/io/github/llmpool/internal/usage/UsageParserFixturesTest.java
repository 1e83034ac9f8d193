package io.github.llmpool.internal.usage;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import java.util.function.Supplier;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** Every fixture, fed whole, byte by byte and in seeded random chunks: exact results. */
class UsageParserFixturesTest {

  static final String CHAT_MODEL = "gpt-4o-mini-2024-07-18";
  static final String RESP_MODEL = "gpt-4.1-2025-04-14";

  /** Fixture name, body, parser factory, expected result. */
  static Stream<Arguments> fixtures() {
    return Stream.of(
        json("openai-chat.json",
            new UsageResult(true, 23, 57, 80, 12, 40, CHAT_MODEL, false, true, false, false, 0,
                "chatcmpl-abc123", List.of("stop"))),
        json("responses.json",
            new UsageResult(true, 36, 87, 123, 0, 0, RESP_MODEL, false, true, false, false, 0,
                "resp_1", List.of("completed"))),
        json("embeddings.json",
            new UsageResult(true, 8, 0, 8, 0, 0, "text-embedding-3-small", false, true, false,
                false, 0)),
        sse("openai-chat-stream-usage.sse",
            new UsageResult(true, 19, 2, 21, 0, 0, CHAT_MODEL, true, true, false, false, 5,
                "chatcmpl-1", List.of("stop"))),
        sse("openai-chat-stream-no-usage.sse",
            new UsageResult(false, 0, 0, 0, 0, 0, "gpt-4o", true, true, false, false, 2,
                "chatcmpl-2", List.of("stop"))),
        sse("deepseek-chat-stream.sse",
            new UsageResult(true, 10, 2, 12, 0, 0, "deepseek-chat", true, true, false, false, 2,
                "d1", List.of("stop"))),
        sse("responses-stream.sse",
            new UsageResult(true, 37, 11, 48, 0, 0, RESP_MODEL, true, true, false, false, 4,
                "resp_2", List.of("completed"))),
        http("anthropic-529.http"),
        http("azure-429.http"),
        http("gemini-429.http"),
        http("openai-400.http"),
        http("openai-429-insufficient-quota.http"),
        http("openai-429-rate-limit.http"),
        http("openai-503.http"));
  }

  private static Arguments json(String name, UsageResult expected) {
    return Arguments.of(name, Feed.fixture(name), (Supplier<UsageParser>) UsageParser::json,
        expected);
  }

  private static Arguments sse(String name, UsageResult expected) {
    return Arguments.of(name, Feed.fixture(name), (Supplier<UsageParser>) UsageParser::sse,
        expected);
  }

  /** Error bodies: JSON, no usage, an error, root closed. */
  private static Arguments http(String name) {
    byte[] raw = Feed.fixture(name);
    String ct = Feed.httpContentType(raw);
    return Arguments.of(name, Feed.httpBody(raw),
        (Supplier<UsageParser>) () -> UsageParser.forContentType(ct),
        new UsageResult(false, 0, 0, 0, 0, 0, null, false, true, true, false, 0));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("fixtures")
  void wholeChunk(String name, byte[] body, Supplier<UsageParser> f, UsageResult expected) {
    assertEquals(expected, Feed.run(f, body, Feed.Mode.WHOLE, 0), name);
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("fixtures")
  void byteByByte(String name, byte[] body, Supplier<UsageParser> f, UsageResult expected) {
    assertEquals(expected, Feed.run(f, body, Feed.Mode.BYTE_BY_BYTE, 0), name);
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("fixtures")
  void randomChunks(String name, byte[] body, Supplier<UsageParser> f, UsageResult expected) {
    for (long seed = 1; seed <= 50; seed++) {
      assertEquals(expected, Feed.run(f, body, Feed.Mode.RANDOM_CHUNKS, seed),
          name + " seed=" + seed);
    }
  }

  /** Every single split point: two accept() calls give the same result as one. */
  @ParameterizedTest(name = "{0}")
  @MethodSource("fixtures")
  void everySplitPoint(String name, byte[] body, Supplier<UsageParser> f, UsageResult expected) {
    for (int i = 0; i <= body.length; i++) {
      UsageParser p = f.get();
      byte[] a = Arrays.copyOfRange(body, 0, i);
      byte[] b = Arrays.copyOfRange(body, i, body.length);
      p.accept(a, 0, a.length);
      Arrays.fill(a, (byte) '"');
      p.accept(b, 0, b.length);
      assertEquals(expected, p.result(), name + " split at " + i);
    }
  }

  /** The same stream with CRLF and with CR line endings gives the same result as with LF. */
  @ParameterizedTest(name = "{0}")
  @MethodSource("fixtures")
  void sseLineEndings(String name, byte[] body, Supplier<UsageParser> f, UsageResult expected) {
    if (!name.endsWith(".sse")) {
      return;
    }
    String lf = new String(body, StandardCharsets.UTF_8);
    for (String eol : new String[] {"\r\n", "\r"}) {
      byte[] converted = lf.replace("\n", eol).getBytes(StandardCharsets.UTF_8);
      for (Feed.Mode mode : Feed.Mode.values()) {
        assertEquals(expected, Feed.run(f, converted, mode, 7), name + " " + mode
            + (eol.length() == 2 ? " CRLF" : " CR"));
      }
    }
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("fixtures")
  void resultIsRepeatable(String name, byte[] body, Supplier<UsageParser> f,
      UsageResult expected) {
    UsageParser p = f.get();
    p.accept(body, 0, body.length);
    assertEquals(expected, p.result());
    assertEquals(expected, p.result());
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("fixtures")
  void firstTokenSeen(String name, byte[] body, Supplier<UsageParser> f, UsageResult expected) {
    UsageParser p = f.get();
    assertFalse(p.firstTokenSeen());
    assertEquals(name.endsWith(".sse"), p.isStreaming());
    p.accept(body, 0, body.length);
    assertTrue(p.firstTokenSeen());
  }

  // --- streamed and non-streamed variants agree ---------------------------------------------

  /** The usage-carrying chunk of each stream, given as a JSON body, reads the same. */
  @Test
  void streamUsageChunkAsJsonBodyAgrees() {
    for (String name : new String[] {"openai-chat-stream-usage.sse", "deepseek-chat-stream.sse",
        "responses-stream.sse"}) {
      byte[] body = Feed.fixture(name);
      UsageResult streamed = Feed.run(UsageParser::sse, body, Feed.Mode.WHOLE, 0);
      String usageLine = null;
      for (String line : new String(body, StandardCharsets.UTF_8).split("\n")) {
        if (line.startsWith("data: ") && line.contains("\"usage\":{")) {
          usageLine = line.substring(6);
        }
      }
      String json = usageLine;
      if (name.startsWith("responses")) {
        // the Responses event wraps the response object; as a body, that object is the root
        int at = json.indexOf("\"response\":") + "\"response\":".length();
        json = json.substring(at, json.length() - 1);
      }
      UsageResult plain = Feed.run(UsageParser::json, Feed.utf8(json), Feed.Mode.WHOLE, 0);
      assertTrue(plain.reported(), name);
      assertEquals(Feed.usageOnly(streamed), Feed.usageOnly(plain), name);
      assertEquals(streamed.servedModel(), plain.servedModel(), name);
    }
  }

  /** Each JSON body, sent as the single chunk of a stream, reads the same. */
  @Test
  void jsonBodyAsStreamAgrees() {
    for (String name : new String[] {"openai-chat.json", "embeddings.json", "responses.json"}) {
      String json = new String(Feed.fixture(name), StandardCharsets.UTF_8).trim();
      UsageResult plain = Feed.run(UsageParser::json, Feed.utf8(json), Feed.Mode.WHOLE, 0);
      String stream = name.startsWith("responses")
          ? "event: response.completed\ndata: {\"type\":\"response.completed\",\"response\":"
              + json + "}\n\n"
          : "data: " + json + "\n\ndata: [DONE]\n\n";
      for (Feed.Mode mode : Feed.Mode.values()) {
        UsageResult streamed = Feed.run(UsageParser::sse, Feed.utf8(stream), mode, 3);
        assertEquals(Feed.usageOnly(plain), Feed.usageOnly(streamed), name + " " + mode);
        assertEquals(plain.servedModel(), streamed.servedModel(), name);
        assertTrue(streamed.terminated(), name);
        assertEquals(1, streamed.events(), name);
      }
    }
  }

  /** Streams glued from fixtures' chunks: the usage reading does not depend on the framing. */
  @Test
  void deepseekStreamWithoutDoneOrKeepAlivesAgrees() {
    String s = new String(Feed.fixture("deepseek-chat-stream.sse"), StandardCharsets.UTF_8);
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    for (String line : s.split("\n")) {
      if (line.startsWith("data: {")) {
        out.writeBytes(Feed.utf8(line + "\n\n"));
      }
    }
    UsageResult a = Feed.run(UsageParser::sse, Feed.fixture("deepseek-chat-stream.sse"),
        Feed.Mode.WHOLE, 0);
    UsageResult b = Feed.run(UsageParser::sse, out.toByteArray(), Feed.Mode.BYTE_BY_BYTE, 0);
    assertEquals(a, b); // finish_reason "stop" terminates even without [DONE]
  }
}
