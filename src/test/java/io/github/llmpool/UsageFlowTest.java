package io.github.llmpool;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.security.MessageDigest;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import mockwebserver3.MockResponse;
import mockwebserver3.MockWebServer;
import mockwebserver3.SocketEffect;
import okhttp3.Call;
import okhttp3.OkHttpClient;
import okhttp3.Response;
import okio.Buffer;
import okio.BufferedSource;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** One exact usage record per attempt, for JSON and streams, whatever way the body ends. */
class UsageFlowTest {
  private final Upstreams up = new Upstreams();
  private final List<TokenUsage> usages = new CopyOnWriteArrayList<>();

  @AfterEach
  void close() {
    up.close();
  }

  private ProviderPool pool(MockWebServer... servers) {
    ProviderPool.Builder b = ProviderPool.builder().strategy(Strategy.ROUND_ROBIN).onUsage(usages::add);
    for (int i = 0; i < servers.length; i++) {
      b.tier(Provider.builder("p" + i).baseUrl(Upstreams.baseUrl(servers[i])).build());
    }
    return b.build();
  }

  private TokenUsage only() {
    assertEquals(1, usages.size(), "records: " + usages);
    return usages.get(0);
  }

  private TokenUsage fetch(MockResponse response, String body) throws Exception {
    MockWebServer s = up.start(r -> response);
    ProviderPool pool = pool(s);
    String[] r = Upstreams.call(up.client(pool), Upstreams.post(pool, "chat/completions", body));
    assertEquals("200", r[0]);
    assertEquals(0, pool.snapshot().inFlight());
    return only();
  }

  @Test
  void chatCompletionJson() throws Exception {
    TokenUsage u = fetch(Fixtures.json("openai-chat.json"), Upstreams.CHAT);
    assertEquals(List.of(23L, 57L, 80L, 12L, 40L),
        List.of(u.tokens().prompt(), u.tokens().completion(), u.totalTokens(), u.tokens().cached(), u.tokens().reasoning()));
    assertTrue(u.reported());
    assertEquals("gpt-4o-mini", u.requestedModel().orElseThrow());
    assertEquals("gpt-4o-mini-2024-07-18", u.servedModel().orElseThrow());
    assertEquals("chatcmpl-abc123", u.responseId().orElseThrow());
    assertEquals(List.of("stop"), u.finishReasons());
    assertEquals(200, u.status());
    assertFalse(u.streamed());
    assertEquals(TokenUsage.End.COMPLETE, u.end());
    assertEquals(1, u.attempt());
    assertEquals("p0", u.provider());
    assertNotNull(u.timeToFirstByte());
  }

  @Test
  void chatCompletionStreamWithUsageChunk() throws Exception {
    TokenUsage u = fetch(Fixtures.sse("openai-chat-stream-usage.sse"), "{\"model\":\"gpt-4o-mini\",\"stream\":true}");
    assertEquals(List.of(19L, 2L, 21L, 0L, 0L),
        List.of(u.tokens().prompt(), u.tokens().completion(), u.totalTokens(), u.tokens().cached(), u.tokens().reasoning()));
    assertTrue(u.streamed());
    assertTrue(u.reported());
    assertEquals(TokenUsage.End.COMPLETE, u.end());
    assertNotNull(u.timeToFirstToken().orElseThrow());
  }

  @Test
  void streamWithoutUsageIsUnreportedButComplete() throws Exception {
    TokenUsage u = fetch(Fixtures.sse("openai-chat-stream-no-usage.sse"), "{\"stream\":true}");
    assertFalse(u.reported());
    assertEquals(TokenUsage.End.COMPLETE, u.end());
    assertEquals("gpt-4o", u.servedModel().orElseThrow());
    assertEquals("chatcmpl-2", u.responseId().orElseThrow());
    assertEquals(List.of("stop"), u.finishReasons());
  }

  @Test
  void deepSeekStreamUsageOnTheLastContentChunk() throws Exception {
    TokenUsage u = fetch(Fixtures.sse("deepseek-chat-stream.sse"), "{\"stream\":true}");
    assertEquals(List.of(10L, 2L, 12L), List.of(u.tokens().prompt(), u.tokens().completion(), u.totalTokens()));
    assertEquals(TokenUsage.End.COMPLETE, u.end());
  }

  @Test
  void responsesApiJsonAndStreamAgreeOnShape() throws Exception {
    TokenUsage json = fetch(Fixtures.json("responses.json"), "{}");
    assertEquals(List.of(36L, 87L, 123L), List.of(json.tokens().prompt(), json.tokens().completion(), json.totalTokens()));
    usages.clear();
    TokenUsage stream = fetch(Fixtures.sse("responses-stream.sse"), "{\"stream\":true}");
    assertEquals(List.of(37L, 11L, 48L), List.of(stream.tokens().prompt(), stream.tokens().completion(), stream.totalTokens()));
    assertEquals("gpt-4.1-2025-04-14", stream.servedModel().orElseThrow());
    assertEquals(json.servedModel(), stream.servedModel());
    assertEquals(List.of("resp_1", "completed"), List.of(json.responseId().orElseThrow(), json.finishReasons().get(0)));
    assertEquals(List.of("resp_2", "completed"), List.of(stream.responseId().orElseThrow(), stream.finishReasons().get(0)));
    assertEquals(TokenUsage.End.COMPLETE, stream.end()); // response.completed ends it, no [DONE] needed
  }

  @Test
  void embeddings() throws Exception {
    TokenUsage u = fetch(Fixtures.json("embeddings.json"), "{}");
    assertEquals(List.of(8L, 0L, 8L), List.of(u.tokens().prompt(), u.tokens().completion(), u.totalTokens()));
  }

  @Test
  void tokensAccumulateInTheSnapshot() throws Exception {
    MockWebServer s = up.start(r -> Fixtures.json("openai-chat.json"));
    ProviderPool pool = pool(s);
    OkHttpClient c = up.client(pool);
    for (int i = 0; i < 3; i++) {
      Upstreams.call(c, Upstreams.chat(pool));
    }
    ProviderSnapshot p = pool.snapshot().provider("p0").orElseThrow();
    assertEquals(List.of(69L, 171L, 240L, 36L, 120L, 3L, 3L),
        List.of(p.tokens().prompt(), p.tokens().completion(), p.totalTokens(), p.tokens().cached(), p.tokens().reasoning(),
            p.requests(), p.successes()));
  }

  private static String bigStream(int chunks) {
    StringBuilder sb = new StringBuilder();
    for (int i = 0; i < chunks; i++) {
      sb.append("data: {\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"model\":\"m\",\"choices\":[{\"index\":0,")
          .append("\"delta\":{\"content\":\"token ").append(i).append(" caf\u00e9 \u2603\"},\"finish_reason\":null}]}\n\n");
    }
    sb.append("data: {\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"model\":\"m\",\"choices\":[{\"index\":0,\"delta\":{},")
        .append("\"finish_reason\":\"stop\"}]}\n\n");
    sb.append("data: {\"id\":\"c\",\"choices\":[],\"usage\":{\"prompt_tokens\":1234,\"completion_tokens\":")
        .append(chunks).append(",\"total_tokens\":").append(1234 + chunks).append("}}\n\ndata: [DONE]\n\n");
    return sb.toString();
  }

  @Test
  void bytesReadEqualBytesServedForASeveralMegabyteStreamReadInSmallChunks() throws Exception {
    String body = bigStream(30_000); // about 4 MB
    byte[] served = body.getBytes(java.nio.charset.StandardCharsets.UTF_8);
    assertTrue(served.length > 3_000_000);
    MockWebServer s = up.start(r -> new MockResponse.Builder().addHeader("content-type", "text/event-stream")
        .body(new Buffer().write(served)).build());
    ProviderPool pool = pool(s);
    MessageDigest read = MessageDigest.getInstance("SHA-256");
    try (Response r = up.client(pool).newCall(Upstreams.post(pool, "chat/completions", "{\"stream\":true}")).execute()) {
      BufferedSource src = r.body().source();
      Buffer chunk = new Buffer();
      long n;
      while ((n = src.read(chunk, 7)) != -1) {
        read.update(chunk.readByteArray(n));
      }
    }
    assertArrayEquals(MessageDigest.getInstance("SHA-256").digest(served), read.digest());
    TokenUsage u = only();
    assertEquals(List.of(1234L, 30_000L, 31_234L), List.of(u.tokens().prompt(), u.tokens().completion(), u.totalTokens()));
    assertEquals(TokenUsage.End.COMPLETE, u.end());
  }

  @Test
  void bodyClosedAfterTheFirstChunkReportsOnceWithWhatWasSeen() throws Exception {
    MockWebServer s = up.start(r -> new MockResponse.Builder().addHeader("content-type", "text/event-stream")
        .body(bigStream(20_000)).build());
    ProviderPool pool = pool(s);
    try (Response r = up.client(pool).newCall(Upstreams.post(pool, "chat/completions", "{\"stream\":true}")).execute()) {
      r.body().source().request(1);
      r.body().source().readUtf8Line();
    }
    TokenUsage u = only();
    assertEquals(TokenUsage.End.CLOSED_EARLY, u.end());
    assertFalse(u.reported());
    assertEquals("m", u.servedModel().orElseThrow());
    assertEquals(0, pool.snapshot().inFlight());
    assertEquals(1, pool.snapshot().provider("p0").orElseThrow().successes());
  }

  @Test
  void jsonParsedToItsEndThenClosedIsCompleteAndFeedsTheEstimate() throws Exception {
    FakeTicker ticker = new FakeTicker();
    MockWebServer s = up.start(r -> {
      ticker.advance(java.time.Duration.ofMillis(300));
      return Fixtures.json("openai-chat.json");
    });
    ProviderPool pool = ProviderPool.builder().ticker(ticker).onUsage(usages::add)
        .tier(Provider.builder("p").baseUrl(Upstreams.baseUrl(s)).build()).build();
    try (Response r = up.client(pool).newCall(Upstreams.chat(pool)).execute()) {
      // what an SDK does: parse the JSON document, then close without reading to end of stream
      new com.fasterxml.jackson.databind.ObjectMapper().readTree(r.body().byteStream());
    }
    assertEquals(TokenUsage.End.COMPLETE, only().end());
    // 300 ms for 57 output tokens: 300 x 32 / (57 + 32) = 107.9 ms
    assertEquals(107, pool.snapshot().provider("p").orElseThrow().latencyEstimate().toMillis());
  }

  @Test
  void connectionCutMidStreamReportsOnceAsFailed() throws Exception {
    MockWebServer s = up.start(r -> new MockResponse.Builder().addHeader("content-type", "text/event-stream")
        .body(bigStream(20_000)).onResponseBody(new SocketEffect.CloseSocket()).build());
    ProviderPool pool = pool(s);
    OkHttpClient c = up.client(pool);
    assertThrows(java.io.IOException.class, () -> {
      try (Response r = c.newCall(Upstreams.post(pool, "chat/completions", "{\"stream\":true}")).execute()) {
        r.body().string();
      }
    });
    TokenUsage u = only();
    assertTrue(u.end() == TokenUsage.End.FAILED || u.end() == TokenUsage.End.TRUNCATED, u.end().toString());
    assertEquals(0, pool.snapshot().inFlight());
    assertEquals(1, pool.snapshot().provider("p0").orElseThrow().failures());
  }

  @Test
  void cancelledCallReportsOnceAndIsNotAProviderFailure() throws Exception {
    MockWebServer s = up.start(r -> new MockResponse.Builder().addHeader("content-type", "text/event-stream")
        .body(bigStream(2_000)).throttleBody(4096, 50, TimeUnit.MILLISECONDS).build());
    ProviderPool pool = pool(s);
    Call call = up.client(pool).newCall(Upstreams.post(pool, "chat/completions", "{\"stream\":true}"));
    try (Response r = call.execute()) {
      r.body().source().readUtf8Line();
      call.cancel();
      assertThrows(java.io.IOException.class, () -> r.body().source().readByteArray());
    }
    TokenUsage u = only();
    assertEquals(TokenUsage.End.FAILED, u.end());
    assertEquals(0, pool.snapshot().inFlight());
    assertEquals(0, pool.snapshot().provider("p0").orElseThrow().ejections());
  }

  @Test
  void listenerThatThrowsNeverBreaksTheCall() throws Exception {
    MockWebServer s = up.start(r -> Fixtures.json("openai-chat.json"));
    AtomicInteger calls = new AtomicInteger();
    ProviderPool pool = ProviderPool.builder().tier(Provider.builder("p").baseUrl(Upstreams.baseUrl(s)).build())
        .onUsage(u -> {
          calls.incrementAndGet();
          throw new IllegalStateException("listener bug");
        })
        .onEvent(e -> {
          throw new IllegalStateException("listener bug");
        }).build();
    String[] r = Upstreams.call(up.client(pool), Upstreams.chat(pool));
    assertEquals("200", r[0]);
    assertTrue(r[1].contains("agentgateway works"));
    assertEquals(1, calls.get());
    assertEquals(0, pool.snapshot().inFlight());
  }

  @Test
  void failoverReportsTheFailedAndTheSuccessfulAttempt() throws Exception {
    MockWebServer bad = up.start(r -> Fixtures.http("openai-503.http"));
    MockWebServer good = up.start(r -> Fixtures.json("openai-chat.json"));
    ProviderPool pool = pool(bad, good);
    assertEquals("200", Upstreams.call(up.client(pool), Upstreams.chat(pool))[0]);
    assertEquals(2, usages.size());
    TokenUsage first = usages.get(0);
    TokenUsage second = usages.get(1);
    assertEquals(List.of("p0", "503", "1", "DISCARDED"),
        List.of(first.provider(), "" + first.status(), "" + first.attempt(), first.end().name()));
    assertEquals(List.of("p1", "200", "2", "COMPLETE"),
        List.of(second.provider(), "" + second.status(), "" + second.attempt(), second.end().name()));
    assertEquals(80, second.totalTokens());
    assertEquals(1, second.tier());
  }

  @Test
  void truncatedStreamFailsTheReadAndIsFlagged() throws Exception {
    String cut = "data: {\"id\":\"x\",\"model\":\"m\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"half\"},\"finish_reason\":null}]}\n\n";
    MockWebServer s = up.start(r -> new MockResponse.Builder().addHeader("content-type", "text/event-stream").body(cut).build());
    ProviderPool pool = pool(s);
    TruncatedStreamException e = assertThrows(TruncatedStreamException.class,
        () -> Upstreams.call(up.client(pool), Upstreams.post(pool, "chat/completions", "{\"stream\":true}")));
    assertTrue(e.getMessage().contains("p0"));
    assertEquals(TokenUsage.End.TRUNCATED, only().end());
    assertEquals(0, pool.snapshot().inFlight());
  }

  @Test
  void truncatedStreamCanBeReadToTheEndWhenTheSwitchIsOff() throws Exception {
    String cut = "data: {\"id\":\"x\",\"model\":\"m\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"half\"},\"finish_reason\":null}]}\n\n";
    MockWebServer s = up.start(r -> new MockResponse.Builder().addHeader("content-type", "text/event-stream").body(cut).build());
    ProviderPool pool = ProviderPool.builder().failOnTruncatedStream(false).onUsage(usages::add)
        .tier(Provider.builder("p").baseUrl(Upstreams.baseUrl(s)).build()).build();
    String[] r = Upstreams.call(up.client(pool), Upstreams.post(pool, "chat/completions", "{\"stream\":true}"));
    assertEquals(cut, r[1]);
    assertEquals(TokenUsage.End.TRUNCATED, only().end());
  }
}
