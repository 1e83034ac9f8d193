package io.github.llmpool.samples;

import io.github.llmpool.EvictionPolicy;
import io.github.llmpool.P2cSettings;
import io.github.llmpool.PoolEvent;
import io.github.llmpool.PoolListener;
import io.github.llmpool.ProviderPool;
import io.github.llmpool.ProviderSnapshot;
import io.github.llmpool.Strategy;
import io.github.llmpool.TokenUsage;
import io.github.llmpool.spi.RandomSource;
import io.github.llmpool.testing.FakeLlmServer;
import io.github.llmpool.testing.ReceivedRequest;
import java.io.IOException;
import java.io.PrintStream;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Predicate;
import okhttp3.Call;
import okhttp3.Callback;
import okhttp3.MediaType;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import okhttp3.RequestBody;
import okhttp3.Response;

/**
 * The llmpool demo: what the pool does, in five short chapters, on fake OpenAI-compatible
 * providers on loopback ({@link FakeLlmServer} from llmpool-testing; no key, no network). Plain
 * OkHttp clients from {@code pool.newHttpClient()} send chat completions; the numbers come from
 * what each fake provider itself received, from {@code onEvent}, {@code onUsage} and
 * {@code pool.snapshot()}.
 *
 * <ol>
 *   <li>a weighted 80/20 split;
 *   <li>power of two choices steering away from a provider that turns slow;
 *   <li>a provider answering 429 with {@code Retry-After}: evicted for that long, then back (the
 *       delay its server named is over: no probe);
 *   <li>an outage of tier 0 spills to tier 1, and the traffic comes back;
 *   <li>token usage per provider and the pool's snapshot.
 * </ol>
 *
 * <pre>
 * mvn -q -B -f samples/pom.xml compile exec:java
 * </pre>
 *
 * Chapters 3 and 4 run in real time with short delays ({@code Retry-After: 1}, a 1 s eviction),
 * so the whole demo takes a few seconds.
 */
public final class Demo {

  private static final MediaType APPLICATION_JSON = MediaType.get("application/json");
  /** The seed of the demo's randomness (the pool's picks), so that a run is repeatable. */
  public static final long SEED = 20260501L;

  private Demo() {}

  /** Runs the demo and prints it to standard output. */
  public static void main(String[] args) throws Exception {
    long t0 = System.nanoTime();
    run(System.out);
    System.out.printf(Locale.ROOT, "%nDone in %.1f s.%n", (System.nanoTime() - t0) / 1e9);
  }

  /** What a run of the demo saw, chapter by chapter. */
  public record Story(Split split, Steering steering, RateLimited rateLimited, Outage outage, Tokens tokens) {}

  /** Runs the five chapters on a fresh fleet of fake providers, printing each as it ends. */
  public static Story run(PrintStream out) throws Exception {
    try (Fleet fleet = Fleet.start()) {
      Tokens tokens = new Tokens();
      out.println("llmpool demo: pools in front of four fake OpenAI-compatible providers on loopback");
      out.println("(alpha, bravo, charlie and fallback; no API key, no network)");
      Split split = weightedSplit(fleet, tokens, seeded(SEED), 1000);
      print(split, out);
      Steering steering = p2cSteering(fleet, tokens, seeded(SEED + 1), 300, Duration.ofMillis(150));
      print(steering, out);
      RateLimited rateLimited = rateLimited(fleet, tokens, seeded(SEED + 2));
      print(rateLimited, out);
      Outage outage = outage(fleet, tokens, seeded(SEED + 3));
      print(outage, out);
      print(tokens, outage.snapshot(), out);
      return new Story(split, steering, rateLimited, outage, tokens);
    }
  }

  // ------------------------------------------------------------------ the providers

  /** The four fake providers of the demo. */
  public record Fleet(FakeLlmServer alpha, FakeLlmServer bravo, FakeLlmServer charlie, FakeLlmServer fallback)
      implements AutoCloseable {

    /** Starts the four servers. */
    public static Fleet start() {
      List<FakeLlmServer> s = FakeLlmServer.start("alpha", "bravo", "charlie", "fallback");
      return new Fleet(s.get(0), s.get(1), s.get(2), s.get(3));
    }

    List<FakeLlmServer> all() {
      return List.of(alpha, bravo, charlie, fallback);
    }

    /** Forgets what the servers received and any latency; the next chapter starts clean. */
    void reset() {
      for (FakeLlmServer s : all()) {
        s.heal().latency(Duration.ZERO).up().clearRequests();
      }
    }

    @Override
    public void close() {
      all().forEach(FakeLlmServer::close);
    }
  }

  /** Token usage per provider, from {@code onUsage} (answers that reported usage), over the whole demo. */
  public static final class Tokens {
    private final Map<String, long[]> byProvider = new ConcurrentHashMap<>(); // {answers, prompt, completion, total}
    private final LongAdder records = new LongAdder();

    void add(TokenUsage u) {
      if (!u.reported()) {
        return; // an attempt whose answer carried no usage (a 429, a refused connection)
      }
      records.increment();
      long[] t = byProvider.computeIfAbsent(u.provider(), k -> new long[4]);
      synchronized (t) {
        t[0]++;
        t[1] += u.tokens().prompt();
        t[2] += u.tokens().completion();
        t[3] += u.totalTokens();
      }
    }

    /** Answers that reported usage, all providers. */
    public long answers() {
      return records.sum();
    }

    /** {answers with usage, prompt, completion, total} of {@code provider}. */
    public long[] of(String provider) {
      long[] t = byProvider.getOrDefault(provider, new long[4]);
      synchronized (t) {
        return t.clone();
      }
    }
  }

  /** A seeded random source, so a run of the demo (and its test) is repeatable. */
  public static RandomSource seeded(long seed) {
    Random r = new Random(seed);
    return new RandomSource() {
      @Override
      public synchronized int nextInt(int bound) {
        return r.nextInt(bound);
      }

      @Override
      public synchronized double nextDouble() {
        return r.nextDouble();
      }
    };
  }

  // ------------------------------------------------------------------ chapter 1

  /** Chapter 1: what each provider received, against its weight. */
  public record Split(int requests, Map<String, Integer> weights, Map<String, Integer> received, int failed) {
    public double share(String provider) {
      return 100.0 * received.get(provider) / requests;
    }
  }

  /** Chapter 1: {@code requests} calls, one at a time, through a WEIGHTED pool of alpha (80) and bravo (20). */
  public static Split weightedSplit(Fleet fleet, Tokens tokens, RandomSource random, int requests) throws Exception {
    fleet.reset();
    Map<String, Integer> weights = new LinkedHashMap<>();
    weights.put("alpha", 80);
    weights.put("bravo", 20);
    ProviderPool pool = ProviderPool.builder()
        .name("weighted")
        .tier(fleet.alpha().provider().weight(80).build(), fleet.bravo().provider().weight(20).build())
        .strategy(Strategy.WEIGHTED)
        .random(random)
        .onUsage(tokens::add)
        .build();
    Client client = new Client(pool);
    int failed;
    try {
      failed = client.sequential(requests);
    } finally {
      client.close();
    }
    Map<String, Integer> received = new LinkedHashMap<>();
    received.put("alpha", fleet.alpha().requestCount());
    received.put("bravo", fleet.bravo().requestCount());
    return new Split(requests, weights, received, failed);
  }

  static void print(Split s, PrintStream out) {
    chapter(out, 1, "A weighted 80/20 split",
        "Strategy.WEIGHTED sends each request to a provider with probability weight / sum of weights.");
    int sum = s.weights().values().stream().mapToInt(Integer::intValue).sum();
    out.printf(Locale.ROOT, "   %-10s %7s %8s %9s %9s%n", "provider", "weight", "target", "requests", "share");
    s.weights().forEach((name, w) -> out.printf(Locale.ROOT, "   %-10s %7d %7.1f%% %9d %8.1f%%%n",
        name, w, 100.0 * w / sum, s.received().get(name), s.share(name)));
    out.printf(Locale.ROOT, "   %d requests, %d failed%n", s.requests(), s.failed());
  }

  // ------------------------------------------------------------------ chapter 2

  /** Chapter 2: requests per provider before and after charlie turns slow, and the pool's latency estimates. */
  public record Steering(int requestsPerPhase, Duration slowLatency, Map<String, Integer> before,
      Map<String, Integer> after, Map<String, Duration> estimatesAfter, int failed) {
    public double shareBefore(String provider) {
      return 100.0 * before.get(provider) / requestsPerPhase;
    }

    public double shareAfter(String provider) {
      return 100.0 * after.get(provider) / requestsPerPhase;
    }
  }

  /**
   * Chapter 2: a POWER_OF_TWO_CHOICES pool of alpha, bravo and charlie, 6 callers at once;
   * {@code perPhase} calls while all are fast, then charlie answers after {@code slow}, another
   * {@code perPhase} calls.
   */
  public static Steering p2cSteering(Fleet fleet, Tokens tokens, RandomSource random, int perPhase, Duration slow)
      throws Exception {
    fleet.reset();
    ProviderPool pool = ProviderPool.builder()
        .name("p2c")
        .tier(fleet.alpha().provider().build(), fleet.bravo().provider().build(), fleet.charlie().provider().build())
        .strategy(Strategy.POWER_OF_TWO_CHOICES)
        // Estimates decay over 1 s (default 10 s), so that they settle within this short demo.
        .p2c(P2cSettings.builder().latencyDecay(Duration.ofSeconds(1)).build())
        .random(random)
        .onUsage(tokens::add)
        .build();
    Client client = new Client(pool);
    List<FakeLlmServer> three = List.of(fleet.alpha(), fleet.bravo(), fleet.charlie());
    try {
      int failed = client.concurrent(perPhase, 6);
      Map<String, Integer> before = counts(three);
      three.forEach(FakeLlmServer::clearRequests);
      fleet.charlie().latency(slow);
      failed += client.concurrent(perPhase, 6);
      Map<String, Integer> after = counts(three);
      Map<String, Duration> estimates = new LinkedHashMap<>();
      pool.snapshot().providers().forEach(p -> estimates.put(p.name(), p.latencyEstimate()));
      return new Steering(perPhase, slow, before, after, estimates, failed);
    } finally {
      fleet.charlie().latency(Duration.ZERO);
      client.close();
    }
  }

  static void print(Steering s, PrintStream out) {
    chapter(out, 2, "Power of two choices steers away from a provider that turns slow",
        "POWER_OF_TWO_CHOICES draws two providers and sends to the cheaper (latency estimate x load); "
            + "charlie now answers after " + s.slowLatency().toMillis() + " ms. (estimate: the pool's, at the end)");
    out.printf(Locale.ROOT, "   %-10s %17s %24s %14s%n", "provider", "all fast", "charlie slow", "estimate");
    s.before().forEach((name, n) -> out.printf(Locale.ROOT, "   %-10s %7d (%5.1f%%) %14d (%5.1f%%) %11d ms%n",
        name, n, s.shareBefore(name), s.after().get(name), s.shareAfter(name), s.estimatesAfter().get(name).toMillis()));
    out.printf(Locale.ROOT, "   %d requests per phase from 6 callers at once, %d failed%n", s.requestsPerPhase(), s.failed());
  }

  // ------------------------------------------------------------------ chapter 3

  /**
   * One line of a chapter's timeline: when (since the chapter began) and what, a pool event or
   * (with {@code event} null) a note of the demo's own ("alpha goes down").
   */
  public record Moment(Duration at, PoolEvent event, String note) {}

  /** Chapter 3: the events about bravo, and what bravo received (with the status it answered). */
  public record RateLimited(Duration retryAfter, List<Moment> timeline, List<ReceivedRequest> bravo, int requests,
      int failed, Map<String, Integer> received) {}

  /**
   * Chapter 3: a WEIGHTED pool of alpha and bravo (equal weights) under steady traffic (a call every 20 ms); bravo answers
   * its next two requests 429 with {@code Retry-After: 1}. The chapter ends when bravo is restored.
   */
  public static RateLimited rateLimited(Fleet fleet, Tokens tokens, RandomSource random) throws Exception {
    fleet.reset();
    Duration retryAfter = Duration.ofSeconds(1);
    Timeline timeline = new Timeline(e -> e.provider().equals("bravo"));
    ProviderPool pool = ProviderPool.builder()
        .name("rate-limited")
        .tier(fleet.alpha().provider().build(), fleet.bravo().provider().build())
        .strategy(Strategy.WEIGHTED)
        .random(random)
        .onUsage(tokens::add)
        .onEvent(timeline)
        .build();
    Client client = new Client(pool);
    try {
      client.steady(Duration.ofMillis(20));
      client.await(5, TimeUnit.SECONDS, () -> fleet.bravo().successCount() >= 3 && fleet.alpha().successCount() >= 3,
          "both providers answering");
      timeline.restart();
      fleet.bravo().rateLimitNext(2, retryAfter);
      timeline.mark("bravo starts answering 429 (its next two requests)");
      timeline.await(e -> e instanceof PoolEvent.Restored, 15, TimeUnit.SECONDS);
      // bravo's two 429s are behind it once it has answered five requests after the last of them
      client.await(10, TimeUnit.SECONDS, () -> answeredAfterLast429(fleet.bravo()) >= 5, "bravo back in rotation");
      client.stopAndDrain();
    } finally {
      client.close();
    }
    Map<String, Integer> received = counts(List.of(fleet.alpha(), fleet.bravo()));
    return new RateLimited(retryAfter, timeline.moments(), fleet.bravo().requests(), client.sent(), client.failed(), received);
  }

  /** Requests a fake answered after its last 429 (all of them when it answered none). */
  private static int answeredAfterLast429(FakeLlmServer server) {
    List<Integer> statuses = server.requests().stream().map(ReceivedRequest::status).toList();
    return statuses.size() - statuses.lastIndexOf(429) - 1;
  }

  static void print(RateLimited r, PrintStream out) {
    chapter(out, 3, "A provider that answers 429 is evicted for its Retry-After, then back",
        "bravo answers its next two requests 429 with Retry-After: " + r.retryAfter().toSeconds()
            + "; the pool retries those calls on alpha and keeps bravo out for exactly that long: the delay its"
            + " server named, so no probe is needed when it is over.");
    timeline(r.timeline(), out);
    out.printf(Locale.ROOT, "   %d calls, %d failed (the caller never saw a 429); received: %s%n",
        r.requests(), r.failed(), r.received());
  }

  // ------------------------------------------------------------------ chapter 4

  /** Chapter 4: the timeline and where the calls went in each phase. */
  public record Outage(List<Moment> timeline, Map<String, Integer> duringOutage, Map<String, Integer> recovering,
      Map<String, Integer> afterRecovery,
      int requests, int failed, ProviderSnapshot.Status fallbackStatus, io.github.llmpool.PoolSnapshot snapshot) {}

  /**
   * Chapter 4: a WEIGHTED pool with alpha and bravo in tier 0 and fallback in tier 1, steady traffic; tier 0
   * goes down (connections refused) until 20 calls were served by tier 1, then comes back up; the
   * chapter ends when both are restored and tier 0 has served 20 calls again.
   */
  public static Outage outage(Fleet fleet, Tokens tokens, RandomSource random) throws Exception {
    fleet.reset();
    Timeline timeline = new Timeline(e -> true);
    ProviderPool pool = ProviderPool.builder()
        .name("tiered")
        .tier(fleet.alpha().provider().build(), fleet.bravo().provider().build())
        .tier(fleet.fallback().provider().build())
        .strategy(Strategy.WEIGHTED)
        .random(random)
        .eviction(EvictionPolicy.builder().baseDuration(Duration.ofSeconds(1)).jitter(0).build())
        .onUsage(tokens::add)
        .onEvent(timeline)
        .build();
    Client client = new Client(pool);
    Map<String, Integer> during;
    Map<String, Integer> recovering;
    Map<String, Integer> after;
    List<FakeLlmServer> three = List.of(fleet.alpha(), fleet.bravo(), fleet.fallback());
    try {
      client.steady(Duration.ofMillis(20));
      client.await(5, TimeUnit.SECONDS, () -> fleet.alpha().successCount() + fleet.bravo().successCount() >= 10,
          "tier 0 answering");
      client.stopAndDrain();
      three.forEach(FakeLlmServer::clearRequests);
      timeline.restart();
      fleet.alpha().down();
      fleet.bravo().down();
      timeline.mark("alpha and bravo go down (connections refused)");
      client.steady(Duration.ofMillis(20));
      client.await(10, TimeUnit.SECONDS, () -> fleet.fallback().successCount() >= 20, "20 calls served by tier 1");
      during = counts(three);
      three.forEach(FakeLlmServer::clearRequests);
      fleet.alpha().up();
      fleet.bravo().up();
      timeline.mark("alpha and bravo are back up");
      timeline.await(e -> e instanceof PoolEvent.Restored && e.provider().equals("alpha"), 15, TimeUnit.SECONDS);
      timeline.await(e -> e instanceof PoolEvent.Restored && e.provider().equals("bravo"), 15, TimeUnit.SECONDS);
      recovering = counts(three);
      three.forEach(FakeLlmServer::clearRequests);
      client.await(10, TimeUnit.SECONDS, () -> fleet.alpha().successCount() + fleet.bravo().successCount() >= 20,
          "20 calls served by tier 0 again");
      client.stopAndDrain();
      after = counts(three);
    } finally {
      client.close();
    }
    return new Outage(timeline.moments(), during, recovering, after, client.sent(), client.failed(),
        pool.snapshot().provider("fallback").orElseThrow().status(), pool.snapshot());
  }

  static void print(Outage o, PrintStream out) {
    chapter(out, 4, "An outage of tier 0 spills to tier 1, and the traffic comes back",
        "alpha and bravo (tier 0) refuse connections; the pool fails over to fallback (tier 1), evicts them, "
            + "probes them after 1 s, 2 s, ... and returns the traffic once a probe succeeds.");
    timeline(o.timeline(), out);
    out.printf(Locale.ROOT, "   received while tier 0 was down:       %s%n", o.duringOutage());
    out.printf(Locale.ROOT, "   back up, until both were restored:    %s (tier 0 from its probe on)%n", o.recovering());
    out.printf(Locale.ROOT, "   after the restore:                    %s%n", o.afterRecovery());
    out.printf(Locale.ROOT, "   %d calls, %d failed%n", o.requests(), o.failed());
  }

  // ------------------------------------------------------------------ chapter 5

  static void print(Tokens tokens, io.github.llmpool.PoolSnapshot snapshot, PrintStream out) {
    chapter(out, 5, "Token usage and the pool's snapshot",
        "onUsage reported the usage of every answer, per provider; pool.snapshot() is the tiered pool of chapter 4 now.");
    out.printf(Locale.ROOT, "   %-10s %8s %10s %11s %10s%n", "provider", "answers", "prompt", "completion", "total");
    long[] sum = new long[4];
    for (String name : List.of("alpha", "bravo", "charlie", "fallback")) {
      long[] t = tokens.of(name);
      out.printf(Locale.ROOT, "   %-10s %8d %10d %11d %10d%n", name, t[0], t[1], t[2], t[3]);
      for (int i = 0; i < 4; i++) {
        sum[i] += t[i];
      }
    }
    out.printf(Locale.ROOT, "   %-10s %8d %10d %11d %10d%n", "all", sum[0], sum[1], sum[2], sum[3]);
    out.println();
    out.printf(Locale.ROOT, "   %-10s %4s %-10s %9s %9s %8s %9s %9s %8s%n", "provider", "tier", "status", "requests",
        "successes", "failures", "ejections", "estimate", "tokens");
    for (ProviderSnapshot p : snapshot.providers()) {
      out.printf(Locale.ROOT, "   %-10s %4d %-10s %9d %9d %8d %9d %6d ms %8d%n", p.name(), p.tier(), p.status(),
          p.requests(), p.successes(), p.failures(), p.ejections(), p.latencyEstimate().toMillis(), p.totalTokens());
    }
  }

  // ------------------------------------------------------------------ printing helpers

  private static void chapter(PrintStream out, int n, String title, String explanation) {
    out.println();
    out.println(n + ". " + title);
    out.println("   " + explanation);
    out.println();
  }

  private static void timeline(List<Moment> moments, PrintStream out) {
    int retried = 0;
    int failedOver = 0;
    for (Moment m : moments) {
      PoolEvent e = m.event();
      if (e == null) {
        out.printf(Locale.ROOT, "   %+7.3f s  -- %s%n", m.at().toNanos() / 1e9, m.note());
      } else if (e instanceof PoolEvent.Retried) {
        retried++; // counted, not listed: one per affected call
      } else if (e instanceof PoolEvent.FailedOver) {
        failedOver++;
      } else {
        out.printf(Locale.ROOT, "   %+7.3f s  %s%n", m.at().toNanos() / 1e9, describe(e));
      }
    }
    if (retried > 0) {
      out.printf(Locale.ROOT, "   (%d failed attempts were retried on another provider%s)%n", retried,
          failedOver > 0 ? ", " + failedOver + " calls failing over from tier 0 to tier 1" : "");
    }
  }

  static String describe(PoolEvent e) {
    if (e instanceof PoolEvent.Evicted ev) {
      return String.format(Locale.ROOT, "Evicted   %-8s for %s after %s%s%s", ev.provider(), millis(ev.duration()),
          ev.cause(), ev.status() > 0 ? " " + ev.status() : "", ev.serverHint() ? " (the server's Retry-After)" : "");
    }
    if (e instanceof PoolEvent.Probing) {
      return "Probing   " + e.provider() + " (one request)";
    }
    if (e instanceof PoolEvent.Restored) {
      return "Restored  " + e.provider();
    }
    if (e instanceof PoolEvent.HeadroomExhausted h) {
      return String.format(Locale.ROOT, "No room   %-8s its rate-limit headers say nothing is left for %s",
          h.provider(), millis(h.resetIn()));
    }
    if (e instanceof PoolEvent.HeadroomRestored) {
      return "Room      " + e.provider() + " takes requests within its limit again";
    }
    return e.toString();
  }

  private static String millis(Duration d) {
    return d.toMillis() % 1000 == 0 ? d.toSeconds() + " s" : d.toMillis() + " ms";
  }

  private static Map<String, Integer> counts(List<FakeLlmServer> servers) {
    Map<String, Integer> m = new LinkedHashMap<>();
    servers.forEach(s -> m.put(s.name(), s.requestCount()));
    return m;
  }

  // ------------------------------------------------------------------ plumbing

  /** Events of one chapter with their times; tests and the chapters wait on them (no sleeping). */
  static final class Timeline implements PoolListener {
    private final Predicate<PoolEvent> keep;
    private final List<Moment> moments = new CopyOnWriteArrayList<>();
    private volatile long t0 = System.nanoTime();

    Timeline(Predicate<PoolEvent> keep) {
      this.keep = keep;
    }

    @Override
    public void onEvent(PoolEvent event) {
      if (keep.test(event)) {
        moments.add(new Moment(Duration.ofNanos(System.nanoTime() - t0), event, null));
        synchronized (this) {
          notifyAll();
        }
      }
    }

    void restart() {
      moments.clear();
      t0 = System.nanoTime();
    }

    void mark(String text) {
      moments.add(new Moment(Duration.ofNanos(System.nanoTime() - t0), null, text));
    }

    List<Moment> moments() {
      return List.copyOf(moments);
    }

    /** Waits (bounded) until an event matching {@code what} has arrived. */
    synchronized void await(Predicate<PoolEvent> what, long timeout, TimeUnit unit) throws InterruptedException, TimeoutException {
      long deadline = System.nanoTime() + unit.toNanos(timeout);
      while (moments.stream().noneMatch(m -> m.event() != null && what.test(m.event()))) {
        long left = deadline - System.nanoTime();
        if (left <= 0) {
          throw new TimeoutException("no such event within " + timeout + " " + unit + "; saw " + moments);
        }
        TimeUnit.NANOSECONDS.timedWait(this, left);
      }
    }
  }

  /** Chat completions through a pool: one at a time, from several callers, or at a steady rate. */
  static final class Client implements AutoCloseable {
    private final ProviderPool pool;
    private final OkHttpClient http;
    private final String url;
    private final ScheduledExecutorService ticker = Executors.newSingleThreadScheduledExecutor(r -> {
      Thread t = new Thread(r, "demo-traffic");
      t.setDaemon(true);
      return t;
    });
    private final AtomicInteger sent = new AtomicInteger();
    private final AtomicInteger failed = new AtomicInteger();
    private final AtomicInteger inFlight = new AtomicInteger();
    private ScheduledFuture<?> steady;

    Client(ProviderPool pool) {
      this.pool = pool;
      this.http = pool.newHttpClient();
      this.url = pool.baseUrl().resolve("chat/completions").toString();
    }

    int sent() {
      return sent.get();
    }

    int failed() {
      return failed.get();
    }

    private Request request() {
      int n = sent.incrementAndGet();
      String body = "{\"model\":\"gpt-4o-mini\",\"messages\":[{\"role\":\"user\",\"content\":\"Say hello (" + n + ")\"}]}";
      return new Request.Builder().url(url).post(RequestBody.create(body, APPLICATION_JSON)).build();
    }

    private void call() {
      try (Response r = http.newCall(request()).execute()) {
        r.body().string();
        if (!r.isSuccessful()) {
          failed.incrementAndGet();
        }
      } catch (IOException e) {
        failed.incrementAndGet();
      }
    }

    /** {@code n} calls one after another; returns how many failed. */
    int sequential(int n) {
      int before = failed.get();
      for (int i = 0; i < n; i++) {
        call();
      }
      return failed.get() - before;
    }

    /** {@code n} calls from {@code callers} threads; returns how many failed. */
    int concurrent(int n, int callers) throws Exception {
      int before = failed.get();
      ExecutorService threads = Executors.newFixedThreadPool(callers);
      try {
        AtomicInteger left = new AtomicInteger(n);
        List<Future<?>> done = new ArrayList<>();
        for (int c = 0; c < callers; c++) {
          done.add(threads.submit(() -> {
            while (left.getAndDecrement() > 0) {
              call();
            }
          }));
        }
        for (Future<?> f : done) {
          f.get(60, TimeUnit.SECONDS);
        }
      } finally {
        threads.shutdownNow();
      }
      return failed.get() - before;
    }

    /**
     * Starts a call every {@code period} (asynchronously), until {@link #stopAndDrain()}; a tick
     * while the previous call is still running is skipped, so that calls never overlap and the
     * timeline is one call after another (a probe is then the only call in flight).
     */
    synchronized void steady(Duration period) {
      steady = ticker.scheduleAtFixedRate(() -> {
        if (inFlight.get() > 0) {
          return; // only this thread starts calls: at most one in flight
        }
        inFlight.incrementAndGet();
        http.newCall(request()).enqueue(new Callback() {
          @Override
          public void onFailure(Call call, IOException e) {
            failed.incrementAndGet();
            done();
          }

          @Override
          public void onResponse(Call call, Response response) {
            try (response) {
              response.body().string();
              if (!response.isSuccessful()) {
                failed.incrementAndGet();
              }
            } catch (IOException e) {
              failed.incrementAndGet();
            }
            done();
          }
        });
      }, 0, period.toNanos(), TimeUnit.NANOSECONDS);
    }

    private void done() {
      inFlight.decrementAndGet();
      synchronized (this) {
        notifyAll(); // wakes await() and stopAndDrain(): they re-check after every finished call
      }
    }

    /** Stops the steady traffic and waits (bounded) until its calls have finished. */
    synchronized void stopAndDrain() throws InterruptedException, TimeoutException {
      if (steady != null) {
        steady.cancel(false);
        steady = null;
      }
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
      while (inFlight.get() > 0) {
        long left = deadline - System.nanoTime();
        if (left <= 0) {
          throw new TimeoutException(inFlight.get() + " calls still in flight after 30 s");
        }
        TimeUnit.NANOSECONDS.timedWait(this, left);
      }
    }

    /**
     * Waits (bounded) until {@code condition} holds; it is checked again each time a steady call
     * finishes (the servers' counts it reads are updated before their answers leave).
     */
    synchronized void await(long timeout, TimeUnit unit, java.util.function.BooleanSupplier condition, String what)
        throws InterruptedException, TimeoutException {
      long deadline = System.nanoTime() + unit.toNanos(timeout);
      while (!condition.getAsBoolean()) {
        long left = deadline - System.nanoTime();
        if (left <= 0) {
          throw new TimeoutException("not reached within " + timeout + " " + unit + ": " + what);
        }
        TimeUnit.NANOSECONDS.timedWait(this, left);
      }
    }

    @Override
    public void close() throws Exception {
      stopAndDrain();
      ticker.shutdownNow();
      http.dispatcher().executorService().shutdown();
      http.connectionPool().evictAll();
    }
  }
}
