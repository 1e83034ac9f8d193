package io.github.llmpool.bench.quality;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Turns a finished {@link LoadRun} into its result object: success, latency and time-to-first-token
 * percentiles (loopback milliseconds), attempts per logical request, traffic share per provider,
 * the share sent to the bad providers while bad, failures after the first eviction, recovery
 * times (world seconds), the server-side view of a rate-limited provider, and the per-provider
 * traffic over time. Stateless.
 */
final class RunSummary {
  /** Requests that arrive in the pool's first seconds (world time) are left out of the "steady" figures. */
  static final double STEADY_AFTER_SEC = 10;

  private RunSummary() {}

  static Map<String, Object> of(LoadRun run) {
    Scenario sc = run.scenario;
    World w = run.world;
    Map<String, Object> out = Json.obj();
    out.put("scenario", sc.name());
    out.put("strategy", run.label);
    out.put("contender", run.contender.name());

    List<LoadRun.Rec> recs = run.recs;
    int n = recs.size();
    int ok = 0;
    List<Double> lat = new ArrayList<>();
    List<Double> ttft = new ArrayList<>();
    double[] attempts = new double[n];
    int retried = 0;
    Map<String, Integer> errors = new TreeMap<>();
    for (int i = 0; i < n; i++) {
      LoadRun.Rec r = recs.get(i);
      attempts[i] = r.attempts;
      if (r.attempts > 1) {
        retried++;
      }
      if (r.ok) {
        ok++;
        lat.add((r.end - r.at) / 1e6);
        if (r.stream && r.firstToken >= 0) {
          ttft.add((r.firstToken - r.at) / 1e6);
        }
      } else {
        errors.merge(r.error == null ? "unknown" : r.error, 1, Integer::sum);
      }
    }
    out.put("requests", n);
    out.put("ok", ok);
    out.put("successRate", n == 0 ? Double.NaN : ok / (double) n);
    out.put("latencyMs", percentiles(lat));
    out.put("ttftMs", percentiles(ttft));
    // The same after the pool's first STEADY_AFTER_SEC world seconds (cold start excluded).
    long steadyFrom = w.nanos(STEADY_AFTER_SEC * 1000);
    List<Double> latSteady = new ArrayList<>();
    List<Double> ttftSteady = new ArrayList<>();
    for (LoadRun.Rec r : recs) {
      if (r.ok && r.at >= steadyFrom) {
        latSteady.add((r.end - r.at) / 1e6);
        if (r.stream && r.firstToken >= 0) {
          ttftSteady.add((r.firstToken - r.at) / 1e6);
        }
      }
    }
    out.put("steadyAfterSec", STEADY_AFTER_SEC);
    out.put("latencyMsSteady", percentiles(latSteady));
    out.put("ttftMsSteady", percentiles(ttftSteady));
    Map<String, Object> att = Json.obj();
    att.put("mean", Stats.round(Stats.mean(attempts), 4));
    att.put("p99", Stats.percentile(attempts, 99));
    att.put("max", Stats.max(attempts));
    att.put("retriedShare", n == 0 ? Double.NaN : Stats.round(retried / (double) n, 5));
    out.put("attempts", att);
    out.put("errors", errors);

    // Traffic share per provider over the whole run (attempts dispatched by the pool).
    long total = 0;
    for (long a : run.finalAttempts) {
      total += a;
    }
    Map<String, Object> share = Json.obj();
    Map<String, Object> received = Json.obj();
    for (int i = 0; i < run.names.size(); i++) {
      share.put(run.names.get(i), total == 0 ? 0.0 : Stats.round(run.finalAttempts[i] / (double) total, 5));
      received.put(run.names.get(i), run.fakes.get(run.names.get(i)).received.sum());
    }
    out.put("attemptShare", share);
    out.put("serverReceived", received);
    out.put("attemptsTotal", total);

    // The time series, in world seconds.
    Series s = series(run);
    out.put("series", s.json);
    out.put("eventCounts", eventCounts(run));

    if (!sc.bad().isEmpty()) {
      out.put("bad", bad(run, s));
    }
    return out;
  }

  private static Map<String, Object> percentiles(List<Double> values) {
    double[] a = values.stream().mapToDouble(Double::doubleValue).sorted().toArray();
    Map<String, Object> m = Json.obj();
    m.put("n", a.length);
    m.put("p50", Stats.round(Stats.sorted(a, 50), 2));
    m.put("p90", Stats.round(Stats.sorted(a, 90), 2));
    m.put("p99", Stats.round(Stats.sorted(a, 99), 2));
    m.put("p999", Stats.round(Stats.sorted(a, 99.9), 2));
    m.put("max", Stats.round(a.length == 0 ? Double.NaN : a[a.length - 1], 2));
    return m;
  }

  private static Map<String, Object> eventCounts(LoadRun run) {
    Map<String, Object> m = new TreeMap<>();
    synchronized (run.events) {
      for (LoadRun.Ev e : run.events) {
        m.merge(e.type(), 1, (a, b) -> (Integer) a + (Integer) b);
      }
    }
    return m;
  }

  /** Per-bin attempts per provider, states, and caller outcomes by arrival bin. */
  record Series(Map<String, Object> json, double[] t, long[][] perProvider, long[] failedByArrival) {}

  private static Series series(LoadRun run) {
    World w = run.world;
    int p = run.names.size();
    List<Long> times;
    List<long[]> cum;
    List<char[]> st;
    synchronized (run) {
      times = new ArrayList<>(run.sampleTimes);
      cum = new ArrayList<>(run.cumulative);
      st = new ArrayList<>(run.statuses);
    }
    int bins = 0;
    while (bins + 1 < times.size() && times.get(bins) < run.durationNanos) {
      bins++;
    }
    double[] t = new double[bins];
    long[][] per = new long[p][bins];
    StringBuilder[] status = new StringBuilder[p];
    for (int i = 0; i < p; i++) {
      status[i] = new StringBuilder();
    }
    for (int k = 0; k < bins; k++) {
      t[k] = Stats.round(w.worldSeconds(times.get(k)), 3);
      for (int i = 0; i < p; i++) {
        per[i][k] = cum.get(k + 1)[i] - cum.get(k)[i];
        status[i].append(st.get(k)[i]);
      }
    }
    long[] okBins = new long[bins];
    long[] failBins = new long[bins];
    List<List<Double>> latBins = new ArrayList<>();
    for (int k = 0; k < bins; k++) {
      latBins.add(new ArrayList<>());
    }
    for (LoadRun.Rec r : run.recs) {
      int k = (int) (r.at / run.binNanos);
      if (k < bins) {
        if (r.ok) {
          okBins[k]++;
          latBins.get(k).add((r.end - r.at) / 1e6);
        } else {
          failBins[k]++;
        }
      }
    }
    double[] p50 = new double[bins];
    double[] p99 = new double[bins];
    for (int k = 0; k < bins; k++) {
      double[] a = latBins.get(k).stream().mapToDouble(Double::doubleValue).sorted().toArray();
      p50[k] = Stats.round(Stats.sorted(a, 50), 1);
      p99[k] = Stats.round(Stats.sorted(a, 99), 1);
    }
    Map<String, Object> json = Json.obj();
    json.put("binSec", Stats.round(w.worldSeconds(run.binNanos), 4));
    json.put("t", t);
    Map<String, Object> providers = Json.obj();
    Map<String, Object> states = Json.obj();
    for (int i = 0; i < p; i++) {
      providers.put(run.names.get(i), per[i]);
      states.put(run.names.get(i), status[i].toString());
    }
    json.put("attempts", providers);
    json.put("status", states);
    json.put("okByArrival", okBins);
    json.put("failedByArrival", failBins);
    json.put("latencyP50MsByArrival", p50);
    json.put("latencyP99MsByArrival", p99);
    return new Series(json, t, per, failBins);
  }

  /** Probes the pool sent the bad providers while bad (samples whose world time is in [from, to)). */
  private static long probesWhileBad(LoadRun run, double from, double to) {
    List<Long> times;
    List<long[]> probes;
    synchronized (run) {
      times = new ArrayList<>(run.sampleTimes);
      probes = new ArrayList<>(run.cumulativeProbes);
    }
    long n = 0;
    for (int k = 0; k + 1 < times.size() && k + 1 < probes.size(); k++) {
      double t = run.world.worldSeconds(times.get(k));
      if (t >= from && t < to) {
        for (int i = 0; i < run.names.size(); i++) {
          if (run.scenario.bad().contains(run.names.get(i))) {
            n += probes.get(k + 1)[i] - probes.get(k)[i];
          }
        }
      }
    }
    return n;
  }

  private static Map<String, Object> bad(LoadRun run, Series s) {
    Scenario sc = run.scenario;
    World w = run.world;
    Map<String, Object> m = Json.obj();
    m.put("providers", new ArrayList<>(new java.util.TreeSet<>(sc.bad())));
    double from = sc.badFromSec();
    double to = Math.min(sc.badToSec(), sc.durationSec());
    m.put("fromSec", from);
    m.put("toSec", to);

    // Share of attempts sent to the bad providers while bad, and their fair share by weight.
    long badAttempts = 0;
    long all = 0;
    for (int k = 0; k < s.t().length; k++) {
      if (s.t()[k] >= from && s.t()[k] < to) {
        for (int i = 0; i < run.names.size(); i++) {
          long a = s.perProvider()[i][k];
          all += a;
          if (sc.bad().contains(run.names.get(i))) {
            badAttempts += a;
          }
        }
      }
    }
    double fair = fairShare(sc);
    m.put("fairShare", Stats.round(fair, 4));
    m.put("attemptsWhileBad", badAttempts);
    m.put("shareWhileBad", all == 0 ? Double.NaN : Stats.round(badAttempts / (double) all, 5));
    m.put("probesWhileBad", probesWhileBad(run, from, to));
    long serverReceived = 0;
    for (String b : sc.bad()) {
      serverReceived += run.fakes.get(b).received.sum();
    }
    m.put("serverReceived", serverReceived);

    // Failures of requests that arrived while the provider was bad, and after its first eviction.
    long fromN = w.nanos(from * 1000);
    long toN = w.nanos(to * 1000);
    long firstEviction = -1;
    List<Double> evictedAt = new ArrayList<>();
    List<Double> restoredAt = new ArrayList<>();
    List<Double> probingAt = new ArrayList<>();
    synchronized (run.events) {
      for (LoadRun.Ev e : run.events) {
        if (!sc.bad().contains(e.provider())) {
          continue;
        }
        double sec = Stats.round(w.worldSeconds(e.t()), 3);
        switch (e.type()) {
          case "evicted" -> {
            evictedAt.add(sec);
            if (firstEviction < 0 && e.t() >= fromN) {
              firstEviction = e.t();
            }
          }
          case "restored" -> restoredAt.add(sec);
          case "probing" -> probingAt.add(sec);
          default -> { }
        }
      }
    }
    int failedWhileBad = 0;
    int requestsWhileBad = 0;
    int failedAfterEviction = 0;
    int requestsAfterEviction = 0;
    for (LoadRun.Rec r : run.recs) {
      if (r.at >= fromN && r.at < toN) {
        requestsWhileBad++;
        if (!r.ok) {
          failedWhileBad++;
        }
      }
      if (firstEviction >= 0 && r.at >= firstEviction) {
        requestsAfterEviction++;
        if (!r.ok) {
          failedAfterEviction++;
        }
      }
    }
    m.put("requestsWhileBad", requestsWhileBad);
    m.put("failedWhileBad", failedWhileBad);
    m.put("firstEvictionSec", firstEviction < 0 ? null : Stats.round(w.worldSeconds(firstEviction), 3));
    m.put("requestsAfterFirstEviction", requestsAfterEviction);
    m.put("failedAfterFirstEviction", firstEviction < 0 ? null : failedAfterEviction);
    m.put("evictedAtSec", limit(evictedAt));
    m.put("restoredAtSec", limit(restoredAt));
    m.put("probingAtSec", limit(probingAt));

    if (sc.recovers()) {
      m.put("recovery", recovery(run, s, to, fair, restoredAt, probingAt));
    }
    // Rate limits with Retry-After: the server's view, request by request.
    Behavior b = badBehavior(sc);
    if (b != null && b.p429() >= 1 && b.retryAfterSec() > 0) {
      m.put("retryAfterWindows", retryAfterWindows(run, b.retryAfterSec()));
    }
    if (sc.badFromSec() > 0 && !sc.recovers()) {
      // Bad for good from badFrom: what the provider still received afterwards.
      long after = 0;
      for (String name : sc.bad()) {
        for (long at : run.fakes.get(name).receivedAt()) {
          if (at >= fromN) {
            after++;
          }
        }
      }
      m.put("serverReceivedAfterBad", after);
    }
    return m;
  }

  private static Map<String, Object> recovery(LoadRun run, Series s, double to, double fair, List<Double> restoredAt,
      List<Double> probingAt) {
    Scenario sc = run.scenario;
    Map<String, Object> r = Json.obj();
    Double restored = null;
    for (double t : restoredAt) {
      if (t >= to) {
        restored = t;
        break;
      }
    }
    r.put("restoreDelaySec", restored == null ? null : Stats.round(restored - to, 3));
    int probes = 0;
    for (double t : probingAt) {
      if (t >= to && (restored == null || t <= restored)) {
        probes++;
      }
    }
    r.put("probesAfterRecoveryUntilRestored", probes);
    // First bin after recovery whose bad share reaches half its fair share.
    Double back = null;
    for (int k = 0; k < s.t().length; k++) {
      if (s.t()[k] < to) {
        continue;
      }
      long all = 0;
      long bad = 0;
      for (int i = 0; i < run.names.size(); i++) {
        all += s.perProvider()[i][k];
        if (sc.bad().contains(run.names.get(i))) {
          bad += s.perProvider()[i][k];
        }
      }
      if (all > 0 && bad / (double) all >= fair / 2) {
        back = s.t()[k] - to;
        break;
      }
    }
    r.put("halfShareBackSec", back == null ? null : Stats.round(back, 3));
    // Sustained: the first bin after recovery from which the bad share over the next
    // SUSTAIN_SEC world seconds reaches half its fair share (one lucky bin does not count).
    Double sustained = null;
    // Herd: the highest share over any HERD_WINDOW_SEC window starting within HERD_SPAN_SEC of recovery.
    double herd = 0;
    for (int k = 0; k < s.t().length; k++) {
      if (s.t()[k] < to) {
        continue;
      }
      double[] w5 = windowShare(run, s, k, SUSTAIN_SEC);
      if (sustained == null && w5 != null && w5[0] >= fair / 2) {
        sustained = s.t()[k] - to;
      }
      if (s.t()[k] < to + HERD_SPAN_SEC) {
        double[] wh = windowShare(run, s, k, HERD_WINDOW_SEC);
        if (wh != null) {
          herd = Math.max(herd, wh[0]);
        }
      }
    }
    r.put("halfShareBackSustainedSec", sustained == null ? null : Stats.round(sustained, 3));
    r.put("sustainSec", SUSTAIN_SEC);
    r.put("herdWindowSec", HERD_WINDOW_SEC);
    r.put("herdPeakShare", Stats.round(herd, 4));
    r.put("herdPeakOverFair", fair == 0 ? null : Stats.round(herd / fair, 3));
    return r;
  }

  /** Window over which "half share back" must hold (world seconds). */
  static final double SUSTAIN_SEC = 5;
  /** Window of the herd peak (world seconds: one decay time). */
  static final double HERD_WINDOW_SEC = 10;
  /** Herd windows start within this long after recovery (world seconds). */
  static final double HERD_SPAN_SEC = 30;

  /**
   * The bad providers' share of attempts over bins {@code k..} covering {@code sec} world seconds,
   * or null when the run ends first or nothing was sent.
   */
  private static double[] windowShare(LoadRun run, Series s, int k, double sec) {
    double end = s.t()[k] + sec;
    if (s.t()[s.t().length - 1] < end - 1e-9) {
      return null;
    }
    long all = 0;
    long bad = 0;
    for (int j = k; j < s.t().length && s.t()[j] < end - 1e-9; j++) {
      for (int i = 0; i < run.names.size(); i++) {
        all += s.perProvider()[i][j];
        if (run.scenario.bad().contains(run.names.get(i))) {
          bad += s.perProvider()[i][j];
        }
      }
    }
    return all == 0 ? null : new double[] {bad / (double) all};
  }

  private static Map<String, Object> retryAfterWindows(LoadRun run, double retryAfterSec) {
    World w = run.world;
    long window = w.nanos(retryAfterSec * 1000);
    long[] at = new long[0];
    for (String name : run.scenario.bad()) {
      at = run.fakes.get(name).receivedAt();
    }
    java.util.Arrays.sort(at);
    Map<String, Object> m = Json.obj();
    m.put("retryAfterSec", retryAfterSec);
    m.put("received", at.length);
    if (at.length == 0) {
      return m;
    }
    // The burst: requests that reached the provider before its first 429 could come back.
    long firstAnswer = at[0] + w.nanos(Behavior.ERROR_MS) + 2_000_000L;
    int burst = 0;
    while (burst < at.length && at[burst] <= firstAnswer) {
      burst++;
    }
    long span = run.durationNanos - firstAnswer;
    double windows = Math.max(1, span / (double) window);
    int maxInWindow = 0;
    for (int i = burst, j = burst; i < at.length; i++) {
      while (at[i] - at[j] >= window) {
        j++;
      }
      maxInWindow = Math.max(maxInWindow, i - j + 1);
    }
    m.put("initialBurst", burst);
    m.put("windows", Stats.round(windows, 2));
    m.put("afterBurst", at.length - burst);
    m.put("perWindowAfterBurst", Stats.round((at.length - burst) / windows, 3));
    m.put("maxInAnyWindowAfterBurst", maxInWindow);
    return m;
  }

  private static Behavior badBehavior(Scenario sc) {
    for (Scenario.Spec spec : sc.providers()) {
      if (sc.bad().contains(spec.name())) {
        return spec.base();
      }
    }
    return null;
  }

  /** The bad providers' weight over the weight of the tiers they are in. */
  static double fairShare(Scenario sc) {
    long badW = 0;
    long tierW = 0;
    for (List<Scenario.Spec> tier : sc.tiers()) {
      boolean has = tier.stream().anyMatch(x -> sc.bad().contains(x.name()));
      if (!has) {
        continue;
      }
      for (Scenario.Spec x : tier) {
        tierW += x.weight();
        if (sc.bad().contains(x.name())) {
          badW += x.weight();
        }
      }
    }
    // With several tiers, the first tier takes all traffic when healthy.
    if (sc.tiers().size() > 1 && sc.tiers().get(0).stream().anyMatch(x -> sc.bad().contains(x.name()))) {
      return badW / (double) tierW;
    }
    return tierW == 0 ? 0 : badW / (double) tierW;
  }

  private static List<Double> limit(List<Double> v) {
    return v.size() <= 200 ? v : v.subList(0, 200);
  }
}
