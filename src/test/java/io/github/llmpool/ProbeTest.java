package io.github.llmpool;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.github.llmpool.internal.engine.PoolCore;
import io.github.llmpool.internal.health.LatencyModel;
import io.github.llmpool.internal.health.ProviderState;
import io.github.llmpool.internal.route.Slot;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import mockwebserver3.MockResponse;
import mockwebserver3.MockWebServer;
import mockwebserver3.RecordedRequest;
import okhttp3.OkHttpClient;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Probes ({@code P2cSettings.probes}, issue 17 item 6): a provider that still looks slow is
 * re-measured by a one-token streamed chat completion of the pool's own, not by a caller's request.
 * Real loopback servers, a fake ticker; the estimates are set through the provider states so the
 * "slow" provider is slow exactly, and every wait for the asynchronous probe is on an event (the
 * server's recorded request, the probe's usage record), never on time.
 */
class ProbeTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final long MS = 1_000_000L;
  private static final String STREAM_CHAT = "{\"model\":\"gpt-4o-mini\",\"stream\":true,\"max_completion_tokens\":64,"
      + "\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}";

  private final FakeTicker ticker = new FakeTicker();
  private final Upstreams up = new Upstreams();
  private final BlockingQueue<TokenUsage> usages = new LinkedBlockingQueue<>();
  private final BlockingQueue<io.github.llmpool.spi.AttemptEnd> ends = new LinkedBlockingQueue<>();
  private final BlockingQueue<RecordedRequest> atC = new LinkedBlockingQueue<>();
  private MockWebServer a;
  private MockWebServer b;
  private MockWebServer c;
  private volatile MockResponse cAnswer = Fixtures.sse("openai-chat-stream-usage.sse");

  @AfterEach
  void close() {
    up.close();
  }

  private ProviderPool pool(boolean probes) {
    return pool(probes, null);
  }

  private ProviderPool pool(boolean probes, OkHttpClient probeClient) {
    return pool(probes, probeClient, null);
  }

  private ProviderPool pool(boolean probes, OkHttpClient probeClient, Budget budget) {
    a = up.start(r -> Fixtures.sse("openai-chat-stream-usage.sse"));
    b = up.start(r -> Fixtures.sse("openai-chat-stream-usage.sse"));
    c = up.start(r -> {
      atC.add(r);
      return cAnswer;
    });
    ProviderPool.Builder builder = ProviderPool.builder().ticker(ticker).random(ScriptedRandom.seeded(17));
    if (probeClient != null) {
      builder.probeClient(probeClient);
    }
    if (budget != null) {
      builder.budget(budget);
    }
    return builder
        .p2c(P2cSettings.builder().probes(probes).build())
        .onUsage(usages::add)
        .onAttempt(new io.github.llmpool.spi.AttemptListener() {
          @Override
          public void onEnd(io.github.llmpool.spi.AttemptEnd end) {
            ends.add(end);
          }
        })
        .tier(Provider.builder("a").baseUrl(Upstreams.baseUrl(a)).apiKey("sk-a-secret").build(),
            Provider.builder("b").baseUrl(Upstreams.baseUrl(b)).apiKey("sk-b-secret").build(),
            Provider.builder("c").baseUrl(Upstreams.baseUrl(c)).apiKey("sk-c-secret").build())
        .build();
  }

  /** One caller's streamed chat completion to {@code provider} (the others drained for it), read to its end. */
  private void sendTo(ProviderPool pool, OkHttpClient client, String provider) throws Exception {
    sendTo(pool, client, provider, STREAM_CHAT);
  }

  private void sendTo(ProviderPool pool, OkHttpClient client, String provider, String json) throws Exception {
    for (String p : List.of("a", "b", "c")) {
      if (!p.equals(provider)) {
        pool.drain(p);
      }
    }
    String[] r = Upstreams.call(client, Upstreams.post(pool, "chat/completions", json));
    assertEquals("200", r[0]);
    pool.resumeAll();
    assertEquals(provider, usages.poll(5, TimeUnit.SECONDS).provider());
  }

  /**
   * Every provider has served one caller's chat completion (so the pool knows what to probe it
   * with); then c measures 20x the others and the others are measured again after {@code tau}: c
   * is the one provider that still looks bad and is due its re-measurement.
   */
  private PoolCore cStillBad(ProviderPool pool, OkHttpClient client) throws Exception {
    return cStillBad(pool, client, STREAM_CHAT);
  }

  private PoolCore cStillBad(ProviderPool pool, OkHttpClient client, String json) throws Exception {
    sendTo(pool, client, "a", json);
    sendTo(pool, client, "b", json);
    sendTo(pool, client, "c", json);
    atC.clear();
    ends.clear();
    PoolCore core = Internals.core(pool);
    LatencyModel m = core.settings().latency();
    ProviderState sc = core.router().slot("c").state;
    long now = ticker.read();
    sc.sample(now, 2_000 * MS, now, m);
    ticker.advance(Duration.ofMillis(10_100)); // past c's bad exploration age (tau)
    othersMeasuredNow(core);
    return core;
  }

  @Test
  void aProviderThatStillLooksSlowIsReMeasuredByAOneTokenProbeNotByTheCallersRequest() throws Exception {
    ProviderPool pool = pool(true);
    OkHttpClient client = up.client(pool);
    PoolCore core = cStillBad(pool, client);
    Slot c = core.router().slot("c");
    long before = c.state.lastSampleAt();

    String[] r = Upstreams.call(client, Upstreams.post(pool, "chat/completions", STREAM_CHAT));
    assertEquals("200", r[0]);

    // The pool's own request reached c, in the caller's shape, asking for one token...
    RecordedRequest probe = atC.poll(5, TimeUnit.SECONDS);
    assertNotNull(probe, "c was probed");
    assertEquals("/v1/chat/completions", probe.getTarget());
    assertEquals("Bearer sk-c-secret", probe.getHeaders().get("Authorization"));
    JsonNode body = JSON.readTree(probe.getBody().utf8());
    assertEquals("gpt-4o-mini", body.get("model").asText());
    assertEquals(1, body.get("max_completion_tokens").asInt(), "the caller's budget name, one token");
    assertFalse(body.has("max_tokens"));
    assertTrue(body.get("stream").asBoolean());
    // ... while the caller's request went elsewhere.
    TokenUsage first = usages.poll(5, TimeUnit.SECONDS);
    TokenUsage second = usages.poll(5, TimeUnit.SECONDS);
    assertNotNull(second, "the caller's attempt and the probe each end with a usage record");
    TokenUsage callers = first.provider().equals("c") ? second : first;
    TokenUsage probes = first.provider().equals("c") ? first : second;
    assertNotEquals("c", callers.provider(), "the caller's request is not the re-measurement");
    assertEquals("c", probes.provider());
    assertEquals(1, probes.attempt());
    assertTrue(probes.streamed());
    assertTrue(probes.latencyProbe(), "the probe's usage says it was the pool's own request: " + probes);
    assertFalse(callers.latencyProbe(), "the caller's does not");
    io.github.llmpool.spi.AttemptEnd e1 = ends.poll(5, TimeUnit.SECONDS);
    io.github.llmpool.spi.AttemptEnd e2 = ends.poll(5, TimeUnit.SECONDS);
    assertNotNull(e2);
    io.github.llmpool.spi.AttemptEnd probeEnd = e1.start().provider().equals("c") ? e1 : e2;
    io.github.llmpool.spi.AttemptEnd callerEnd = probeEnd == e1 ? e2 : e1;
    assertTrue(probeEnd.start().latencyProbe(), probeEnd.start().toString());
    assertEquals(0, probeEnd.start().requestId(), "a probe belongs to no caller's request");
    assertFalse(callerEnd.start().latencyProbe());
    assertNotEquals(0, callerEnd.start().requestId());
    // Its first token is c's sample now: the estimate is what c measures today.
    assertTrue(c.state.lastSampleAt() - before > 0, "c was measured again by the probe");
    assertTrue(c.state.rawEstimate() < 2_000 * MS, "the probe's fast first token replaced the slow estimate");
    assertFalse(c.state.evicted());
  }

  @Test
  void aProbeIsChargedToTheProvidersBudgetsLikeACallersRequest() throws Exception {
    ProviderPool pool = pool(true, null,
        Budget.builder("c-tokens").tokens(1_000_000).window(Budget.Window.HOUR).provider("c").build());
    OkHttpClient client = up.client(pool);
    cStillBad(pool, client);
    assertEquals(21, pool.snapshot().budget("c-tokens").orElseThrow().spent().longValueExact(), "c's caller");

    Upstreams.call(client, Upstreams.post(pool, "chat/completions", STREAM_CHAT));
    assertNotNull(atC.poll(5, TimeUnit.SECONDS), "c was probed");
    TokenUsage probe = waitForUsageOf("c");
    assertEquals(21, probe.totalTokens(), "the fixture's usage");
    BudgetSnapshot b = pool.snapshot().budget("c-tokens").orElseThrow();
    assertEquals(42, b.spent().longValueExact(), "the probe's 21 tokens are spent from c's budget: " + b);
    assertEquals(0, b.reserved().signum(), "and its reservation settled: " + b);
  }

  @Test
  void aProbeTheProvidersBudgetWouldNotTakeIsNotSent() throws Exception {
    // A caller's request smaller than the probe's, so that c's budget takes the caller's but not the probe's.
    String tiny = "{\"stream\":true,\"max_completion_tokens\":1,\"messages\":[]}";
    long callerCost = (tiny.length() + 3) / 4 + 1;
    long probeCost = (io.github.llmpool.internal.okhttp.Prober.body(null, true).length() + 3) / 4 + 1;
    assertTrue(callerCost < probeCost - 1, callerCost + " < " + probeCost);
    // After c's caller (21 tokens, the fixture's usage) the budget has one token less than the probe needs.
    ProviderPool pool = pool(true, null,
        Budget.builder("c-tokens").tokens(21 + probeCost - 1).window(Budget.Window.HOUR).provider("c").build());
    OkHttpClient client = up.client(pool);
    cStillBad(pool, client, tiny);

    String[] r = Upstreams.call(client, Upstreams.post(pool, "chat/completions", tiny));
    assertEquals("200", r[0]);
    // Counted when sent, before the caller's attempt: exact once the call returns.
    assertEquals(0, pool.snapshot().provider("c").orElseThrow().probes(), "no probe was sent to c");
    assertNull(atC.poll(0, TimeUnit.SECONDS));
    BudgetSnapshot b = pool.snapshot().budget("c-tokens").orElseThrow();
    assertEquals(21, b.spent().longValueExact(), b.toString());
    assertEquals(0, b.reserved().signum(), "nothing left reserved: " + b);
    // With room for it, the next due probe goes out.
    usages.clear();
    ProviderPool roomy = pool(true, null,
        Budget.builder("c-tokens").tokens(21 + probeCost).window(Budget.Window.HOUR).provider("c").build());
    OkHttpClient roomyClient = up.client(roomy);
    cStillBad(roomy, roomyClient, tiny);
    Upstreams.call(roomyClient, Upstreams.post(roomy, "chat/completions", tiny));
    assertEquals(1, roomy.snapshot().provider("c").orElseThrow().probes(), "with one token more, c is probed");
  }

  @Test
  void aStillBadProviderIsProbedOnceItsLastSampleIsThreeQuartersOfTauOld() throws Exception {
    ProviderPool pool = pool(true);
    OkHttpClient client = up.client(pool);
    sendTo(pool, client, "a");
    sendTo(pool, client, "b");
    sendTo(pool, client, "c");
    PoolCore core = Internals.core(pool);
    LatencyModel m = core.settings().latency();
    assertEquals(7_500 * MS, m.probeAgeNanos(), "0.75 tau");
    long t0 = ticker.read();
    core.router().slot("c").state.sample(t0, 2_000 * MS, t0, m);
    for (long at : new long[] {7_400, 7_600}) {
      ticker.advance(Duration.ofMillis(at - (ticker.read() - t0) / MS));
      othersMeasuredNow(core);
      Upstreams.call(client, Upstreams.post(pool, "chat/completions", STREAM_CHAT));
      // counted when it is sent, before the caller's own attempt: exact once the call returns
      assertEquals(at < 7_500 ? 0 : 1, pool.snapshot().provider("c").orElseThrow().probes(), "at " + at + " ms");
    }
    assertNotNull(atC.poll(5, TimeUnit.SECONDS));
  }

  @Test
  void withoutProbesTheCallersRequestIsTheReMeasurement() throws Exception {
    ProviderPool pool = pool(false);
    OkHttpClient client = up.client(pool);
    cStillBad(pool, client);

    Upstreams.call(client, Upstreams.post(pool, "chat/completions", STREAM_CHAT));

    RecordedRequest explored = atC.poll(5, TimeUnit.SECONDS);
    assertNotNull(explored, "c was explored");
    assertEquals(64, JSON.readTree(explored.getBody().utf8()).get("max_completion_tokens").asInt(),
        "the caller's own request went to c");
    assertEquals("c", usages.poll(5, TimeUnit.SECONDS).provider());
  }

  @Test
  void aProviderIsProbedAtMostOncePerDecayTime() throws Exception {
    ProviderPool pool = pool(true);
    OkHttpClient client = up.client(pool);
    PoolCore core = cStillBad(pool, client);
    cAnswer = new MockResponse.Builder().code(500).body("{\"error\":{\"message\":\"busy\"}}").build();

    Upstreams.call(client, Upstreams.post(pool, "chat/completions", STREAM_CHAT));
    assertNotNull(atC.poll(5, TimeUnit.SECONDS), "the first probe");
    assertEquals("c", waitForUsageOf("c").provider()); // the failed probe ended
    for (int i = 0; i < 30; i++) { // well past the 10 attempts per probe
      Upstreams.call(client, Upstreams.post(pool, "chat/completions", STREAM_CHAT));
    }
    assertNull(atC.poll(0, TimeUnit.SECONDS), "no second probe, and no caller's request, within tau");
    assertEquals(1, up.count(c) - 1, "c served one caller's request (the set-up) and one probe");
    // A 500 to a probe is the provider's answer: it counts against c like a caller's 500.
    assertEquals(1, pool.snapshot().provider("c").orElseThrow().failures());
  }

  @Test
  void aProbeTheProviderRefusesAsAClientErrorTurnsProbesOffForItAndCallersExploreItAgain() throws Exception {
    ProviderPool pool = pool(true);
    OkHttpClient client = up.client(pool);
    PoolCore core = cStillBad(pool, client);
    cAnswer = new MockResponse.Builder().code(400)
        .body("{\"error\":{\"message\":\"max_completion_tokens is too small\",\"type\":\"invalid_request_error\"}}")
        .build();
    Slot c = core.router().slot("c");

    Upstreams.call(client, Upstreams.post(pool, "chat/completions", STREAM_CHAT));
    assertNotNull(atC.poll(5, TimeUnit.SECONDS), "the probe");
    waitForUsageOf("c");
    assertTrue(core.probes().isRefused(c));
    assertFalse(core.probes().canProbe(c, ticker.read()));
    assertFalse(c.state.evicted(), "a client error evicts nothing");

    // From now on c is explored as without probes: by a caller's request, once it is due again.
    cAnswer = Fixtures.sse("openai-chat-stream-usage.sse");
    ticker.advance(Duration.ofMillis(10_100));
    othersMeasuredNow(core);
    RecordedRequest next = null;
    for (int i = 0; i < 60 && next == null; i++) { // the exploration budget: one pick in 50
      Upstreams.call(client, Upstreams.post(pool, "chat/completions", STREAM_CHAT));
      next = atC.poll(0, TimeUnit.SECONDS);
    }
    assertNotNull(next, "c was explored again");
    assertEquals(64, JSON.readTree(next.getBody().utf8()).get("max_completion_tokens").asInt(), "by a caller");
  }

  @Test
  void aProbeThatCannotConnectIsNoVerdictOnTheProvider() throws Exception {
    ProviderPool pool = pool(true);
    OkHttpClient client = up.client(pool);
    PoolCore core = cStillBad(pool, client);
    Slot c = core.router().slot("c");
    this.c.close(); // nothing listens on c's port any more

    Upstreams.call(client, Upstreams.post(pool, "chat/completions", STREAM_CHAT));
    io.github.llmpool.spi.AttemptEnd end = null;
    for (int i = 0; i < 10 && (end == null || !end.start().provider().equals("c")); i++) {
      end = ends.poll(5, TimeUnit.SECONDS); // the probe's end, on the probe client's thread
    }
    assertNotNull(end);
    assertEquals("c", end.start().provider());
    assertTrue(end.outcome().isEmpty(), "no verdict: " + end.outcome());
    assertFalse(c.state.evicted(), "the probe client's failure is not the provider's");
    assertEquals(ProviderSnapshot.Status.AVAILABLE, pool.snapshot().provider("c").orElseThrow().status());
    // Paused for ten probe intervals (10 x 0.75 tau = 75 s at tau = 10 s), counted from the failure.
    assertFalse(core.probes().canProbe(c, ticker.read() + 10_100 * MS), "no probes of c for a while");
    assertFalse(core.probes().canProbe(c, ticker.read() + 74_900 * MS), "not before 7.5 tau have passed");
    assertTrue(core.probes().canProbe(c, ticker.read() + 75_100 * MS), "and again once they have");
  }

  @Test
  void probesGoThroughTheProbeClientWhenOneIsSet() throws Exception {
    OkHttpClient mine = new OkHttpClient.Builder()
        .addInterceptor(chain -> chain.proceed(chain.request().newBuilder().header("X-Through", "mine").build()))
        .build();
    try {
      ProviderPool pool = pool(true, mine);
      OkHttpClient client = up.client(pool);
      cStillBad(pool, client);
      Upstreams.call(client, Upstreams.post(pool, "chat/completions", STREAM_CHAT));
      RecordedRequest probe = atC.poll(5, TimeUnit.SECONDS);
      assertNotNull(probe);
      assertEquals("mine", probe.getHeaders().get("X-Through"), "sent with the configured client");
      assertEquals(1, JSON.readTree(probe.getBody().utf8()).get("max_completion_tokens").asInt());
    } finally {
      mine.dispatcher().executorService().shutdown();
      mine.connectionPool().evictAll();
    }
  }

  @Test
  void aProbeClientThatCannotTakeTheCallLeavesNoCounterBehind() throws Exception {
    OkHttpClient closed = new OkHttpClient.Builder().build();
    closed.dispatcher().executorService().shutdown(); // every call it is given fails at once
    ProviderPool pool = pool(true, closed);
    OkHttpClient client = up.client(pool);
    PoolCore core = cStillBad(pool, client);
    Slot c = core.router().slot("c");

    String[] r = Upstreams.call(client, Upstreams.post(pool, "chat/completions", STREAM_CHAT));
    assertEquals("200", r[0], "the caller's request is served whatever happens to the probe");
    io.github.llmpool.spi.AttemptEnd end = null;
    for (int i = 0; i < 10 && (end == null || !end.start().provider().equals("c")); i++) {
      end = ends.poll(5, TimeUnit.SECONDS);
    }
    assertNotNull(end, "the probe ended");
    assertTrue(end.outcome().isEmpty(), "no verdict");
    assertEquals(1, pool.snapshot().provider("c").orElseThrow().probes());
    assertEquals(0, pool.snapshot().provider("c").orElseThrow().inFlight(), "nothing left in flight");
    assertEquals(0, c.state.awaitingSample(), "nothing holds exploration off");
    assertFalse(c.state.evicted());
  }

  @Test
  void aProbesBodyIsValidJsonForAnyModelName() throws Exception {
    String body = io.github.llmpool.internal.okhttp.Prober.body("we\"ird\\model\n", false);
    JsonNode n = JSON.readTree(body);
    assertEquals("we\"ird\\model\n", n.get("model").asText());
    assertEquals(1, n.get("max_tokens").asInt());
    assertTrue(n.get("stream").asBoolean());
    assertFalse(JSON.readTree(io.github.llmpool.internal.okhttp.Prober.body(null, true)).has("model"));
  }

  /** a and b measured at 100 ms now: fresh, so only c can be due a re-measurement. */
  private void othersMeasuredNow(PoolCore core) {
    long now = ticker.read();
    for (String p : List.of("a", "b")) {
      core.router().slot(p).state.sample(now, 100 * MS, now, core.settings().latency());
    }
  }

  private TokenUsage waitForUsageOf(String provider) throws InterruptedException {
    for (int i = 0; i < 10; i++) {
      TokenUsage u = usages.poll(5, TimeUnit.SECONDS);
      if (u == null) {
        break;
      }
      if (u.provider().equals(provider)) {
        return u;
      }
    }
    throw new AssertionError("no usage record of " + provider);
  }
}
