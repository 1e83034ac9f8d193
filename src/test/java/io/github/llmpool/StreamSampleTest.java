package io.github.llmpool;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.llmpool.internal.engine.AttemptLease;
import io.github.llmpool.internal.engine.PoolCore;
import io.github.llmpool.internal.health.ProviderState;
import io.github.llmpool.internal.route.Slot;
import io.github.llmpool.internal.usage.UsageResult;
import java.io.IOException;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import mockwebserver3.MockResponse;
import mockwebserver3.MockResponseBody;
import mockwebserver3.MockWebServer;
import okhttp3.Response;
import okio.BufferedSink;
import okio.BufferedSource;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Where a streamed attempt's latency sample is taken (issue 17 item 6): at its first token, at that
 * ticker time, its time to first token as the signal, once; the end of the body takes no second
 * sample. A non-streamed answer, the plain-latency signal (the whole latency) and the legacy decay
 * still sample at the end. Exact: a fake ticker, and a loopback stream whose chunks the test
 * releases one by one.
 */
class StreamSampleTest {
  private static final long MS = 1_000_000L;
  private final FakeTicker ticker = new FakeTicker();
  private final Upstreams up = new Upstreams();
  private final List<TokenUsage> usages = new CopyOnWriteArrayList<>();
  private final ExecutorService exec = Executors.newSingleThreadExecutor();

  @AfterEach
  void close() {
    exec.shutdownNow();
    up.close();
  }

  private PoolCore core(P2cSettings.Builder p2c) {
    ProviderPool pool = ProviderPool.builder().ticker(ticker).p2c(p2c.build())
        .tier(Provider.builder("a").baseUrl("http://127.0.0.1:9/v1").build(),
            Provider.builder("b").baseUrl("http://127.0.0.1:9/v1").build())
        .build();
    return Internals.core(pool);
  }

  private static UsageResult streamed(int tokens) {
    return new UsageResult(true, 40, tokens, 40 + tokens, 0, 0, "m", true, true, false, false, tokens);
  }

  private static UsageResult json(int tokens) {
    return new UsageResult(true, 40, tokens, 40 + tokens, 0, 0, "m", false, true, false, false, 0);
  }

  private long advance(long millis) {
    ticker.advance(Duration.ofMillis(millis));
    return ticker.read();
  }

  // ------------------------------------------------------------------ the lease, exactly

  @Test
  void aStreamIsSampledAtItsFirstTokenOnceAndNotAgainAtItsEnd() {
    PoolCore core = core(P2cSettings.builder());
    Slot a = core.router().slot("a");
    ProviderState s = a.state;
    long t0 = ticker.read();
    AttemptLease lease = AttemptLease.dispatch(core, a, 1, false, t0, "m", true);
    lease.answered(advance(50), 200, Outcome.SUCCESS, -1);
    assertEquals(-1, s.rawEstimate(), "no sample before the first token");
    assertEquals(1, s.streamsWaiting());
    long t1 = advance(8_050); // a 27x stream: first token 8.1 s after dispatch
    lease.firstToken(t1);
    assertEquals(8_100 * MS, s.rawEstimate());
    assertEquals(t1, s.lastSampleAt());
    assertEquals(1, s.inFlight());
    assertEquals(0, s.awaitingSample(), "measured: exploration need not wait for its end");
    assertEquals(0, s.streamsWaiting());
    lease.firstToken(advance(1)); // a second call takes nothing
    assertEquals(t1, s.lastSampleAt());
    long t2 = advance(20_000); // its answer ends 20 s later
    lease.finish(streamed(74), TokenUsage.End.COMPLETE, t1, t2, (Outcome) null);
    assertEquals(8_100 * MS, s.rawEstimate());
    assertEquals(t1, s.lastSampleAt(), "the end of the body took a second sample");
    assertEquals(0, s.inFlight());
    assertEquals(0, s.awaitingSample());
    lease.firstToken(advance(1)); // after the end: nothing
    assertEquals(t1, s.lastSampleAt());
  }

  @Test
  void aSlowFirstTokenAfterASilenceReplacesTheEstimateWhileTheStreamIsOpen() {
    PoolCore core = core(P2cSettings.builder());
    Slot a = core.router().slot("a");
    long t0 = ticker.read();
    a.state.sample(t0, 300 * MS, core.settings().latency()); // healthy at t0
    long d = advance(6_000); // more than tau / 2 later: the next sample replaces the estimate
    AttemptLease lease = AttemptLease.dispatch(core, a, 1, false, d, "m", true);
    lease.answered(d, 200, Outcome.SUCCESS, -1);
    long t1 = advance(8_100);
    lease.firstToken(t1);
    // the pool knows a is 27x slower 8.1 s after the request left, not ~25 s later when it ends
    assertEquals(8_100 * MS, a.state.rawEstimate());
    assertEquals(8_100, a.state.latencyEstimate(t1, core.settings().latency()) / MS);
    lease.finish(streamed(74), TokenUsage.End.COMPLETE, t1, advance(20_000), (Outcome) null);
    assertEquals(t1, a.state.lastSampleAt());
  }

  @Test
  void anAnswerThatIsNotASuccessTakesNoSampleAtItsFirstToken() {
    PoolCore core = core(P2cSettings.builder());
    Slot a = core.router().slot("a");
    AttemptLease lease = AttemptLease.dispatch(core, a, 1, false, ticker.read(), "m", true);
    lease.firstToken(advance(10)); // no headers yet
    lease.answered(advance(10), 500, Outcome.SERVER_ERROR, -1);
    lease.firstToken(advance(10)); // an error body that happens to be a stream
    assertEquals(-1, a.state.rawEstimate());
    lease.finish(streamed(3), TokenUsage.End.COMPLETE, ticker.read(), advance(10), (Outcome) null);
    assertEquals(-1, a.state.rawEstimate());
  }

  @Test
  void aNonStreamedAnswerIsSampledAtItsEndAsBefore() {
    PoolCore core = core(P2cSettings.builder());
    Slot a = core.router().slot("a");
    long t0 = ticker.read();
    AttemptLease lease = AttemptLease.dispatch(core, a, 1, false, t0, "m", false);
    lease.answered(advance(1_000), 200, Outcome.SUCCESS, -1);
    assertEquals(-1, a.state.rawEstimate());
    assertEquals(1, a.state.awaitingSample());
    long end = advance(600);
    lease.finish(json(64), TokenUsage.End.COMPLETE, -1, end, (Outcome) null);
    assertEquals(1_600 * MS * 32 / (64 + 32), a.state.rawEstimate()); // latency x 32 / (n + 32)
    assertEquals(end, a.state.lastSampleAt());
  }

  @Test
  void thePlainLatencySignalAndTheLegacyDecayStillSampleAtTheEnd() {
    PoolCore plain = core(P2cSettings.builder().llmAware(false));
    P2cSettings.Builder legacy = P2cSettings.builder();
    legacy.legacyDecay = true;
    PoolCore old = core(legacy);
    for (PoolCore core : new PoolCore[] {plain, old}) {
      Slot a = core.router().slot("a");
      long t0 = ticker.read();
      AttemptLease lease = AttemptLease.dispatch(core, a, 1, false, t0, "m", true);
      lease.answered(advance(50), 200, Outcome.SUCCESS, -1);
      long t1 = advance(250);
      lease.firstToken(t1);
      assertEquals(-1, a.state.rawEstimate());
      long end = advance(700);
      lease.finish(streamed(70), TokenUsage.End.COMPLETE, t1, end, (Outcome) null);
      // plain latency: the whole 1 s; legacy: the time to first token, 300 ms, both taken at the end
      assertEquals(core == plain ? 1_000 * MS : 300 * MS, a.state.rawEstimate());
      assertEquals(end, a.state.lastSampleAt());
    }
  }

  // ------------------------------------------------------------------ a stream still waiting for its first token

  @Test
  void aStreamWaitingForItsFirstTokenIsAFloorUnderTheEstimate() {
    io.github.llmpool.internal.health.LatencyModel model =
        new io.github.llmpool.internal.health.LatencyModel(10_000 * MS, 100 * MS, true);
    ProviderState s = new ProviderState("s");
    s.sample(0, 300 * MS, model);
    s.dispatch(1_000 * MS, true);
    assertEquals(1, s.streamsWaiting());
    assertEquals(300, s.latencyEstimate(1_200 * MS, model) / MS); // 200 ms old: below the estimate
    assertEquals(2_000, s.latencyEstimate(3_000 * MS, model) / MS); // 2 s without a token: at least 2 s
    // the cost P2C compares carries the same floor (x 2 for the stream in flight)
    assertEquals(2 * 2_000 * MS, s.cost(3_000 * MS, model, 300.0 * MS, 1), 1e-3);
    ProviderState other = new ProviderState("o");
    other.sample(0, 300 * MS, model);
    other.dispatch(2_999 * MS, false); // a non-streamed attempt is no floor: 300 x 2
    assertEquals(300, other.latencyEstimate(5_000 * MS, model) / MS);
    assertEquals(1, ProviderState.compareCost(s, 300.0 * MS, 1, other, 300.0 * MS, 1, 3_000 * MS, model));
    assertEquals(0, ProviderState.compareCost(s, 300.0 * MS, 1, other, 300.0 * MS, 1, 1_200 * MS, model)); // no floor yet
    s.firstToken(1_000 * MS, 3_100 * MS);
    assertEquals(0, s.streamsWaiting());
    assertEquals(300, s.latencyEstimate(9_000 * MS, model) / MS);
    // the legacy decay has no floor
    io.github.llmpool.internal.health.LatencyModel legacy =
        io.github.llmpool.internal.health.LatencyModel.legacy(10_000 * MS, 100 * MS, true);
    ProviderState old = new ProviderState("old");
    old.sample(0, 300 * MS, legacy);
    old.dispatch(0, true);
    assertEquals(300, old.latencyEstimate(0, legacy) / MS);
    assertEquals(300 * 10.0 / 13, old.latencyEstimate(3_000 * MS, legacy) / (double) MS, 1);
  }

  @Test
  void theOldestWaitingStreamIsBoundedFromBelowNeverOverstated() {
    io.github.llmpool.internal.health.LatencyModel model =
        new io.github.llmpool.internal.health.LatencyModel(10_000 * MS, 100 * MS, true);
    ProviderState s = new ProviderState("s");
    s.sample(0, 100 * MS, model);
    s.dispatch(1_000 * MS, true); // A
    s.dispatch(2_000 * MS, true); // B
    assertEquals(3_000, s.latencyEstimate(4_000 * MS, model) / MS); // A's age
    s.firstToken(2_000 * MS, 4_000 * MS); // B answered: A is still the oldest
    assertEquals(4_000, s.latencyEstimate(5_000 * MS, model) / MS);
    s.dispatch(5_000 * MS, true); // C
    s.firstToken(1_000 * MS, 6_000 * MS); // A answered: C's dispatch is not kept, the bound moves to now
    assertEquals(1, s.streamsWaiting());
    assertEquals(1_000, s.latencyEstimate(7_000 * MS, model) / MS); // C is 2 s old: 1 s is a lower bound
    s.firstToken(5_000 * MS, 7_000 * MS);
    assertEquals(100, s.latencyEstimate(60_000 * MS, model) / MS);
  }

  @Test
  void everyWayAStreamEndsStopsItsWait() {
    PoolCore core = core(P2cSettings.builder());
    ProviderState s = core.router().slot("a").state;
    Slot a = core.router().slot("a");
    AttemptLease failed = AttemptLease.dispatch(core, a, 1, false, ticker.read(), "m", true);
    AttemptLease refused = AttemptLease.dispatch(core, a, 1, false, ticker.read(), "m", true);
    AttemptLease discarded = AttemptLease.dispatch(core, a, 1, false, ticker.read(), "m", true);
    AttemptLease closed = AttemptLease.dispatch(core, a, 1, false, ticker.read(), "m", true);
    AttemptLease json = AttemptLease.dispatch(core, a, 1, false, ticker.read(), "m", false);
    AttemptLease whole = AttemptLease.dispatch(core, a, 1, false, ticker.read(), "m", true);
    assertEquals(5, s.streamsWaiting());
    whole.answered(advance(10), 200, Outcome.SUCCESS, -1);
    whole.notStreamed(ticker.read()); // asked for a stream, answered with one JSON document
    assertEquals(4, s.streamsWaiting());
    long wholeEnd = advance(10);
    whole.finish(json(32), TokenUsage.End.COMPLETE, -1, wholeEnd, (Outcome) null);
    assertEquals(wholeEnd, s.lastSampleAt()); // sampled at its end, as a non-streamed answer
    failed.failedBeforeResponse(Outcome.CONNECTION_FAILURE, advance(10)); // no response
    refused.answered(advance(10), 429, Outcome.RATE_LIMITED, -1); // an error answer: nothing to wait for
    assertEquals(2, s.streamsWaiting());
    discarded.answered(advance(10), 503, Outcome.SERVER_ERROR, -1);
    discarded.discard(advance(10));
    refused.discard(advance(10));
    closed.answered(advance(10), 200, Outcome.SUCCESS, -1);
    assertEquals(1, s.streamsWaiting());
    closed.finish(streamed(0), TokenUsage.End.CLOSED_EARLY, -1, advance(10), (Outcome) null); // no token
    assertEquals(0, s.streamsWaiting());
    json.answered(advance(10), 200, Outcome.SUCCESS, -1);
    json.finish(json(5), TokenUsage.End.COMPLETE, -1, advance(10), (Outcome) null);
    assertEquals(0, s.streamsWaiting());
    assertEquals(0, s.inFlight());
    assertEquals(0, s.awaitingSample());
  }

  // ------------------------------------------------------------------ a real stream on loopback

  /** Chunks of a server-sent-event stream that the test hands over one by one; "" ends the body. */
  private static final class QueuedStream implements MockResponseBody {
    final BlockingQueue<String> chunks = new LinkedBlockingQueue<>();

    @Override
    public long getContentLength() {
      return -1;
    }

    @Override
    public void writeTo(BufferedSink sink) throws IOException {
      try {
        while (true) {
          String data = chunks.poll(10, TimeUnit.SECONDS);
          if (data == null) {
            throw new IOException("the test sent no chunk within 10 s");
          }
          if (data.isEmpty()) {
            sink.writeUtf8("0\r\n"); // MockWebServer writes the (empty) trailers and the final CRLF
            sink.flush();
            return;
          }
          byte[] bytes = data.getBytes(java.nio.charset.StandardCharsets.UTF_8);
          sink.writeUtf8(Integer.toHexString(bytes.length)).writeUtf8("\r\n").write(bytes).writeUtf8("\r\n");
          sink.flush();
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new java.io.InterruptedIOException("interrupted");
      }
    }
  }

  private static String delta(String content) {
    return "data: {\"id\":\"c1\",\"object\":\"chat.completion.chunk\",\"model\":\"m\",\"choices\":[{\"index\":0,"
        + "\"delta\":{\"content\":\"" + content + "\"},\"finish_reason\":null}]}\n\n";
  }

  @Test
  void aStreamRequestAnsweredWithOneJsonDocumentWaitsForNoFirstToken() throws Exception {
    MockWebServer server = up.start(r -> Fixtures.json("openai-chat.json"));
    ProviderPool pool = ProviderPool.builder().ticker(ticker)
        .tier(Provider.builder("p").baseUrl(Upstreams.baseUrl(server)).build()).build();
    ProviderState state = Internals.core(pool).router().slot("p").state;
    try (Response r = up.client(pool).newCall(Upstreams.post(pool, "chat/completions", "{\"stream\":true}")).execute()) {
      assertEquals(1, state.inFlight()); // the body is not read yet
      assertEquals(0, state.streamsWaiting(), "a JSON answer is no stream waiting for its first token");
      r.body().string();
    }
    assertEquals(0, state.inFlight());
  }

  @Test
  void aLoopbackStreamIsSampledWhenItsFirstTokenIsReadWhileTheBodyIsStillOpen() throws Exception {
    QueuedStream body = new QueuedStream();
    java.util.concurrent.CountDownLatch arrived = new java.util.concurrent.CountDownLatch(1);
    MockWebServer server = up.start(r -> {
      arrived.countDown(); // the pool dispatched the attempt before it was sent
      return new MockResponse.Builder().code(200)
          .setHeader("Content-Type", "text/event-stream").setHeader("Transfer-Encoding", "chunked")
          .body(body).build();
    });
    ProviderPool pool = ProviderPool.builder().ticker(ticker).onUsage(usages::add)
        .tier(Provider.builder("p").baseUrl(Upstreams.baseUrl(server)).build()).build();
    ProviderState state = Internals.core(pool).router().slot("p").state;
    Future<Response> call = exec.submit(() -> up.client(pool)
        .newCall(Upstreams.post(pool, "chat/completions", "{\"stream\":true}")).execute());
    long t0 = ticker.read(); // the pool dispatches at t0 (the ticker moves only by hand)
    assertTrue(arrived.await(10, TimeUnit.SECONDS), "the request reached the provider");
    long t1 = advance(8_100);
    body.chunks.put(delta("Hel"));
    try (Response r = call.get(10, TimeUnit.SECONDS)) {
      BufferedSource src = r.body().source();
      assertTrue(src.readUtf8Line().startsWith("data: {"), "the first event");
      // the sample is in while the stream is still open: 8.1 s, at t1
      assertEquals(Duration.ofMillis(8_100), pool.snapshot().provider("p").orElseThrow().latencyEstimate());
      assertEquals(t1, state.lastSampleAt());
      assertEquals(1, pool.snapshot().provider("p").orElseThrow().inFlight());
      long t2 = advance(20_000); // the rest of the answer, 20 s later
      body.chunks.put(delta("lo"));
      body.chunks.put("data: {\"id\":\"c1\",\"object\":\"chat.completion.chunk\",\"model\":\"m\",\"choices\":[{\"index\":0,"
          + "\"delta\":{},\"finish_reason\":\"stop\"}],\"usage\":{\"prompt_tokens\":5,\"completion_tokens\":2,"
          + "\"total_tokens\":7}}\n\n");
      body.chunks.put("data: [DONE]\n\n");
      body.chunks.put("");
      src.readUtf8();
      assertEquals(t2 - t0, Duration.ofMillis(28_100).toNanos());
    }
    assertEquals(0, pool.snapshot().inFlight());
    assertEquals(t1, state.lastSampleAt(), "the end of the body took a second sample");
    assertEquals(Duration.ofMillis(8_100), pool.snapshot().provider("p").orElseThrow().latencyEstimate());
    assertEquals(1, usages.size(), "records: " + usages);
    TokenUsage u = usages.get(0);
    assertEquals(TokenUsage.End.COMPLETE, u.end());
    assertNotNull(u.timeToFirstToken().orElse(null));
    assertEquals(Duration.ofMillis(8_100), u.timeToFirstToken().orElseThrow());
    assertEquals(Duration.ofMillis(28_100), u.duration());
  }
}
