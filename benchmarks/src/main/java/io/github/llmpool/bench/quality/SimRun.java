package io.github.llmpool.bench.quality;

import io.github.llmpool.AllEvictedPolicy;
import io.github.llmpool.EvictionPolicy;
import io.github.llmpool.Outcome;
import io.github.llmpool.OutcomeClassifier;
import io.github.llmpool.spi.RandomSource;
import io.github.llmpool.spi.SharedState;
import io.github.llmpool.RetryPolicy;
import io.github.llmpool.Ticker;
import io.github.llmpool.TokenUsage;
import io.github.llmpool.internal.health.Health;
import io.github.llmpool.internal.engine.Probes;
import io.github.llmpool.internal.health.LatencyModel;
import io.github.llmpool.internal.health.ProviderState;
import io.github.llmpool.internal.health.RetryHints;
import io.github.llmpool.internal.engine.AttemptLease;
import io.github.llmpool.internal.route.Endpoint;
import io.github.llmpool.internal.engine.PoolCore;
import io.github.llmpool.internal.route.Slot;
import io.github.llmpool.internal.route.P2cPicker;
import io.github.llmpool.internal.route.Exclusion;
import io.github.llmpool.internal.usage.UsageResult;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.PriorityQueue;
import java.util.SplittableRandom;

/**
 * One discrete-event run of the scale simulation: {@code instances} independent application
 * instances, each with its own pool, sharing one {@link SimFleet}, in virtual time. Each instance's
 * pool is the library's real engine ({@link PoolCore}: the {@code Router} and its pickers,
 * {@code ProviderState}, {@code Health}, {@code RetryBudget}, {@link AttemptLease}), built over a
 * virtual {@link Ticker} and a seeded {@link RandomSource}; responses are classified by the
 * library's default {@link OutcomeClassifier} and their {@code Retry-After} read by
 * {@link RetryHints}. The failover loop mirrors the interceptor's ({@code LogicalCall}) step for
 * step: pick, fail open on a first attempt, retry budget, dispatch, classify, evict, fail over,
 * discard the failed response after the next pick.
 *
 * <p>Single-threaded and deterministic for a seed.
 */
final class SimRun {
  private static final long NS = 1_000_000_000L;
  /** The pools' latency model: the library's defaults (tau 10 s, initial 100 ms), or the legacy decay. */
  static LatencyModel model(Contender c) {
    long tau = 10 * NS;
    long initial = 100_000_000L;
    if (c.legacy) {
      return LatencyModel.legacy(tau, initial, c.llmAware);
    }
    if (c.probes) {
      return new LatencyModel(tau, initial, c.llmAware).withProbes(true);
    }
    String x = System.getProperty("llmpool.sim.exploration");
    LatencyModel m = x == null ? new LatencyModel(tau, initial, c.llmAware)
        : new LatencyModel(tau, initial, c.llmAware, Double.parseDouble(x));
    String sh = System.getProperty("llmpool.sim.staleTaus");
    if (sh != null) {
      m = new LatencyModel(m.tauNanos(), m.defaultEstimateNanos(), m.llmAware(), m.horizonNanos(),
          (long) (Double.parseDouble(sh) * tau), m.exploreThreshold(), m.exploreAgeNanos());
    }
    return m;
  }

  final SimFleet fleet;
  final Contender contender;
  final double utilization;
  final int instances;
  final long durationNanos;
  final long warmupNanos;
  final long seed;

  private final Clock clock = new Clock();
  private final PriorityQueue<Ev> queue = new PriorityQueue<>();
  private long seq;
  private final SplittableRandom random;
  private Prov[] provs;
  private PoolCore[] pools;
  private final OutcomeClassifier classifier = OutcomeClassifier.defaults();

  // Metrics (requests arriving after the warm-up).
  private final List<Double> latency = new ArrayList<>();
  private final List<Double> ttft = new ArrayList<>();
  private long logical;
  private long succeeded;
  private long attempts;
  private long rateLimitedAttempts;
  private long retriedRequests;
  private long failedRequests;
  private final List<Double> instantImbalance = new ArrayList<>();
  private final List<Double> arrivalImbalance = new ArrayList<>();
  private final List<double[]> timeline = new ArrayList<>(); // t, max/mean load, p0 share, mean load, p0 queue

  SimRun(SimFleet fleet, Contender contender, double utilization, int instances, double durationSec, double warmupSec,
      long seed) {
    this.fleet = fleet;
    this.contender = contender;
    this.utilization = utilization;
    this.instances = instances;
    this.durationNanos = (long) (durationSec * NS);
    this.warmupNanos = (long) (warmupSec * NS);
    this.seed = seed;
    this.random = new SplittableRandom(seed);
  }

  // ------------------------------------------------------------------ the virtual world

  /** The virtual clock every pool reads. */
  static final class Clock implements Ticker {
    long now;

    @Override
    public long read() {
      return now;
    }

    @Override
    public long wallMillis() {
      return 1_700_000_000_000L + now / 1_000_000L;
    }
  }

  /** A seeded random source (single-threaded use). */
  static final class Seeded implements RandomSource {
    private final SplittableRandom r;

    Seeded(long seed) {
      this.r = new SplittableRandom(seed);
    }

    @Override
    public int nextInt(int bound) {
      return r.nextInt(bound);
    }

    @Override
    public double nextDouble() {
      return r.nextDouble();
    }
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

  /** One shared provider: generation slots, FIFO queue, token-bucket rate limit, counters. */
  private final class Prov {
    final int index;
    final int capacity;
    final double rate; // requests per second
    final double burst;
    double tokens;
    long refilledAt;
    int busy;
    int slowBusy;
    final ArrayDeque<Attempt> waiting = new ArrayDeque<>();
    // Load integral (busy + waiting) over time, after the warm-up.
    double loadIntegral;
    long loadAt;
    long admitted;
    long limited;
    long probeArrivals;
    long windowArrivals;
    // Per-second arrival counts after the warm-up: sum, sum of squares, windows.
    double arrSum;
    double arrSumSq;
    int arrWindows;

    Prov(int index, int capacity) {
      this.index = index;
      this.capacity = capacity;
      this.rate = SimFleet.RATE_FACTOR * capacity / SimFleet.meanServiceSec();
      this.burst = Math.max(1, rate * SimFleet.BURST_SEC);
      this.tokens = burst;
    }

    void accountLoad(long now) {
      long from = Math.max(loadAt, warmupNanos);
      if (now > from) {
        loadIntegral += (busy + waiting.size()) * (double) (now - from);
      }
      loadAt = now;
    }

    double slowdown(long now) {
      if (!fleet.hasSpell() || index != 0) {
        return 1;
      }
      double f = now / (double) durationNanos;
      return f >= fleet.spellFromFrac() && f < fleet.spellToFrac() ? fleet.spellFactor() : 1;
    }

    /** An attempt reaches the provider. */
    void arrive(Attempt a) {
      long now = clock.now;
      tokens = Math.min(burst, tokens + (now - refilledAt) / (double) NS * rate);
      refilledAt = now;
      if (a.req.probe) {
        probeArrivals++;
      } else {
        windowArrivals++;
      }
      if (tokens < 1) {
        limited++;
        long retryAfterSec = Math.max(1, (long) Math.ceil((1 - tokens) / rate));
        at(now + rtt() / 2, () -> a.rateLimited(retryAfterSec));
        return;
      }
      tokens -= 1;
      admitted++;

      accountLoad(now);
      if (busy < capacity) {
        start(a);
      } else {
        waiting.add(a);
      }
    }

    void start(Attempt a) {
      long now = clock.now;
      a.started = true;
      busy++;
      double slow = slowdown(now);
      long ttftNanos = (long) (SimFleet.TTFT_SEC * Math.exp(SimFleet.TTFT_SIGMA * a.jitter) * slow * NS);
      long decode = (long) (a.req.tokens * SimFleet.PER_TOKEN_SEC * slow * NS);
      long firstToken = now + ttftNanos;
      long end = firstToken + decode;
      long half = rtt() / 2;
      boolean slowed = slow != 1;
      if (slowed) {
        slowBusy++;
      }
      a.slowed = slowed;
      if (a.req.stream) {
        at(now + half, unlessAbandoned(a, a::headers));
        at(firstToken + half, unlessAbandoned(a, a::firstToken)); // the tap samples a stream at its first token
      } else {
        at(end + half, unlessAbandoned(a, a::headers));
      }
      at(end + half, unlessAbandoned(a, () -> a.end(firstToken + half)));
      at(end, () -> {
        if (a.abandoned) {
          return; // its slot was freed when the caller gave it up
        }
        a.served = true;
        if (slowed) {
          slowBusy--;
        }
        free();
      });
    }

    /** An abandoned attempt leaves: out of the queue, or its slot freed (the provider stops generating). */
    void leave(Attempt a) {
      if (!a.started) {
        waiting.remove(a);
        return;
      }
      if (!a.served) {
        if (a.slowed) {
          slowBusy--;
        }
        free();
      }
    }

    void free() {
      accountLoad(clock.now);
      busy--;
      Attempt next = waiting.poll();
      if (next != null) {
        start(next);
      }
    }
  }

  /** {@code step} of {@code a}, unless its caller gave it up meanwhile ({@link Attempt#deadline}). */
  private static Runnable unlessAbandoned(Attempt a, Runnable step) {
    return () -> {
      if (!a.abandoned) {
        step.run();
      }
    };
  }

  private static long rtt() {
    return (long) (SimFleet.RTT_SEC * NS);
  }

  /** One logical request. */
  private static final class Req {
    final int instance;
    final long arrival;
    final boolean stream;
    final int tokens;
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
    Attempt pending; // the last failed attempt, discarded once the next one is dispatched
    int attempts;
    boolean probe;
    boolean abandonedOnce;

    Req(int instance, long arrival, boolean stream, int tokens, boolean measured) {
      this.instance = instance;
      this.arrival = arrival;
      this.stream = stream;
      this.tokens = tokens;
      this.measured = measured;
    }
  }

  /** One attempt of a logical request on one provider. */
  private final class Attempt {
    final Req req;
    final Slot slot;
    final AttemptLease lease;
    final double jitter;
    final long start = clock.now;
    boolean abandoned;
    boolean started;
    boolean served;
    boolean slowed;
    boolean alive; // a first token (stream) or the answer's headers came

    Attempt(Req req, Slot slot, AttemptLease lease) {
      this.req = req;
      this.slot = slot;
      this.lease = lease;
      this.jitter = random.nextGaussian();
    }

    PoolCore core() {
      return pools[req.instance];
    }

    void rateLimited(long retryAfterSec) {
      if (abandoned) {
        return;
      }
      alive = true;
      long now = clock.now;
      Map<String, String> headers = Map.of("retry-after", Long.toString(retryAfterSec));
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
      lease.answered(now, 429, outcome, RetryHints.delayNanos(headers::get, clock.wallMillis()));
      if (req.probe) {
        lease.discard(now);
        return;
      }
      if (req.measured) {
        rateLimitedAttempts++;
      }
      req.pending = this;
      attempt(req);
    }

    void headers() {
      lease.answered(clock.now, 200, Outcome.SUCCESS, -1);
      if (!req.stream) {
        alive = true;
      }
    }

    /**
     * The exploring attempt's deadline (-Dllmpool.sim.abandonAt=K): still no first token (stream) or
     * answer (otherwise) K times its pool's reference after dispatch, the caller gives it up: it
     * leaves the provider, its pool takes the elapsed time as a lower-bound sample, and the request
     * goes to another provider without spending the retry budget.
     */
    void deadline() {
      if (alive || abandoned) {
        return;
      }
      long now = clock.now;
      abandoned = true;
      Prov p = provs[Integer.parseInt(slot.name().substring(1))];
      p.leave(this);
      lease.discard(now);
      LatencyModel m = core().settings().latency();
      slot.state.sample(now, m.signal(req.stream, now - start, now - start, req.tokens, true), start, m);
      abandonedCount++;
      req.abandonedOnce = true;
      attempt(req);
    }

    void firstToken() {
      alive = true;
      long prev = slot.state.lastSampleAt();
      lease.firstToken(clock.now);
      if (core().settings().latency().samplesAtFirstToken() && shareable(this, prev)) {
        share(this, clock.now - start);
      }
    }

    void end(long firstTokenAt) {
      long now = clock.now;
      UsageResult usage = new UsageResult(true, 40, req.tokens, 40 + req.tokens, 0, 0, "sim", req.stream, true, false,
          false, req.stream ? req.tokens : 0);
      long prev = slot.state.lastSampleAt();
      lease.finish(usage, TokenUsage.End.COMPLETE, req.stream ? firstTokenAt : -1, now, false);
      if (!req.stream && shareable(this, prev)) {
        share(this, core().settings().latency().signal(false, -1, now - start, req.tokens, true));
      }
      if (req.measured) {
        succeeded++;
        latency.add((now - req.arrival) / 1e9);
        if (req.stream) {
          ttft.add((firstTokenAt - req.arrival) / 1e9);
        }
      }
    }
  }

  // ------------------------------------------------------------------ the failover loop

  /** The next attempt of {@code req}, as the interceptor's loop makes it. */
  private void attempt(Req req) {
    long now = clock.now;
    PoolCore core = pools[req.instance];
    int n = req.attempts + 1;
    Slot slot = null;
    if (n <= core.settings().retry().maxAttempts()) {
      boolean[] probe = new boolean[1];
      slot = core.choose(now, req.exclusion, probe);
      if (slot == null && n == 1) {
        slot = core.failOpen(now, req.exclusion);
      }
      if (slot != null && n > 1 && !req.abandonedOnce && !core.budget().tryRetry(now)) {
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
          if (n == 2) {
            retriedRequests++;
          }
        }
        if (DEBUG && slot.name().equals("p0") && fleet.hasSpell()) {
          debugDispatch(slot, now);
        }
        AttemptLease lease = AttemptLease.dispatch(core, slot, n, probe[0], now, null, req.stream);
        if (core.probes() != null) {
          core.probes().remember(slot, PROBE_TEMPLATE, now);
          sendProbes(req.instance, now); // after the caller's dispatch, as LogicalCall sends them
        }
        known[req.instance][Integer.parseInt(slot.name().substring(1))] = slot.state;
        Attempt a = new Attempt(req, slot, lease);
        Prov p = provs[Integer.parseInt(slot.name().substring(1))];
        at(now + rtt() / 2, () -> p.arrive(a));
        if (ABANDON_AT > 0 && !req.abandonedOnce) {
          long ref = exploringBad(req.instance, slot.state, now);
          if (ref > 0) {
            long wait = (long) (ABANDON_AT * ref * (req.stream ? 1 : (req.tokens + LatencyModel.OVERHEAD_TOKENS)
                / (double) LatencyModel.OVERHEAD_TOKENS));
            at(now + wait, a::deadline);
          }
        }
        return;
      }
    }
    // Nothing more to try: the caller gets the last failure.
    if (req.pending != null) {
      req.pending.lease.discard(now);
      req.pending = null;
    }
    if (req.measured) {
      failedRequests++;
    }
  }

  /** The probes template every pool remembers for every provider (the sim's requests are chat completions). */
  private static final Probes.Template PROBE_TEMPLATE = new Probes.Template("/chat/completions", "sim", false);
  private long probesSent;

  /**
   * The probes {@code instance}'s pick queued ({@code P2cSettings.probes}), sent as the library's
   * {@code Prober} sends them: a streamed request for one output token, an attempt of its own that
   * no caller waits for (a 429 is recorded and not retried).
   */
  private void sendProbes(int instance, long now) {
    Probes probes = pools[instance].probes();
    if (probes == null) {
      return;
    }
    Slot slot;
    while ((slot = probes.poll()) != null) {
      PoolCore core = pools[instance];
      Req pr = new Req(instance, now, true, 1, false);
      pr.probe = true;
      AttemptLease lease = AttemptLease.dispatch(core, slot, 1, false, now, null, true);
      Attempt a = new Attempt(pr, slot, lease);
      Prov p = provs[Integer.parseInt(slot.name().substring(1))];
      probes.sent(slot);
      slot.state.countProbe();
      probesSent++;
      at(now + rtt() / 2, () -> p.arrive(a));
    }
  }

  static final boolean DEBUG = Boolean.getBoolean("llmpool.sim.debug");
  /** Benchmarks-only experiment (R11 in QUALITY.md): see {@link Attempt#deadline}; 0 (unset): off. */
  static final double ABANDON_AT = Double.parseDouble(System.getProperty("llmpool.sim.abandonAt", "0"));
  private long abandonedCount;

  /**
   * Whether a pick of {@code st} in pool {@code instance} explores a provider whose estimate is bad
   * (its own estimate at least {@link LatencyModel#EXPLORE_BAD_RATIO} times the median of the pool's
   * other estimates, its last sample as old as the bad exploration age): that median, else 0.
   */
  private long exploringBad(int instance, ProviderState st, long now) {
    LatencyModel m = pools[instance].settings().latency();
    if (now - st.lastSampleAt() < m.exploreAgeBadNanos() || st.rawEstimate() <= 0) {
      return 0;
    }
    long ref = medianOfOthers(known[instance], st);
    return ref > 0 && st.rawEstimate() >= LatencyModel.EXPLORE_BAD_RATIO * ref ? ref : 0;
  }

  /** The median raw estimate of a pool's providers other than {@code st} that have one, else 0. */
  private static long medianOfOthers(ProviderState[] mine, ProviderState st) {
    long[] e = new long[mine.length];
    int n = 0;
    for (ProviderState o : mine) {
      if (o != null && o != st && o.rawEstimate() > 0) {
        e[n++] = o.rawEstimate();
      }
    }
    if (n == 0) {
      return 0;
    }
    java.util.Arrays.sort(e, 0, n);
    return e[n / 2];
  }

  /**
   * Benchmarks-only experiment (R10 in QUALITY.md): every pool's latency samples also reach every
   * other pool's estimate of that provider, 22 ms later (RedisSharedState's publish interval and
   * delivery), as a shared latency channel in the fleet's shared state would carry them. Modes
   * ({@code -Dllmpool.sim.shareSamples=MODE}): {@code all} every sample as the receiver's own;
   * {@code replaced} only a sample that replaced its pool's silent estimate (an exploration-like
   * re-measurement); {@code median} every sample, but none lower than the receiver's median estimate
   * of the other providers (good news brings a provider back to ordinary, not ahead of the others);
   * {@code news} as {@code median}, and only samples that change the receiver's verdict (bad, at
   * {@link LatencyModel#EXPLORE_BAD_RATIO} times that median or more, against its estimate).
   * Unset: nothing shared (the library as it is).
   */
  static final String SHARE = System.getProperty("llmpool.sim.shareSamples", "");
  static final long SHARE_DELAY = 22_000_000L;
  private ProviderState[][] known;

  /** Whether {@code a}'s sample, taken now, is shared ({@code prevSampleAt}: its state's last sample before it). */
  private boolean shareable(Attempt a, long prevSampleAt) {
    if (SHARE.isEmpty()) {
      return false;
    }
    return !SHARE.equals("replaced") || (a.slot.state.lastSampleAt() == clock.now
        && clock.now - prevSampleAt >= a.core().settings().latency().replaceAfterNanos());
  }

  private void share(Attempt a, long signal) {
    int pi = Integer.parseInt(a.slot.name().substring(1));
    long start = a.start;
    LatencyModel m = a.core().settings().latency();
    boolean clamp = SHARE.equals("median") || SHARE.equals("news");
    for (int j = 0; j < instances; j++) {
      ProviderState st = known[j][pi];
      if (j == a.req.instance || st == null) {
        continue;
      }
      ProviderState[] mine = known[j];
      at(clock.now + SHARE_DELAY, () -> {
        long sig = signal;
        if (clamp) {
          long ref = medianOfOthers(mine, st);
          if (ref > 0) {
            if (SHARE.equals("news")) {
              boolean bad = st.rawEstimate() >= LatencyModel.EXPLORE_BAD_RATIO * ref;
              boolean news = sig >= LatencyModel.EXPLORE_BAD_RATIO * ref;
              if (bad == news && !(bad && sig > st.rawEstimate())) {
                return; // nothing this receiver needs: an ordinary sample, or a bad one it already holds
              }
            }
            sig = Math.max(sig, ref);
          }
        }
        st.sample(clock.now, sig, start, m);
      });
    }
  }

  private final long[] dbgAge = new long[8];
  private long dbgInSpell;

  private void debugDispatch(Slot slot, long now) {
    double f = now / (double) durationNanos;
    if (f < fleet.spellFromFrac() + 0.02 || f >= fleet.spellToFrac()) {
      return;
    }
    dbgInSpell++;
    long age = (now - slot.state.lastSampleAt()) / NS;
    int b = age < 5 ? 0 : age < 10 ? 1 : age < 20 ? 2 : age < 40 ? 3 : age < 60 ? 4 : age < 90 ? 5 : age < 150 ? 6 : 7;
    dbgAge[b]++;
  }

  /**
   * Debug (-Dllmpool.sim.debug=true): around the end of p0's spell, p0's slots (busy, of them still
   * generating at the spell's slowdown) and FIFO queue, and the pools' view of p0: how many have a
   * stream to it still waiting for its first token, whose p0 estimate is within 1.5x its reference,
   * which sampled it in the last 5 s, and the mean estimate.
   */
  private void debugAt(long t) {
    Prov p0 = provs[0];
    int waitingStreams = 0;
    int cheap = 0;
    int exploredRecently = 0;
    double estSum = 0;
    int estN = 0;
    for (PoolCore c : pools) {
      Slot s = c.router().slot("p0");
      if (s.state.streamsWaiting() > 0) {
        waitingStreams++;
      }
      P2cPicker.Reference r = c.router().tierReference(0, t);
      double ref = r.forSlot(0);
      double est = s.state.latencyEstimate(t, model(contender), ref);
      estSum += est / NS;
      estN++;
      if (ref > 0 && est < 1.5 * ref) {
        cheap++;
      }
      if (t - s.state.lastSampleAt() < 5 * NS) {
        exploredRecently++;
      }
    }
    System.out.printf("      t=%+.0f s p0 busy %d waiting %d slowInSlots %d; pools: stream waiting %d, est<1.5ref %d, sampled<5s %d, mean est %.2f s%n",
        (t - fleet.spellToFrac() * durationNanos) / 1e9, p0.busy, p0.waiting.size(), p0.slowBusy, waitingStreams, cheap,
        exploredRecently, estSum / estN);
  }

  // ------------------------------------------------------------------ the run

  Map<String, Object> run() {
    int k = fleet.size();
    provs = new Prov[k];
    List<Endpoint> endpoints = new ArrayList<>();
    List<Integer> weights = new ArrayList<>();
    for (int i = 0; i < k; i++) {
      provs[i] = new Prov(i, fleet.capacities()[i]);
      endpoints.add(new Endpoint("p" + i, "https", "p" + i + ".llm.example", 443, "/v1", "Authorization",
          "Bearer sim", null, List.of(), true, contender.concurrency));
      weights.add(fleet.weights()[i]);
    }
    LatencyModel model = model(contender);
    pools = new PoolCore[instances];
    known = new ProviderState[instances][k];
    for (int i = 0; i < instances; i++) {
      RandomSource r = new Seeded(seed * 7919 + i);
      PoolCore.Settings settings = new PoolCore.Settings("sim-" + i, clock, r,
          new Health(EvictionPolicy.defaults(), model, r), RetryPolicy.defaults(), classifier,
          AllEvictedPolicy.FAIL_OPEN, model, List.of(), List.of(), List.of(), SharedState.LOCAL_ONLY, true,
          "llmpool.invalid", "/v1");
      pools[i] = new PoolCore(settings, contender.strategy, List.of(endpoints), List.of(weights));
    }

    double capacityRate = fleet.totalCapacity() / SimFleet.meanServiceSec();
    double lambda = utilization * capacityRate;
    // Arrivals: one merged Poisson stream, each request to a uniformly drawn instance.
    scheduleArrival(0, lambda);
    // Samples of the instantaneous load spread, once a second.
    for (long t = warmupNanos; t <= durationNanos; t += NS) {
      long st = t;
      at(st, () -> sample(st));
    }
    if (DEBUG && fleet.hasSpell()) {
      long to = (long) (fleet.spellToFrac() * durationNanos);
      for (long t : new long[] {to - 30 * NS, to - 5 * NS, to, to + 5 * NS, to + 10 * NS, to + 15 * NS, to + 20 * NS,
          to + 30 * NS, to + 40 * NS, to + 50 * NS, to + 60 * NS}) {
        at(t, () -> debugAt(t));
      }
    }
    while (!queue.isEmpty()) {
      Ev e = queue.poll();
      clock.now = e.t;
      e.action.run();
    }
    if (DEBUG && fleet.hasSpell()) {
      System.out.printf("      p0 dispatches in spell: %d; by age of its last sample (<5,<10,<20,<40,<60,<90,<150,more s): %s%n",
          dbgInSpell, java.util.Arrays.toString(dbgAge));
    }
    if (contender.probes) {
      long toP0 = provs[0].probeArrivals;
      System.out.printf("      probes sent: %d (%.2f/s), admitted at p0: %d%n", probesSent, probesSent / (durationNanos / 1e9), toP0);
    }
    if (ABANDON_AT > 0) {
      System.out.printf("      abandoned exploring attempts: %d%n", abandonedCount);
    }
    return summary(lambda, capacityRate);
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
      boolean measured = next >= warmupNanos;
      if (measured) {
        logical++;
      }
      Req req = new Req(inst, next, stream, tokens, measured);
      pools[inst].budget().onRequest(next);
      attempt(req);
      scheduleArrival(next, lambda);
    });
  }

  private void sample(long t) {
    if (t == warmupNanos) {
      for (Prov p : provs) {
        p.windowArrivals = 0; // the first window starts at the end of the warm-up
      }
      return;
    }
    int k = provs.length;
    double sum = 0;
    double max = 0;
    double arrSum = 0;
    double arrMaxRatio = 0;
    double capTotal = fleet.totalCapacity();
    double weightTotal = 0;
    for (int w : fleet.weights()) {
      weightTotal += w;
    }
    long arrivalsTotal = 0;
    for (Prov p : provs) {
      arrivalsTotal += p.windowArrivals;
    }
    for (Prov p : provs) {
      double load = (p.busy + p.waiting.size()) / (double) p.capacity;
      sum += load;
      max = Math.max(max, load);
      if (arrivalsTotal > 0) {
        // Arrivals in the last second relative to the provider's share of capacity.
        double share = p.windowArrivals / (double) arrivalsTotal;
        arrMaxRatio = Math.max(arrMaxRatio, share / (p.capacity / capTotal));
      }
      arrSum += p.windowArrivals;
    }
    double mean = sum / k;
    if (mean > 0) {
      instantImbalance.add(max / mean);
    }
    if (arrivalsTotal > 0) {
      arrivalImbalance.add(arrMaxRatio);
    }
    double p0Share = arrivalsTotal == 0 ? 0 : provs[0].windowArrivals / (double) arrivalsTotal;
    timeline.add(new double[] {t / 1e9, mean > 0 ? max / mean : 0, p0Share, mean, provs[0].waiting.size()});
    for (Prov p : provs) {
      p.arrSum += p.windowArrivals;
      p.arrSumSq += (double) p.windowArrivals * p.windowArrivals;
      p.arrWindows++;
      p.windowArrivals = 0;
    }
  }

  private Map<String, Object> summary(double lambda, double capacityRate) {
    for (Prov p : provs) {
      p.accountLoad(durationNanos);
    }
    Map<String, Object> m = Json.obj();
    m.put("fleet", fleet.name());
    m.put("strategy", contender.label);
    m.put("utilization", utilization);
    m.put("offeredPerSec", Stats.round(lambda, 2));
    m.put("capacityPerSec", Stats.round(capacityRate, 2));
    m.put("requests", logical);
    m.put("successRate", logical == 0 ? Double.NaN : Stats.round(succeeded / (double) logical, 6));
    m.put("failed", failedRequests);
    m.put("attemptsPerRequest", logical == 0 ? Double.NaN : Stats.round(attempts / (double) logical, 4));
    m.put("retriedShare", logical == 0 ? Double.NaN : Stats.round(retriedRequests / (double) logical, 5));
    m.put("rateLimited", rateLimitedAttempts);
    m.put("rateLimitedPer1000", logical == 0 ? Double.NaN : Stats.round(1000.0 * rateLimitedAttempts / logical, 3));
    double[] lat = latency.stream().mapToDouble(Double::doubleValue).sorted().toArray();
    double[] tt = ttft.stream().mapToDouble(Double::doubleValue).sorted().toArray();
    m.put("latencySec", Map.of("p50", Stats.round(Stats.sorted(lat, 50), 3), "p99", Stats.round(Stats.sorted(lat, 99), 3)));
    Map<String, Object> t = Json.obj();
    t.put("p50", Stats.round(Stats.sorted(tt, 50), 3));
    t.put("p99", Stats.round(Stats.sorted(tt, 99), 3));
    t.put("p999", Stats.round(Stats.sorted(tt, 99.9), 3));
    m.put("ttftSec", t);

    // Load per provider: time-average of (generating + queued) / capacity after the warm-up.
    double span = durationNanos - warmupNanos;
    double[] load = new double[provs.length];
    long[] admitted = new long[provs.length];
    long[] limited = new long[provs.length];
    double sum = 0;
    double max = 0;
    for (int i = 0; i < provs.length; i++) {
      load[i] = Stats.round(provs[i].loadIntegral / span / provs[i].capacity, 4);
      admitted[i] = provs[i].admitted;
      limited[i] = provs[i].limited;
      sum += load[i];
      max = Math.max(max, load[i]);
    }
    double mean = sum / provs.length;
    m.put("loadPerProvider", load);
    m.put("maxOverMeanLoad", Stats.round(max / mean, 4));
    m.put("admittedPerProvider", admitted);
    m.put("rateLimitedPerProvider", limited);
    double[] ii = instantImbalance.stream().mapToDouble(Double::doubleValue).sorted().toArray();
    Map<String, Object> herd = Json.obj();
    herd.put("p50", Stats.round(Stats.sorted(ii, 50), 3));
    herd.put("p99", Stats.round(Stats.sorted(ii, 99), 3));
    herd.put("max", Stats.round(ii.length == 0 ? Double.NaN : ii[ii.length - 1], 3));
    m.put("instantMaxOverMeanLoad", herd);
    double[] ai = arrivalImbalance.stream().mapToDouble(Double::doubleValue).sorted().toArray();
    Map<String, Object> arr = Json.obj();
    arr.put("p50", Stats.round(Stats.sorted(ai, 50), 3));
    arr.put("p99", Stats.round(Stats.sorted(ai, 99), 3));
    arr.put("max", Stats.round(ai.length == 0 ? Double.NaN : ai[ai.length - 1], 3));
    m.put("perSecondArrivalOverFairShare", arr);
    // Index of dispersion (variance / mean) of each provider's arrivals per second: 1 for the
    // Poisson stream independent random choices give; above 1 when instances move together.
    double disp = 0;
    for (Prov p : provs) {
      double mu = p.arrSum / p.arrWindows;
      double var = p.arrSumSq / p.arrWindows - mu * mu;
      disp += mu > 0 ? var / mu : 0;
    }
    m.put("arrivalDispersion", Stats.round(disp / provs.length, 3));
    if (fleet.hasSpell()) {
      m.put("spell", spell());
    }
    // Thinned timeline (every 5 s) for charts.
    List<Object> tl = new ArrayList<>();
    for (int i = 0; i < timeline.size(); i += 5) {
      double[] row = timeline.get(i);
      tl.add(new double[] {row[0], Stats.round(row[1], 3), Stats.round(row[2], 4), Stats.round(row[3], 4)});
    }
    m.put("timeline", tl);
    return m;
  }

  /** p0's share of arrivals before, during and after its slow spell, and the overshoot after it. */
  private Map<String, Object> spell() {
    double from = fleet.spellFromFrac() * durationNanos / 1e9;
    double to = fleet.spellToFrac() * durationNanos / 1e9;
    double fair = provs[0].capacity / (double) fleet.totalCapacity();
    double before = 0;
    int nb = 0;
    double during = 0;
    int nd = 0;
    double after = 0;
    int na = 0;
    double peakAfter = 0;
    // 5-second windows after the spell, to see an overshoot (instances herding back).
    for (double[] row : timeline) {
      double t = row[0];
      if (t < from) {
        before += row[2];
        nb++;
      } else if (t < to) {
        during += row[2];
        nd++;
      } else {
        after += row[2];
        na++;
      }
    }
    for (int i = 0; i + 5 <= timeline.size(); i++) {
      if (timeline.get(i)[0] < to) {
        continue;
      }
      double w = 0;
      for (int j = i; j < i + 5; j++) {
        w += timeline.get(j)[2];
      }
      peakAfter = Math.max(peakAfter, w / 5);
    }
    // Half its fair share back: the first second after the spell from which p0's mean share over
    // the next 5 s reaches half its fair share.
    Double back = null;
    for (int i = 0; i + 5 <= timeline.size(); i++) {
      if (timeline.get(i)[0] < to) {
        continue;
      }
      double w = 0;
      for (int j = i; j < i + 5; j++) {
        w += timeline.get(j)[2];
      }
      if (w / 5 >= fair / 2) {
        back = timeline.get(i)[0] - to;
        break;
      }
    }
    // When p0 could start a new answer at once again: the first second after the spell with nothing
    // queued at p0. Answers started during the spell keep its slowdown to their end, so a provider
    // whose slots filled with slow answers (and whose queue grew) is still slow for a new request
    // until that queue has drained.
    Double drained = null;
    for (double[] row : timeline) {
      if (row[0] >= to && row[4] == 0) {
        drained = row[0] - to;
        break;
      }
    }
    // The experiment's herd figure: the highest 10-s share starting within 30 s of recovery.
    double peak10 = 0;
    for (int i = 0; i + 10 <= timeline.size(); i++) {
      double t0 = timeline.get(i)[0];
      if (t0 < to || t0 >= to + 30) {
        continue;
      }
      double w = 0;
      for (int j = i; j < i + 10; j++) {
        w += timeline.get(j)[2];
      }
      peak10 = Math.max(peak10, w / 10);
    }
    Map<String, Object> s = Json.obj();
    s.put("peak10sOverFair", Stats.round(peak10 / fair, 3));
    s.put("fromSec", Stats.round(from, 1));
    s.put("toSec", Stats.round(to, 1));
    s.put("halfShareBackSec", back == null ? null : Stats.round(back, 1));
    s.put("p0QueueDrainedSec", drained == null ? null : Stats.round(drained, 1));
    s.put("halfShareBackAfterDrainSec", back == null || drained == null ? null : Stats.round(Math.max(0, back - drained), 1));
    s.put("fairShare", Stats.round(fair, 4));
    s.put("shareBefore", nb == 0 ? Double.NaN : Stats.round(before / nb, 4));
    s.put("shareDuring", nd == 0 ? Double.NaN : Stats.round(during / nd, 4));
    s.put("shareAfter", na == 0 ? Double.NaN : Stats.round(after / na, 4));
    s.put("peak5sShareAfter", Stats.round(peakAfter, 4));
    s.put("peakOverFair", Stats.round(peakAfter / fair, 3));
    return s;
  }
}
