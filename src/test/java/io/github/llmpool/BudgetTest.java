package io.github.llmpool;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.llmpool.internal.health.BudgetGate;
import io.github.llmpool.internal.health.BudgetState;
import java.io.IOException;
import java.math.BigDecimal;
import java.math.RoundingMode;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongUnaryOperator;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import mockwebserver3.MockResponse;
import mockwebserver3.MockWebServer;
import mockwebserver3.RecordedRequest;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import okhttp3.RequestBody;
import okhttp3.Response;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Budgets (#19 item 3) through real pools against loopback upstreams that report usage: the
 * arithmetic of reservation and settlement, the bound under 64 concurrent threads, a request
 * without max_tokens on a nearly unspent budget, tier spill and return at the window's reset,
 * the pool-wide refusal, and bad input.
 */
class BudgetTest {
  private final Upstreams up = new Upstreams();
  private final List<PoolEvent> events = new CopyOnWriteArrayList<>();
  private final FakeTicker ticker = new FakeTicker();

  private static final Pattern MAX_TOKENS = Pattern.compile("\"max_tokens\":(\\d+)");
  private static final Price GPT4O = Price.builder("USD").input("2.50").output("10").build();

  @AfterEach
  void close() {
    up.close();
  }

  /** A chat body of exactly {@code bytes} bytes (padding in the message), with max_tokens unless -1. */
  static String body(int bytes, long maxTokens) {
    String head = "{\"model\":\"m\"" + (maxTokens >= 0 ? ",\"max_tokens\":" + maxTokens : "")
        + ",\"messages\":[{\"role\":\"user\",\"content\":\"";
    String tail = "\"}]}";
    int pad = bytes - head.length() - tail.length();
    assertTrue(pad >= 0, "body too small");
    return head + "x".repeat(pad) + tail;
  }

  /** The pool's prompt estimate of a body: its bytes / 4, rounded up. */
  static long promptEstimate(String body) {
    return (body.getBytes(StandardCharsets.UTF_8).length + 3L) / 4;
  }

  static MockResponse usage(long prompt, long completion) {
    return new MockResponse.Builder().code(200).addHeader("content-type", "application/json")
        .body("{\"id\":\"c1\",\"object\":\"chat.completion\",\"model\":\"m\",\"choices\":[{\"index\":0,"
            + "\"message\":{\"role\":\"assistant\",\"content\":\"ok\"},\"finish_reason\":\"stop\"}],"
            + "\"usage\":{\"prompt_tokens\":" + prompt + ",\"completion_tokens\":" + completion + ",\"total_tokens\":"
            + (prompt + completion) + "}}")
        .build();
  }

  /**
   * An upstream that reports the request's own prompt estimate as prompt tokens and
   * {@code completion(max_tokens or -1)} as completion tokens.
   */
  MockWebServer reporting(LongUnaryOperator completion) {
    return up.start(r -> {
      String b = r.getBody() == null ? "" : r.getBody().utf8();
      Matcher m = MAX_TOKENS.matcher(b);
      long max = m.find() ? Long.parseLong(m.group(1)) : -1;
      return usage(promptEstimate(b), completion.applyAsLong(max));
    });
  }

  static Request post(ProviderPool pool, String json) {
    return new Request.Builder().url(pool.baseUrl().resolve("chat/completions").toString())
        .post(RequestBody.create(json, Upstreams.JSON)).build();
  }

  static int call(OkHttpClient client, Request r) throws IOException {
    try (Response resp = client.newCall(r).execute()) {
      resp.body().string();
      return resp.code();
    }
  }

  private ProviderPool.Builder pool() {
    return ProviderPool.builder().strategy(Strategy.ROUND_ROBIN).ticker(ticker).onEvent(events::add)
        .whenAllEvicted(AllEvictedPolicy.FAIL_FAST);
  }

  private static void assertAmount(String expected, BigDecimal actual) {
    assertEquals(0, new BigDecimal(expected).compareTo(actual), "expected " + expected + " but was " + actual);
  }

  // ------------------------------------------------------------------ arithmetic

  @Test
  void reservationIsThePromptEstimatePlusCappedCompletionAtTheContextTiersPrice() {
    Price tiered = Price.builder("USD").input("1.25").cachedInput("0.31").output("10")
        .above(1000, Price.builder("USD").input("2.50").output("15").build()).build();
    Budget money = Budget.builder("m").amount("100", "USD").window(Budget.Window.DAY).reservationCap(500).build();
    BudgetGate gate = new BudgetGate(new BudgetState(money, 0), tiered);
    // at the threshold: base rates; one token above it: the tier's, for prompt and completion alike
    long[][] cases = {{1000, 200}, {1001, 200}, {1001, -1}, {7, 10_000}, {0, 0}, {250_000, 499}};
    for (long[] c : cases) {
      long completion = c[1] < 0 ? 500 : Math.min(c[1], 500);
      BigDecimal exact = tiered.amount(TokenCounts.builder().prompt(c[0]).completion(completion)
          .total(c[0] + completion).build());
      long units = exact.movePointRight(9).setScale(0, RoundingMode.CEILING).longValueExact();
      assertEquals(units, gate.estimate(c[0], c[1]), "prompt " + c[0] + ", max_tokens " + c[1]);
    }
    // 1000 x 1.25 + 200 x 10 per 1M = 0.00325 USD; 1001 x 2.5 + 200 x 15 = 0.0055025 USD
    assertEquals(3_250_000, gate.estimate(1000, 200));
    assertEquals(5_502_500, gate.estimate(1001, 200));

    Budget tokens = Budget.builder("t").tokens(10_000).window(Budget.Window.HOUR).build();
    BudgetGate tg = new BudgetGate(new BudgetState(tokens, 0), tiered);
    assertEquals(300 + 1024, tg.estimate(300, -1)); // default cap when max_tokens is absent
    assertEquals(300 + 1024, tg.estimate(300, 1_000_000_000L)); // a larger max_tokens is capped
    assertEquals(300 + 50, tg.estimate(300, 50));
    // a money budget on an unpriced provider reserves nothing
    assertEquals(0, new BudgetGate(new BudgetState(money, 0), null).estimate(5000, 100));
  }

  @Test
  void reservedWhileInFlightAndSettledToTheExactCost() throws Exception {
    CountDownLatch arrived = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    MockWebServer s = up.start(r -> {
      arrived.countDown();
      try {
        release.await(10, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      return usage(1234, 56);
    });
    ProviderPool p = pool().tier(Provider.builder("a").baseUrl(Upstreams.baseUrl(s)).price(GPT4O).build())
        .budget(Budget.builder("usd").amount("1", "USD").window(Budget.Window.DAY).build())
        .budget(Budget.builder("tok").tokens(1_000_000).window(Budget.Window.DAY).provider("a").build()).build();
    OkHttpClient c = up.client(p);
    String json = body(400, 80);
    ExecutorService ex = Executors.newSingleThreadExecutor();
    try {
      Future<Integer> f = ex.submit(() -> call(c, post(p, json)));
      assertTrue(arrived.await(10, TimeUnit.SECONDS));
      // reserved: 100 prompt tokens (400 bytes / 4) + 80 completion, at 2.5 and 10 per 1M
      BudgetSnapshot usd = p.snapshot().budget("usd").orElseThrow();
      assertAmount("0.00105", usd.reserved());
      assertAmount("0", usd.spent());
      assertAmount("180", p.snapshot().budget("tok").orElseThrow().reserved());
      release.countDown();
      assertEquals(200, f.get(10, TimeUnit.SECONDS));
    } finally {
      release.countDown();
      ex.shutdownNow();
    }
    // settled to the reported usage: 1234 x 2.5 + 56 x 10 per 1M = 0.003645 USD; 1290 tokens
    BudgetSnapshot usd = p.snapshot().budget("usd").orElseThrow();
    assertAmount("0.003645", usd.spent());
    assertAmount("0", usd.reserved());
    assertEquals(1, usd.attempts());
    assertEquals(0, p.snapshot().provider("a").orElseThrow().spend().get("USD").compareTo(usd.spent()));
    BudgetSnapshot tok = p.snapshot().budget("tok").orElseThrow();
    assertAmount("1290", tok.spent());
    assertAmount("0", tok.reserved());
    assertFalse(tok.exhausted());
    assertEquals(Instant.ofEpochMilli(ticker.wallMillis()).atZone(ZoneId.of("UTC")).toLocalDate().atStartOfDay(
        ZoneId.of("UTC")).toInstant(), tok.windowStart());
    assertEquals(tok.windowStart().plus(Duration.ofDays(1)), tok.resetAt());
  }

  @Test
  void aFailedOverAttemptSettlesToWhatItCostAndAnUnpricedProviderCountsApart() throws Exception {
    MockWebServer bad = up.start(r -> new MockResponse.Builder().code(500).body("{}").build());
    MockWebServer free = reporting(max -> 10);
    ProviderPool p = pool().retry(RetryPolicy.builder().maxAttempts(3).budgetRatio(1).build())
        .tier(Provider.builder("bad").baseUrl(Upstreams.baseUrl(bad)).price(GPT4O).build())
        .tier(Provider.builder("free").baseUrl(Upstreams.baseUrl(free)).build())
        .budget(Budget.builder("usd").amount("1", "USD").window(Budget.Window.DAY).build()).build();
    assertEquals(200, call(up.client(p), post(p, body(400, 10))));
    BudgetSnapshot b = p.snapshot().budget("usd").orElseThrow();
    assertAmount("0", b.spent()); // the 500 cost nothing; the unpriced answer counts 0
    assertAmount("0", b.reserved());
    assertEquals(2, b.attempts());
    assertEquals(1, b.unpricedAttempts());
  }

  // ------------------------------------------------------------------ concurrency

  @Test
  void sixtyFourThreadsNeverOvershootWhenEveryRequestNamesMaxTokens() throws Exception {
    AtomicInteger served = new AtomicInteger();
    MockWebServer s = up.start(r -> {
      served.incrementAndGet();
      String b = r.getBody().utf8();
      Matcher m = MAX_TOKENS.matcher(b);
      m.find();
      return usage(promptEstimate(b), Long.parseLong(m.group(1)));
    });
    String json = body(800, 100); // 200 prompt + 100 completion: 0.0005 + 0.001 = 0.0015 USD
    BigDecimal each = new BigDecimal("0.0015");
    BigDecimal limit = new BigDecimal("0.01575"); // 10.5 requests' worth
    AtomicLong servedAtExhaustion = new AtomicLong(-1);
    ProviderPool p = pool().onEvent(e -> {
          if (e instanceof PoolEvent.BudgetExhausted) {
            servedAtExhaustion.compareAndSet(-1, served.get());
          }
        })
        .tier(Provider.builder("a").baseUrl(Upstreams.baseUrl(s)).price(GPT4O).build(),
            Provider.builder("b").baseUrl(Upstreams.baseUrl(s)).price(GPT4O).build())
        .budget(Budget.builder("pool").amount(limit, "USD").window(Budget.Window.DAY).build()).build();
    OkHttpClient c = up.client(p);
    List<Object> results = runConcurrently(64, 4, () -> call(c, post(p, json)));
    int ok = 0;
    for (Object o : results) {
      if (Integer.valueOf(200).equals(o)) {
        ok++;
      } else {
        BudgetExhaustedException e = assertInstanceOf(BudgetExhaustedException.class, o);
        assertEquals("pool", e.budget().name());
      }
    }
    // every reservation equals its cost, so exactly floor(limit / each) requests are admitted
    assertEquals(10, ok);
    assertEquals(10, served.get());
    BudgetSnapshot b = p.snapshot().budget("pool").orElseThrow();
    assertEquals(0, each.multiply(BigDecimal.TEN).compareTo(b.spent()));
    assertTrue(b.spent().compareTo(limit) <= 0);
    assertAmount("0", b.reserved());
    assertTrue(b.exhausted());
    // nothing reached an upstream once the budget was known to be spent
    assertEquals(10, servedAtExhaustion.get());
    assertEquals(1, events.stream().filter(e -> e instanceof PoolEvent.BudgetExhausted
        && e.provider().equals("a")).count());
  }

  @Test
  void overshootWithoutMaxTokensStaysWithinTheStatedBound() throws Exception {
    AtomicInteger served = new AtomicInteger();
    MockWebServer s = up.start(r -> {
      served.incrementAndGet();
      return usage(promptEstimate(r.getBody().utf8()), 300); // 200 beyond the cap of 100
    });
    // requests in flight as the pool sees them: from their start (before the reservation) to
    // their end (after the settlement), so never fewer than the reservations outstanding
    AtomicInteger inFlight = new AtomicInteger();
    AtomicInteger maxInFlight = new AtomicInteger();
    String json = body(400, -1); // 100 prompt tokens + the cap: reserves 200, costs 400
    long limit = 5_000;
    ProviderPool p = pool()
        .onRequest(new io.github.llmpool.spi.RequestListener() {
          @Override
          public void onStart(io.github.llmpool.spi.RequestStart start) {
            maxInFlight.accumulateAndGet(inFlight.incrementAndGet(), Math::max);
          }

          @Override
          public void onEnd(io.github.llmpool.spi.RequestEnd end) {
            inFlight.decrementAndGet();
          }
        })
        .tier(Provider.builder("a").baseUrl(Upstreams.baseUrl(s)).build())
        .budget(Budget.builder("tok").tokens(limit).window(Budget.Window.MINUTE).reservationCap(100).build()).build();
    OkHttpClient c = up.client(p);
    List<Object> results = runConcurrently(64, 3, () -> call(c, post(p, json)));
    long ok = results.stream().filter(o -> Integer.valueOf(200).equals(o)).count();
    BudgetSnapshot b = p.snapshot().budget("tok").orElseThrow();
    long spent = b.spent().longValueExact();
    assertEquals(ok * 400, spent);
    assertEquals(ok, served.get());
    // admitted while spent + reserved + 200 <= limit: at most limit / 200 reservations at once
    assertTrue(ok <= limit / 200, ok + " admitted");
    // settled <= limit + sum over requests in flight at the last admission of (actual - reserved)
    long bound = limit + 200L * Math.min(maxInFlight.get(), limit / 200);
    assertTrue(spent <= bound, spent + " > " + bound + " (" + maxInFlight.get() + " in flight at most)");
    assertTrue(spent > limit - 400, "the budget was used: " + spent);
    assertTrue(b.exhausted());
    assertAmount("0", b.reserved());
    assertEquals(0, inFlight.get());
  }

  @Test
  void aRequestWithoutMaxTokensDoesNotBlockANearlyUnspentBudget() throws Exception {
    // LiteLLM PR #27509: a team blocked at $0.144 of a $2,000 cap by a request without max_tokens
    AtomicInteger served = new AtomicInteger();
    MockWebServer s = up.start(r -> {
      served.incrementAndGet();
      return usage(57_600, 0); // 57,600 x 2.5 per 1M = 0.144 USD
    });
    ProviderPool p = pool().tier(Provider.builder("a").baseUrl(Upstreams.baseUrl(s)).price(GPT4O).build())
        .budget(Budget.builder("team").amount("2000", "USD").window(Budget.Window.MONTH).build()).build();
    OkHttpClient c = up.client(p);
    assertEquals(200, call(c, post(p, body(200, 0))));
    assertAmount("0.144", p.snapshot().budget("team").orElseThrow().spent());
    assertEquals(200, call(c, post(p, body(200, -1)))); // no max_tokens: reserves 50 + 1024 tokens
    assertEquals(200, call(c, post(p, body(200, 2_000_000_000L)))); // capped too
    assertEquals(3, served.get());
    BudgetSnapshot b = p.snapshot().budget("team").orElseThrow();
    assertAmount("0.432", b.spent());
    assertFalse(b.exhausted());
  }

  private static List<Object> runConcurrently(int threads, int each, java.util.concurrent.Callable<Integer> task)
      throws Exception {
    ExecutorService ex = Executors.newFixedThreadPool(threads);
    CountDownLatch start = new CountDownLatch(1);
    try {
      List<Future<List<Object>>> fs = new ArrayList<>();
      for (int t = 0; t < threads; t++) {
        fs.add(ex.submit(() -> {
          start.await();
          List<Object> out = new ArrayList<>();
          for (int i = 0; i < each; i++) {
            try {
              out.add(task.call());
            } catch (IOException e) {
              out.add(e);
            }
          }
          return out;
        }));
      }
      start.countDown();
      List<Object> all = new ArrayList<>();
      for (Future<List<Object>> f : fs) {
        all.addAll(f.get(30, TimeUnit.SECONDS));
      }
      return all;
    } finally {
      ex.shutdownNow();
    }
  }

  // ------------------------------------------------------------------ spill and reset

  @Test
  void tierZeroSpillsToTierOneWhenItsBudgetIsSpentAndReturnsAtTheWindowsReset() throws Exception {
    MockWebServer a = reporting(max -> max);
    MockWebServer b = reporting(max -> max);
    String json = body(400, 50); // reserves and costs 150 tokens
    ProviderPool p = pool()
        .tier(Provider.builder("a").baseUrl(Upstreams.baseUrl(a)).build())
        .tier(Provider.builder("b").baseUrl(Upstreams.baseUrl(b)).build())
        .budget(Budget.builder("a-hourly").tokens(525).window(Budget.Window.HOUR).provider("a").build()).build();
    OkHttpClient c = up.client(p);
    for (int i = 0; i < 3; i++) {
      assertEquals(200, call(c, post(p, json)));
    }
    assertEquals(3, up.count(a));
    assertEquals(0, up.count(b));
    // 450 spent: 450 + 150 > 525, so the fourth is refused by the budget and spills to tier 1
    assertEquals(200, call(c, post(p, json)));
    assertEquals(3, up.count(a));
    assertEquals(1, up.count(b));
    BudgetSnapshot snap = p.snapshot().budget("a-hourly").orElseThrow();
    assertTrue(snap.exhausted());
    long toReset = snap.resetAt().toEpochMilli() - ticker.wallMillis();
    assertEquals(List.of(new PoolEvent.BudgetExhausted("a", 0, "a-hourly", Duration.ofMillis(toReset))),
        events.stream().filter(e -> e instanceof PoolEvent.BudgetExhausted).toList());
    // a smaller request that would fit still stays off: the budget is spent for this window
    assertEquals(200, call(c, post(p, body(100, 1))));
    assertEquals(3, up.count(a));
    assertEquals(2, up.count(b));

    ticker.advance(Duration.ofMillis(toReset)); // the next hour begins
    assertEquals(200, call(c, post(p, json)));
    assertEquals(4, up.count(a));
    assertEquals(2, up.count(b));
    assertTrue(events.contains(new PoolEvent.BudgetRestored("a", 0, "a-hourly")));
    BudgetSnapshot next = p.snapshot().budget("a-hourly").orElseThrow();
    assertFalse(next.exhausted());
    assertAmount("150", next.spent());
    assertEquals(snap.resetAt(), next.windowStart());
  }

  @Test
  void aQuotaGroupBudgetTakesEveryMemberOut() throws Exception {
    MockWebServer s = reporting(max -> max);
    MockWebServer spare = reporting(max -> max);
    ProviderPool p = pool()
        .tier(Provider.builder("a").baseUrl(Upstreams.baseUrl(s)).quotaGroup("acct").build(),
            Provider.builder("b").baseUrl(Upstreams.baseUrl(s)).quotaGroup("acct").build())
        .tier(Provider.builder("spare").baseUrl(Upstreams.baseUrl(spare)).build())
        .budget(Budget.builder("acct-day").tokens(300).window(Budget.Window.DAY).quotaGroup("acct").build()).build();
    OkHttpClient c = up.client(p);
    String json = body(400, 50);
    assertEquals(200, call(c, post(p, json)));
    assertEquals(200, call(c, post(p, json)));
    assertEquals(2, up.count(s));
    assertEquals(200, call(c, post(p, json))); // 300 spent: both members out
    assertEquals(2, up.count(s));
    assertEquals(1, up.count(spare));
    assertEquals(2, events.stream().filter(e -> e instanceof PoolEvent.BudgetExhausted).count());
  }

  // ------------------------------------------------------------------ refusal

  @Test
  void aSpentPoolWideBudgetRefusesAtOnceNamingTheBudgetItsLimitSpendAndReset() throws Exception {
    MockWebServer s = up.start(r -> usage(400_000, 0)); // 1 USD per answer at 2.5 per 1M
    ProviderPool p = pool().tier(Provider.builder("a").baseUrl(Upstreams.baseUrl(s)).price(GPT4O).build())
        .budget(Budget.builder("monthly").amount("1", "USD").window(Budget.Window.MONTH)
            .zone(ZoneId.of("Europe/Berlin")).build()).build();
    OkHttpClient c = up.client(p);
    assertEquals(200, call(c, post(p, body(100, 10))));
    assertEquals(1, up.count(s));
    IOException e = assertThrows(IOException.class, () -> call(c, post(p, body(100, 10))));
    assertEquals(1, up.count(s)); // refused before any provider was tried
    NoProviderAvailableException npe = assertInstanceOf(NoProviderAvailableException.class, e);
    BudgetExhaustedException be = assertInstanceOf(BudgetExhaustedException.class, npe);
    assertEquals("monthly", be.budget().name());
    assertAmount("1", be.spent());
    Instant reset = be.budget().windowEnd(Instant.ofEpochMilli(ticker.wallMillis()));
    assertEquals(Duration.ofMillis(reset.toEpochMilli() - ticker.wallMillis()), be.resetIn());
    assertEquals(be.resetIn(), be.earliestReturn());
    String m = be.getMessage();
    assertTrue(m.startsWith("budget 'monthly' is spent: 1 of 1 USD spent"), m);
    assertTrue(m.contains("MONTH window from " + be.budget().windowStart(Instant.ofEpochMilli(ticker.wallMillis()))),
        m);
    assertTrue(m.contains("(Europe/Berlin), resets at " + reset), m);
    assertTrue(be.attempts().isEmpty());
  }

  @Test
  void whenBudgetsAloneKeepEveryProviderOutTheMessageSaysSo() throws Exception {
    MockWebServer s = reporting(max -> max);
    ProviderPool p = pool()
        .tier(Provider.builder("a").baseUrl(Upstreams.baseUrl(s)).build())
        .tier(Provider.builder("b").baseUrl(Upstreams.baseUrl(s)).build())
        .budget(Budget.builder("ta").tokens(100).window(Budget.Window.DAY).provider("a").build())
        .budget(Budget.builder("tb").tokens(100).window(Budget.Window.DAY).provider("b").build()).build();
    // 250 + 50 tokens: larger than either whole budget, refused by both without spending them
    IOException e = assertThrows(IOException.class, () -> call(up.client(p), post(p, body(1000, 50))));
    BudgetExhaustedException be = assertInstanceOf(BudgetExhaustedException.class, e);
    String m = be.getMessage();
    assertTrue(m.startsWith("no provider available within budgets"), m);
    assertTrue(m.contains("a (tier 0) over budget 'ta' (0 of 100 tokens spent, 0 reserved, this request needs 300;"),
        m);
    assertTrue(m.contains("b (tier 1) over budget 'tb'"), m);
    assertEquals(0, up.count(s));
    assertFalse(p.snapshot().budget("ta").orElseThrow().exhausted());
  }

  // ------------------------------------------------------------------ bad input

  @Test
  void badInputIsRefusedNamingTheSettingAndTheValue() {
    assertEquals("budget.amount must be > 0 but was -1", assertThrows(IllegalArgumentException.class,
        () -> Budget.builder("x").amount("-1", "USD")).getMessage());
    assertEquals("budget.amount must have at most 9 decimal places but was 0.0000000001",
        assertThrows(IllegalArgumentException.class, () -> Budget.builder("x").amount("0.0000000001", "USD"))
            .getMessage());
    assertEquals("budget.currency must be an ISO 4217 currency code such as USD but was 'usd'",
        assertThrows(IllegalArgumentException.class, () -> Budget.builder("x").amount("1", "usd")).getMessage());
    assertEquals("budget.tokens must be in [1, 1125899906842624] but was 0",
        assertThrows(IllegalArgumentException.class, () -> Budget.builder("x").tokens(0)).getMessage());
    assertEquals("budget.window is required: one of MINUTE, HOUR, DAY, MONTH (budget 'x')",
        assertThrows(IllegalArgumentException.class, () -> Budget.builder("x").tokens(5).build()).getMessage());
    assertEquals("budget.reservationCap must be in [0, 1099511627776] but was -1",
        assertThrows(IllegalArgumentException.class, () -> Budget.builder("x").reservationCap(-1)).getMessage());
    assertTrue(assertThrows(IllegalArgumentException.class, () -> Budget.builder("my budget")).getMessage()
        .startsWith("budget.name must be 1 to 64 letters"));

    Provider a = Provider.builder("a").baseUrl("http://127.0.0.1:1/v1").price(GPT4O).build();
    Provider b = Provider.builder("b").baseUrl("http://127.0.0.1:1/v1")
        .price(Price.builder("EUR").input("1").output("2").build()).quotaGroup("g").build();
    assertEquals("budget.provider must be one of [a, b] but was 'c' (budget 'x')",
        assertThrows(IllegalArgumentException.class, () -> ProviderPool.builder().tier(a, b)
            .budget(Budget.builder("x").tokens(5).window(Budget.Window.DAY).provider("c").build()).build())
            .getMessage());
    assertEquals("budget.quotaGroup must be one of [g] but was 'h' (budget 'x')",
        assertThrows(IllegalArgumentException.class, () -> ProviderPool.builder().tier(a, b)
            .budget(Budget.builder("x").tokens(5).window(Budget.Window.DAY).quotaGroup("h").build()).build())
            .getMessage());
    assertEquals("budget.currency must be the currency of every priced provider in its scope but budget 'x' is in"
            + " USD and provider 'b' is priced in EUR",
        assertThrows(IllegalArgumentException.class, () -> ProviderPool.builder().tier(a, b)
            .budget(Budget.builder("x").amount("5", "USD").window(Budget.Window.DAY).build()).build()).getMessage());
    assertEquals("budget names must be unique but 'x' appears twice",
        assertThrows(IllegalArgumentException.class, () -> ProviderPool.builder().tier(a, b)
            .budget(Budget.builder("x").tokens(5).window(Budget.Window.DAY).build())
            .budget(Budget.builder("x").tokens(6).window(Budget.Window.DAY).build()).build()).getMessage());
    // a provider-scoped EUR budget on the EUR provider is fine
    ProviderPool ok = ProviderPool.builder().tier(a, b)
        .budget(Budget.builder("x").amount("5", "EUR").window(Budget.Window.DAY).provider("b").build()).build();
    assertEquals(1, ok.budgets().size());
    // and a reconfiguration that removes its provider is refused
    assertEquals("budget.provider must be one of [a] but was 'b' (budget 'x')",
        assertThrows(IllegalArgumentException.class, () -> ok.update(List.of(List.of(a)))).getMessage());
  }

  @Test
  void calendarWindowsAlignInTheirZone() {
    Budget day = Budget.builder("d").tokens(1).window(Budget.Window.DAY).zone(ZoneId.of("America/New_York")).build();
    Instant t = Instant.parse("2026-03-08T12:00:00Z"); // the day clocks move forward in New York
    assertEquals(Instant.parse("2026-03-08T05:00:00Z"), day.windowStart(t));
    assertEquals(Instant.parse("2026-03-09T04:00:00Z"), day.windowEnd(t)); // a 23-hour day
    Budget month = Budget.builder("m").tokens(1).window(Budget.Window.MONTH).build();
    assertEquals(Instant.parse("2026-02-01T00:00:00Z"), month.windowStart(Instant.parse("2026-02-28T23:59:59Z")));
    assertEquals(Instant.parse("2026-03-01T00:00:00Z"), month.windowEnd(Instant.parse("2026-02-28T23:59:59Z")));
    Budget minute = Budget.builder("n").tokens(1).window(Budget.Window.MINUTE).build();
    assertEquals(Instant.parse("2026-02-28T23:59:00Z"), minute.windowStart(Instant.parse("2026-02-28T23:59:59.999Z")));
    assertEquals(Instant.parse("2026-03-01T00:00:00Z"), minute.windowEnd(Instant.parse("2026-02-28T23:59:00Z")));
  }
}
