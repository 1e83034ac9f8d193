package io.github.llmpool.bench.quality;

import io.github.llmpool.AllEvictedPolicy;
import io.github.llmpool.EvictionPolicy;
import io.github.llmpool.Outcome;
import io.github.llmpool.OutcomeClassifier;
import io.github.llmpool.RetryPolicy;
import io.github.llmpool.Strategy;
import io.github.llmpool.TokenUsage;
import io.github.llmpool.internal.engine.AttemptLease;
import io.github.llmpool.internal.engine.PoolCore;
import io.github.llmpool.internal.health.Health;
import io.github.llmpool.internal.health.LatencyModel;
import io.github.llmpool.internal.health.RateWindow;
import io.github.llmpool.internal.health.RetryHints;
import io.github.llmpool.internal.route.Endpoint;
import io.github.llmpool.internal.route.Exclusion;
import io.github.llmpool.internal.route.Slot;
import io.github.llmpool.internal.usage.UsageResult;
import io.github.llmpool.spi.RandomSource;
import io.github.llmpool.spi.SharedDispatch;
import io.github.llmpool.spi.SharedEviction;
import io.github.llmpool.spi.SharedQuota;
import io.github.llmpool.spi.SharedState;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.PriorityQueue;
import java.util.SplittableRandom;

/**
 * The scale simulation's quota variant (issue 17): as {@link SimRun} (the library's real engine,
 * {@link PoolCore}, per instance, over a virtual clock, the interceptor's failover loop step by
 * step), but every provider's request limit is GLOBAL (one token bucket shared by all instances),
 * and so is a roomy token limit (admission cost: prompt + {@code max_tokens}, settled to the real
 * usage when the answer ends, like the experiment's fakes); every response, success or 429,
 * reports both the way the OpenAI dialect does: limit (the bucket's size), remaining (what is left
 * after this request was admitted or refused) and reset (the time until full). The engine is driven
 * as {@code LogicalCall} drives it: the attempt is dispatched with the request's token estimate
 * ({@code AttemptLease.dispatch(..., tokens)} reserves it), the headers are stored at their arrival
 * ({@code ProviderState.observeRateLimits}, then {@code Headroom.rateLimited} on a 429 and
 * {@code PoolCore.observedHeadroom}), the answer's end settles the reservation
 * ({@code AttemptLease.finish}); with {@code quotaWait} a request nothing can take waits for the
 * earliest return ({@code PoolCore.earliestReturn}) within the bound ({@code LogicalCall.waitForReturn}).
 *
 * <p>Contenders: {@code reactive} and {@code weighted} ({@code quotaRouting} off: headers read,
 * routing reactive); {@code header-aware} (quota routing on, the default); {@code configured-limits}
 * (plus each endpoint's requests and tokens per minute); {@code fail-fast} and {@code queued-2s}
 * (header-aware with {@code FAIL_FAST}, the latter with {@code quotaWait(2 s)}). Single-threaded,
 * deterministic.
 */
final class QuotaSimRun {
  private static final long NS = 1_000_000_000L;
  private static final LatencyModel LLM_AWARE = new LatencyModel(10 * NS, 100_000_000L, true);
  /** The token limit's rate over the request limit's at the mean estimate (roomy: the request limit binds). */
  private static final double TOKEN_ROOM = 1.5;

  final SimFleet fleet;
  final QuotaContender contender;
  final double utilization;
  final int instances;
  final long durationNanos;
  final long warmupNanos;
  final long seed;
  /** Whether the instances share evictions, header windows and dispatches ({@link SimShared}). */
  final boolean shared;

  private final SimRun.Clock clock = new SimRun.Clock();
  private final PriorityQueue<Ev> queue = new PriorityQueue<>();
  private long seq;
  private final SplittableRandom random;
  private Prov[] provs;
  private PoolCore[] pools;
  private final OutcomeClassifier classifier = OutcomeClassifier.defaults();

  private long logical;
  private long succeeded;
  private long attempts;
  private long rateLimitedAttempts;
  private long failedRequests;
  private long waited;
  private final List<Double> latency = new ArrayList<>();

  QuotaSimRun(SimFleet fleet, QuotaContender contender, double utilization, int instances, double durationSec,
      double warmupSec, long seed) {
    this(fleet, contender, utilization, instances, durationSec, warmupSec, seed, false);
  }

  /**
   * As above; with {@code shared}, the instances share what they learn through {@link SimShared}, a
   * shared state in virtual time modelled on {@code RedisSharedState} (the contender's label gains
   * {@code +shared}).
   */
  QuotaSimRun(SimFleet fleet, QuotaContender contender, double utilization, int instances, double durationSec,
      double warmupSec, long seed, boolean shared) {
    this.shared = shared;
    if (!contender.pooled()) {
      throw new IllegalArgumentException("the simulation runs pools only, not " + contender.label);
    }
    this.fleet = fleet;
    this.contender = contender;
    this.utilization = utilization;
    this.instances = instances;
    this.durationNanos = (long) (durationSec * NS);
    this.warmupNanos = (long) (warmupSec * NS);
    this.seed = seed;
    this.random = new SplittableRandom(seed);
  }

  private record Ev(long t, long seq, Runnable action) implements Comparable<Ev> {
    @Override
    public int compareTo(Ev o) {
      int c = Long.compare(t, o.t);
      return c != 0 ? c : Long.compare(seq, o.seq);
    }
  }

  private void at(long t, Runnable action) {
    queue.add(new Ev(t, seq++, action));
  }

  private static long rtt() {
    return (long) (SimFleet.RTT_SEC * NS);
  }

  /** Prompt tokens of every simulated request. */
  static final int PROMPT_TOKENS = 40;
  /** Mean admission estimate of a request (prompt + max_tokens), for the roomy token limit. */
  static final double MEAN_ESTIMATE = PROMPT_TOKENS + SimFleet.TOKENS_MEDIAN
      * Math.exp(SimFleet.TOKENS_SIGMA * SimFleet.TOKENS_SIGMA / 2) * Math.log(1 / 0.3) / 0.7;

  /** A global token bucket: {@code rate} units per second, {@code burst} at most. */
  private static final class Bucket {
    final double rate;
    final double burst;
    double level;
    long refilledAt;

    Bucket(double rate, double burst) {
      this.rate = rate;
      this.burst = burst;
      this.level = burst;
    }

    void refill(long now) {
      level = Math.min(burst, level + (now - refilledAt) / (double) NS * rate);
      refilledAt = now;
    }

    /** The headers' window now: limit, remaining, reset (time to full). */
    RateWindow window(long now) {
      long reset = (long) Math.ceil(Math.max(0, burst - level) / rate * NS);
      return new RateWindow((long) burst, Math.max(0, (long) Math.floor(level)), true, now + reset, now);
    }
  }

  /**
   * One shared provider: generation slots, FIFO queue, one global token-bucket request limit and
   * one (roomy) global token limit.
   */
  private final class Prov {
    final int capacity;
    final double rate; // requests per second
    final Bucket requests;
    final Bucket tokens;
    int busy;
    final ArrayDeque<Attempt> waiting = new ArrayDeque<>();
    long limited;

    Prov(int capacity) {
      this.capacity = capacity;
      this.rate = SimFleet.RATE_FACTOR * capacity / SimFleet.meanServiceSec();
      this.requests = new Bucket(rate, Math.max(1, rate * SimFleet.BURST_SEC));
      double tokenRate = TOKEN_ROOM * rate * MEAN_ESTIMATE;
      this.tokens = new Bucket(tokenRate, tokenRate * SimFleet.BURST_SEC);
    }

    void arrive(Attempt a) {
      long now = clock.now;
      requests.refill(now);
      tokens.refill(now);
      long cost = a.req.estimate;
      boolean tokensOk = tokens.level >= Math.min(cost, tokens.burst);
      if (requests.level < 1 || !tokensOk) {
        limited++;
        double need = requests.level < 1 ? (1 - requests.level) / requests.rate
            : (Math.min(cost, tokens.burst) - tokens.level) / tokens.rate;
        long retryAfterSec = Math.max(1, (long) Math.ceil(need));
        RateWindow rw = requests.window(now);
        RateWindow tw = tokens.window(now);
        at(now + rtt() / 2, () -> a.rateLimited(retryAfterSec, rw, tw));
        return;
      }
      requests.level -= 1;
      tokens.level -= cost;
      a.admitted = true;
      a.window = requests.window(now);
      a.tokenWindow = tokens.window(now);
      if (busy < capacity) {
        start(a);
      } else {
        waiting.add(a);
      }
    }

    void start(Attempt a) {
      long now = clock.now;
      busy++;
      long ttftNanos = (long) (SimFleet.TTFT_SEC * Math.exp(SimFleet.TTFT_SIGMA * a.jitter) * NS);
      long decode = (long) (a.req.tokens * SimFleet.PER_TOKEN_SEC * NS);
      long firstToken = now + ttftNanos;
      long end = firstToken + decode;
      long half = rtt() / 2;
      at(a.req.stream ? now + half : end + half, a::headers);
      at(end + half, () -> a.end(firstToken + half));
      at(end, () -> {
        tokens.refill(clock.now);
        tokens.level = Math.min(tokens.burst, tokens.level + a.req.estimate - (PROMPT_TOKENS + a.req.tokens)); // settled
        free();
      });
    }

    void free() {
      busy--;
      Attempt next = waiting.poll();
      if (next != null) {
        start(next);
      }
    }
  }

  private static final class Req {
    final int instance;
    final long arrival;
    final boolean stream;
    final int tokens;
    /** The admission estimate: prompt + max_tokens (the real answer is 30..100% of max_tokens). */
    final long estimate;
    final boolean measured;
    final List<Slot> tried = new ArrayList<>(2);
    final Exclusion exclusion = slot -> {
      for (Slot s : tried) {
        if (s.state == slot.state) {
          return true;
        }
      }
      return false;
    };
    final Exclusion withTokens = new Exclusion() {
      @Override
      public boolean excludes(Slot slot) {
        return exclusion.excludes(slot);
      }

      @Override
      public long tokens() {
        return estimate;
      }
    };
    Attempt pending;
    long waitStart = -1;
    int attempts;

    Req(int instance, long arrival, boolean stream, int tokens, long estimate, boolean measured) {
      this.instance = instance;
      this.arrival = arrival;
      this.stream = stream;
      this.tokens = tokens;
      this.estimate = estimate;
      this.measured = measured;
    }
  }

  private final class Attempt {
    final Req req;
    final Slot slot;
    final AttemptLease lease;
    final double jitter;
    RateWindow window; // what the headers will say (computed at admission)
    RateWindow tokenWindow;
    boolean admitted;
    /** When it was dispatched (the reader dates the headers' windows to it, as LogicalCall does). */
    final long sentAt;

    Attempt(Req req, Slot slot, AttemptLease lease, long sentAt) {
      this.sentAt = sentAt;
      this.req = req;
      this.slot = slot;
      this.lease = lease;
      this.jitter = random.nextGaussian();
    }

    /**
     * What {@code LogicalCall.judge} does with a response's rate-limit headers, at their arrival
     * ({@code hintNanos}: the 429's named delay, else -1).
     */
    private void observe(RateWindow rw, RateWindow tw, long now, boolean limited, long hintNanos) {
      // The reader turns the header's delay into an instant from the headers' arrival, as RateLimitHeaders does.
      RateWindow requests = arrived(rw, now);
      RateWindow tokens = arrived(tw, now);
      slot.state.observeRateLimits(requests, tokens, 0, now);
      lease.core().publishRateLimits(slot, requests, tokens); // as LogicalCall: nothing when local-only
      if (limited) {
        slot.state.headroom().rateLimited(now, hintNanos, requests, tokens);
      }
      lease.core().observedHeadroom(slot, now);
    }

    private RateWindow arrived(RateWindow w, long now) {
      // RateLimitHeaders.Reading.requests(at, sentAt): a duration reset counts from the dispatch, and
      // the window is dated to it (within its bound).
      long at = now - sentAt > 0 && now - sentAt <= io.github.llmpool.internal.okhttp.RateLimitHeaders.MAX_DATING_NANOS
          ? sentAt : now;
      // ... and marks it dated (RateWindow.dated: its reset is read as this bucket's, not inferred
      // as a per-minute one's), as the reader does.
      return new RateWindow(w.limit, w.remaining, w.hasReset, at + (w.resetAt - w.seenAt), at, at != now);
    }

    void rateLimited(long retryAfterSec, RateWindow rw, RateWindow tw) {
      long now = clock.now;
      Map<String, String> headers = Map.of("retry-after", Long.toString(retryAfterSec));
      long hint = RetryHints.delayNanos(headers::get, clock.wallMillis());
      observe(rw, tw, now, true, hint);
      Outcome outcome = classifier.classify(429, new OutcomeClassifier.ResponseInfo() {
        @Override
        public Optional<String> header(String name) {
          return Optional.ofNullable(headers.get(name));
        }

        @Override
        public String errorBody() {
          return "{\"error\":{\"type\":\"requests\",\"code\":\"rate_limit_exceeded\"}}";
        }
      });
      lease.answered(now, 429, outcome, hint);
      if (req.measured) {
        rateLimitedAttempts++;
      }
      req.pending = this;
      attempt(req);
    }

    void headers() {
      observe(window, tokenWindow, clock.now, false, -1);
      lease.answered(clock.now, 200, Outcome.SUCCESS, -1);
    }

    void end(long firstTokenAt) {
      long now = clock.now;
      UsageResult usage = new UsageResult(true, PROMPT_TOKENS, req.tokens, PROMPT_TOKENS + req.tokens, 0, 0, "sim",
          req.stream, true, false,
          false, req.stream ? req.tokens : 0);
      lease.finish(usage, TokenUsage.End.COMPLETE, req.stream ? firstTokenAt : -1, now, false);
      if (req.measured) {
        succeeded++;
        latency.add((now - req.arrival) / 1e9);
      }
    }
  }

  private void attempt(Req req) {
    long now = clock.now;
    PoolCore core = pools[req.instance];
    int n = req.attempts + 1;
    Slot slot = null;
    if (n <= core.settings().retry().maxAttempts()) {
      boolean[] probe = new boolean[1];
      slot = core.choose(now, req.withTokens, probe);
      if (slot == null && n == 1 && core.settings().quotaWaitNanos() > 0) { // LogicalCall.waitForReturn
        if (req.waitStart < 0) {
          req.waitStart = now;
        }
        long wait = core.earliestReturn(now, req.withTokens);
        if (wait >= 0 && now + wait - (req.waitStart + core.settings().quotaWaitNanos()) <= 0) {
          if (req.measured && req.waitStart == now) {
            waited++;
          }
          at(now + Math.max(wait, 1), () -> attempt(req));
          return;
        }
      }
      if (slot == null && n == 1) {
        slot = core.failOpen(now, req.withTokens);
      }
      if (slot != null && n > 1 && !core.budget().tryRetry(now)) {
        core.onNeutral(slot, probe[0]);
        slot = null;
      }
      if (slot != null) {
        if (req.pending != null) {
          req.pending.lease.discard(now);
          req.pending = null;
        }
        req.attempts = n;
        req.tried.add(slot);
        if (req.measured) {
          attempts++;
        }
        AttemptLease lease = AttemptLease.dispatch(core, slot, n, probe[0], now, null, false, null, req.estimate);
        Attempt a = new Attempt(req, slot, lease, now);
        Prov p = provs[Integer.parseInt(slot.name().substring(1))];
        at(now + rtt() / 2, () -> p.arrive(a));
        return;
      }
    }
    if (req.pending != null) {
      req.pending.lease.discard(now);
      req.pending = null;
    }
    if (req.measured) {
      failedRequests++;
    }
  }

  Map<String, Object> run() {
    int k = fleet.size();
    provs = new Prov[k];
    List<Endpoint> endpoints = new ArrayList<>();
    List<Integer> weights = new ArrayList<>();
    for (int i = 0; i < k; i++) {
      provs[i] = new Prov(fleet.capacities()[i]);
      int rpm = contender.configuredLimits ? (int) Math.floor(provs[i].rate * 60) : -1;
      long tpm = contender.configuredLimits ? (long) Math.floor(provs[i].tokens.rate * 60) : -1;
      endpoints.add(new Endpoint("p" + i, "https", "p" + i + ".llm.example", 443, "/v1", "Authorization",
          "Bearer sim", null, List.of(), true, 1, rpm, tpm));
      weights.add(fleet.weights()[i]);
    }
    pools = new PoolCore[instances];
    Strategy strategy = contender.strategy;
    SimShared store = shared ? new SimShared(new SplittableRandom(seed * 31 + 7)) : null;
    for (int i = 0; i < instances; i++) {
      RandomSource r = new SimRun.Seeded(seed * 7919 + i);
      // Sharing instances are instances of ONE pool (the name is the shared identity).
      PoolCore.Settings settings = new PoolCore.Settings(shared ? "qsim" : "qsim-" + i, clock, r,
          new Health(EvictionPolicy.defaults(), LLM_AWARE, r), RetryPolicy.defaults(), classifier,
          contender.allEvictedPolicy(), LLM_AWARE, List.of(), List.of(), List.of(),
          shared ? store : SharedState.LOCAL_ONLY, true,
          "llmpool.invalid", "/v1", List.of(), contender.quotaRouting,
          contender.quotaWait == null ? 0 : contender.quotaWait.toNanos());
      pools[i] = new PoolCore(settings, strategy, List.of(endpoints), List.of(weights));
    }
    double capacityRate = fleet.totalCapacity() / SimFleet.meanServiceSec();
    double lambda = utilization * capacityRate;
    scheduleArrival(0, lambda);
    while (!queue.isEmpty()) {
      Ev e = queue.poll();
      clock.now = e.t;
      e.action.run();
    }
    Map<String, Object> m = Json.obj();
    m.put("fleet", fleet.name());
    m.put("contender", label());
    if (store != null) {
      m.put("sharedFlushes", store.flushes);
      m.put("sharedMessages", store.messages);
    }
    m.put("coreQuotaRouting", QuotaContender.CORE_QUOTA_ROUTING);
    m.put("utilization", utilization);
    m.put("instances", instances);
    m.put("offeredPerSec", Stats.round(lambda, 2));
    m.put("requests", logical);
    m.put("successRate", logical == 0 ? Double.NaN : Stats.round(succeeded / (double) logical, 6));
    m.put("failed", failedRequests);
    m.put("waited", waited);
    m.put("attemptsPerRequest", logical == 0 ? Double.NaN : Stats.round(attempts / (double) logical, 4));
    m.put("rateLimited", rateLimitedAttempts);
    m.put("rateLimitedPer1000", logical == 0 ? Double.NaN : Stats.round(1000.0 * rateLimitedAttempts / logical, 3));
    double[] lat = latency.stream().mapToDouble(Double::doubleValue).sorted().toArray();
    m.put("latencySec", Map.of("p50", Stats.round(Stats.sorted(lat, 50), 3), "p99", Stats.round(Stats.sorted(lat, 99), 3)));
    long[] limited = new long[k];
    for (int i = 0; i < k; i++) {
      limited[i] = provs[i].limited;
    }
    m.put("rateLimitedPerProvider", limited);
    return m;
  }

  /** The contender's label in the results: {@code +shared} when the instances share state. */
  String label() {
    return shared ? contender.label + "+shared" : contender.label;
  }

  /** Publish interval of the simulated store: {@code RedisSharedState}'s default (20 ms). */
  static final long PUBLISH_INTERVAL_NANOS = 20_000_000L;
  /** From one instance's flush to the others' receivers (a round trip to Redis and its PUBLISH). */
  static final long DELIVERY_NANOS = 2_000_000L;

  /**
   * A shared state in virtual time, modelled on {@code RedisSharedState}: each instance keeps what
   * it published since its last flush (the latest eviction and quota window per provider, its
   * dispatch counts per provider over the interval) and flushes every {@link #PUBLISH_INTERVAL_NANOS}
   * on a grid of its own (seeded phase); {@link #DELIVERY_NANOS} later every other instance's
   * receiver applies the batch, as the subscription does. No message is lost here, so the
   * store's periodic resync (which bounds staleness when one is) is not simulated.
   */
  private final class SimShared implements SharedState {
    private final List<SharedState.Receiver> receivers = new ArrayList<>();
    private final SplittableRandom phases;
    long flushes;
    long messages;

    SimShared(SplittableRandom phases) {
      this.phases = phases;
    }

    private final class Outbox implements SharedState.Publisher {
      final int index;
      final String pool;
      final long phase;
      final Map<String, SharedEviction> evictions = new LinkedHashMap<>();
      final Map<String, SharedQuota> quotas = new LinkedHashMap<>();
      final Map<String, long[]> dispatched = new LinkedHashMap<>(); // scope -> {group, requests, tokens}
      long since = -1; // wall millis of the interval's start
      boolean scheduled;

      Outbox(int index, String pool, long phase) {
        this.index = index;
        this.pool = pool;
        this.phase = phase;
      }

      private void touched() {
        if (since < 0) {
          since = clock.wallMillis();
        }
        if (!scheduled) {
          scheduled = true;
          long now = clock.now;
          long k = Math.floorDiv(now - phase, PUBLISH_INTERVAL_NANOS) + 1;
          at(phase + k * PUBLISH_INTERVAL_NANOS, this::flush);
        }
      }

      @Override
      public void publish(SharedEviction eviction) {
        evictions.put(eviction.provider(), eviction);
        touched();
      }

      @Override
      public void publishQuota(SharedQuota quota) {
        quotas.put((quota.group() ? "g:" : "p:") + quota.provider(), quota);
        touched();
      }

      @Override
      public void publishDispatched(String scope, boolean group, long requests, long tokens) {
        long[] c = dispatched.computeIfAbsent(scope, x -> new long[] {group ? 1 : 0, 0, 0});
        c[1] += requests;
        c[2] += tokens;
        touched();
      }

      void flush() {
        scheduled = false;
        long wall = clock.wallMillis();
        List<SharedEviction> e = new ArrayList<>(evictions.values());
        List<SharedQuota> q = new ArrayList<>(quotas.values());
        List<SharedDispatch> d = new ArrayList<>();
        for (Map.Entry<String, long[]> x : dispatched.entrySet()) {
          long[] c = x.getValue();
          d.add(SharedDispatch.of(pool, x.getKey(), c[0] == 1, c[1], c[2], Math.min(since, wall), wall));
        }
        evictions.clear();
        quotas.clear();
        dispatched.clear();
        since = -1;
        flushes++;
        at(clock.now + DELIVERY_NANOS, () -> {
          for (int j = 0; j < receivers.size(); j++) {
            if (j == index) {
              continue;
            }
            SharedState.Receiver r = receivers.get(j);
            for (SharedEviction x : e) {
              r.onEviction(x);
            }
            for (SharedQuota x : q) {
              r.onQuota(x);
            }
            for (SharedDispatch x : d) {
              r.onDispatched(x);
            }
            messages += e.size() + q.size() + d.size();
          }
        });
      }
    }

    @Override
    public SharedState.Publisher join(String pool, SharedState.Receiver receiver) {
      Outbox o = new Outbox(receivers.size(), pool, phases.nextLong(PUBLISH_INTERVAL_NANOS));
      receivers.add(receiver);
      return o;
    }
  }

  private void scheduleArrival(long t, double lambda) {
    long next = t + (long) (-Math.log(1 - random.nextDouble()) / lambda * NS);
    if (next >= durationNanos) {
      return;
    }
    at(next, () -> {
      int inst = random.nextInt(instances);
      boolean stream = random.nextDouble() < 0.5;
      int tokens = (int) Math.min(SimFleet.TOKENS_MAX,
          Math.max(1, Math.round(SimFleet.TOKENS_MEDIAN * Math.exp(SimFleet.TOKENS_SIGMA * random.nextGaussian()))));
      long maxTokens = Math.min(4 * SimFleet.TOKENS_MAX, (long) Math.ceil(tokens / (0.3 + 0.7 * random.nextDouble())));
      boolean measured = next >= warmupNanos;
      if (measured) {
        logical++;
      }
      Req req = new Req(inst, next, stream, tokens, PROMPT_TOKENS + maxTokens, measured);
      pools[inst].budget().onRequest(next);
      attempt(req);
      scheduleArrival(next, lambda);
    });
  }
}
