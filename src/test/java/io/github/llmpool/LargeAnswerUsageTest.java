package io.github.llmpool;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import mockwebserver3.MockResponse;
import mockwebserver3.MockWebServer;
import okhttp3.OkHttpClient;
import okhttp3.Response;
import okio.Buffer;
import okio.BufferedSource;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Answers with a string past Jackson's default limit (20 M characters) keep their usage, as a
 * JSON body and as a Responses stream whose completed event carries the whole answer. Loopback.
 */
class LargeAnswerUsageTest {
  private final Upstreams up = new Upstreams();
  private final List<TokenUsage> usages = new CopyOnWriteArrayList<>();

  @AfterEach
  void close() {
    up.close();
  }

  /** About {@code chars} characters of JSON string text (escapes and multi-byte UTF-8 included). */
  private static String text(int chars) {
    String unit = "word \\\"q\\\" caf\u00e9 \u4e16 \ud83c\udf89 \\u00e9 ";
    StringBuilder sb = new StringBuilder(chars + unit.length());
    while (sb.length() < chars) {
      sb.append(unit);
    }
    return sb.toString();
  }

  /** Serves {@code body} once, reads the answer through a pool, returns its SHA-256 as the caller saw it. */
  private TokenUsage fetch(String contentType, byte[] body, String request) throws Exception {
    MockWebServer s = up.start(r -> new MockResponse.Builder().code(200).addHeader("content-type", contentType)
        .body(new Buffer().write(body)).build());
    ProviderPool pool = ProviderPool.builder().onUsage(usages::add)
        .tier(Provider.builder("p").baseUrl(Upstreams.baseUrl(s)).build()).build();
    OkHttpClient client = up.client(pool, new OkHttpClient.Builder().callTimeout(60, TimeUnit.SECONDS));
    MessageDigest md = MessageDigest.getInstance("SHA-256");
    long read = 0;
    try (Response r = client.newCall(Upstreams.post(pool, "chat/completions", request)).execute()) {
      assertEquals(200, r.code());
      BufferedSource src = r.body().source();
      byte[] buf = new byte[65_536];
      for (int n; (n = src.read(buf)) != -1; ) {
        md.update(buf, 0, n);
        read += n;
      }
    }
    assertEquals(body.length, read);
    assertEquals(HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(body)),
        HexFormat.of().formatHex(md.digest())); // the tap changed nothing
    assertEquals(1, usages.size(), "records " + usages);
    assertEquals(0, pool.snapshot().inFlight());
    return usages.get(0);
  }

  @Test
  void jsonAnswerPastJacksonsStringLimitReportsItsUsage() throws Exception {
    String body = "{\"id\":\"chatcmpl-big\",\"object\":\"chat.completion\",\"model\":\"gpt-big-1\",\"choices\":[{\"index\":0,"
        + "\"message\":{\"role\":\"assistant\",\"content\":\"" + text(30_000_000) + "\"},\"finish_reason\":\"length\"}],"
        + "\"usage\":{\"prompt_tokens\":12,\"completion_tokens\":7000000,\"total_tokens\":7000012,"
        + "\"prompt_tokens_details\":{\"cached_tokens\":4},\"completion_tokens_details\":{\"reasoning_tokens\":100}}}";
    TokenUsage u = fetch("application/json", body.getBytes(StandardCharsets.UTF_8), Upstreams.CHAT);
    assertTrue(u.reported(), u.toString());
    assertEquals(List.of(12L, 7000000L, 7000012L, 4L, 100L),
        List.of(u.tokens().prompt(), u.tokens().completion(), u.totalTokens(), u.tokens().cached(), u.tokens().reasoning()));
    assertEquals("gpt-big-1", u.servedModel().orElseThrow());
    assertEquals(TokenUsage.End.COMPLETE, u.end());
  }

  @Test
  void responsesStreamWhoseCompletedEventCarriesAHugeAnswerReportsItsUsage() throws Exception {
    String big = text(30_000_000);
    String body = "event: response.created\ndata: {\"type\":\"response.created\",\"response\":{\"id\":\"r\","
        + "\"model\":\"gpt-big-2\",\"output\":[],\"usage\":null}}\n\n"
        + "event: response.output_text.delta\ndata: {\"type\":\"response.output_text.delta\",\"delta\":\"word\"}\n\n"
        + "event: response.output_text.done\ndata: {\"type\":\"response.output_text.done\",\"text\":\"" + big + "\"}\n\n"
        + "event: response.completed\ndata: {\"type\":\"response.completed\",\"response\":{\"id\":\"r\",\"model\":\"gpt-big-2\","
        + "\"status\":\"completed\",\"output\":[{\"type\":\"message\",\"content\":[{\"type\":\"output_text\",\"text\":\""
        + big + "\"}]}],\"usage\":{\"input_tokens\":30,\"input_tokens_details\":{\"cached_tokens\":0},"
        + "\"output_tokens\":7000000,\"output_tokens_details\":{\"reasoning_tokens\":8},\"total_tokens\":7000030}}}\n\n";
    TokenUsage u = fetch("text/event-stream", body.getBytes(StandardCharsets.UTF_8),
        "{\"model\":\"gpt-big-2\",\"stream\":true,\"input\":\"hi\"}");
    assertTrue(u.reported(), u.toString());
    assertTrue(u.streamed());
    assertEquals(List.of(30L, 7000000L, 7000030L, 0L, 8L),
        List.of(u.tokens().prompt(), u.tokens().completion(), u.totalTokens(), u.tokens().cached(), u.tokens().reasoning()));
    assertEquals("gpt-big-2", u.servedModel().orElseThrow());
    assertEquals(TokenUsage.End.COMPLETE, u.end());
  }
}
