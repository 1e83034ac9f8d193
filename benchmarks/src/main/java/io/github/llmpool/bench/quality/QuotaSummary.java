package io.github.llmpool.bench.quality;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/** The figures of one {@link QuotaRun}, as a JSON-ready map. Stateless. */
final class QuotaSummary {
  private static final double MINUTE = QuotaLimit.MINUTE;

  private QuotaSummary() {}

  static Map<String, Object> of(QuotaRun run) {
    QuotaScenario sc = run.scenario;
    Map<String, Object> m = Json.obj();
    m.put("scenario", sc.name());
    m.put("contender", run.contender.label);
    m.put("coreQuotaRouting", QuotaContender.CORE_QUOTA_ROUTING);
    List<QuotaRun.Rec> recs = run.recs;
    int n = recs.size();
    long ok = recs.stream().filter(r -> r.ok).count();
    long afterMinute = recs.stream().filter(r -> r.req.at() >= MINUTE).count();
    double attempts = recs.stream().mapToInt(r -> r.attempts).average().orElse(Double.NaN);
    m.put("requests", n);
    m.put("successRate", Stats.round(ok / (double) n, 5));
    m.put("attemptsPerRequest", Stats.round(attempts, 4));

    // Provider-side 429s.
    long limited = 0;
    long limitedAfter = 0;
    long byTokens = 0;
    List<Long> all429 = new ArrayList<>();
    List<Long> allTargets = new ArrayList<>();
    List<Object> perProvider = new ArrayList<>();
    for (String name : run.names) {
      QuotaFake f = run.fakes.get(name);
      long[] at = f.limitedAt.toArray();
      for (long t : at) {
        all429.add(t);
        if (t >= MINUTE) {
          limitedAfter++;
        }
      }
      for (long t : f.retryTargets.toArray()) {
        allTargets.add(t);
      }
      limited += at.length;
      byTokens += f.limitedByTokens.sum();
      Map<String, Object> p = Json.obj();
      p.put("name", name);
      p.put("received", f.received.sum());
      p.put("ok", f.ok.sum());
      p.put("rateLimited", at.length);
      p.put("served", recs.stream().filter(r -> r.ok && name.equals(r.provider)).count());
      perProvider.add(p);
    }
    m.put("rateLimited", limited);
    m.put("rateLimitedByTokens", byTokens);
    m.put("rateLimitedPer1000", Stats.round(1000.0 * limited / n, 2));
    m.put("rateLimitedPer1000AfterFirstMinute", afterMinute == 0 ? Double.NaN
        : Stats.round(1000.0 * limitedAfter / afterMinute, 2));
    m.put("providers", perProvider);
    m.put("rateLimitedWithRoomAtDispatch", run.limitedWithRoom.sum());
    m.put("rateLimitedWithoutRoomAtDispatch", run.limitedWithoutRoom.sum());
    m.put("sentWithoutRoom", run.sentWithoutRoom.sum());

    // Where in a fixed window the 429s fall; where their retry-after points.
    if (sc.providers().stream().anyMatch(s -> s.kind() == QuotaLimit.Kind.WINDOW)) {
      int[] fifths = new int[5];
      for (long t : all429) {
        fifths[Math.min(4, (int) (QuotaLimit.windowPosition(t) * 5))]++;
      }
      double[] share = new double[5];
      for (int i = 0; i < 5; i++) {
        share[i] = all429.isEmpty() ? Double.NaN : Stats.round(fifths[i] / (double) all429.size(), 4);
      }
      m.put("rateLimitedByWindowFifth", share);
    }
    long atBoundary = allTargets.stream().filter(t -> Math.abs(t - Math.round(t / MINUTE) * MINUTE) <= 1e9).count();
    m.put("retryTargetsAtMinuteBoundary", allTargets.isEmpty() ? Double.NaN
        : Stats.round(atBoundary / (double) allTargets.size(), 4));

    // Fallback: spill vs shortfall.
    if (sc.tiers().size() > 1) {
      List<String> tier0 = sc.tiers().get(0).stream().map(QuotaScenario.Spec::name).toList();
      long spilled = recs.stream().filter(r -> r.ok && r.provider != null && !tier0.contains(r.provider)).count();
      double offeredPerMin = n / sc.durationMin();
      double shortfall = Math.max(0, 1 - sc.capacityOf(sc.tiers().get(0)) / offeredPerMin);
      m.put("spilledShare", Stats.round(spilled / (double) n, 4));
      m.put("shortfallShare", Stats.round(shortfall, 4));
    }

    // Failed requests: how fast, and why.
    List<Double> failTimes = new ArrayList<>();
    Map<String, Integer> errors = new TreeMap<>();
    List<Double> okLatency = new ArrayList<>();
    for (QuotaRun.Rec r : recs) {
      double sec = (r.end - r.req.at()) / 1e9;
      if (r.ok) {
        okLatency.add(sec);
      } else {
        failTimes.add(sec);
        errors.merge(String.valueOf(r.error), 1, Integer::sum);
      }
    }
    double[] ft = failTimes.stream().mapToDouble(Double::doubleValue).sorted().toArray();
    double[] lt = okLatency.stream().mapToDouble(Double::doubleValue).sorted().toArray();
    Map<String, Object> fail = Json.obj();
    fail.put("count", ft.length);
    fail.put("p50Sec", Stats.round(Stats.sorted(ft, 50), 3));
    fail.put("p99Sec", Stats.round(Stats.sorted(ft, 99), 3));
    fail.put("errors", errors);
    m.put("failed", fail);
    m.put("latencySec", Map.of("p50", Stats.round(Stats.sorted(lt, 50), 3), "p99", Stats.round(Stats.sorted(lt, 99), 3)));

    // Pool states: whole tiers out, providers out while they had room, 429s landing beside an out provider.
    if (run.contender.pooled() && !run.statuses.isEmpty()) {
      int samples = run.statuses.size();
      int instances = run.statuses.get(0).length;
      List<Object> tierOut = new ArrayList<>();
      int offset = 0;
      for (List<QuotaScenario.Spec> tier : sc.tiers()) {
        long out = 0;
        for (char[][] st : run.statuses) {
          for (char[] inst : st) {
            boolean allOut = true;
            for (int j = offset; j < offset + tier.size(); j++) {
              allOut &= inst[j] != 'A';
            }
            out += allOut ? 1 : 0;
          }
        }
        tierOut.add(Stats.round(out / (double) (samples * instances), 4));
        offset += tier.size();
      }
      m.put("tierOutShare", tierOut);
      long outSamples = 0;
      long outWithRoom = 0;
      for (int k = 0; k < samples; k++) {
        for (char[] inst : run.statuses.get(k)) {
          for (int j = 0; j < inst.length; j++) {
            if (inst[j] != 'A') {
              outSamples++;
              if (run.room.get(k)[j]) {
                outWithRoom++;
              }
            }
          }
        }
      }
      m.put("providerOutShare", Stats.round(outSamples / (double) (samples * instances * run.names.size()), 4));
      m.put("outWhileRoomShare", outSamples == 0 ? Double.NaN : Stats.round(outWithRoom / (double) outSamples, 4));
      // The same, split by cause: evicted / probing ('E', 'P') and passed over for want of headroom ('Q').
      long[] evicted = outBy(run, "EP");
      long[] hr = outBy(run, "Q");
      long slots = (long) samples * instances * run.names.size();
      m.put("evictedShare", Stats.round(evicted[0] / (double) slots, 4));
      m.put("evictedWhileRoomShare", evicted[0] == 0 ? Double.NaN : Stats.round(evicted[1] / (double) evicted[0], 4));
      m.put("headroomOutShare", Stats.round(hr[0] / (double) slots, 4));
      m.put("headroomOutWhileRoomShare", hr[0] == 0 ? Double.NaN : Stats.round(hr[1] / (double) hr[0], 4));
      if (instances == 1) {
        long beside = 0;
        long total = 0;
        for (int j = 0; j < run.names.size(); j++) {
          int tier = tierOf(sc, j);
          for (long t : run.fakes.get(run.names.get(j)).limitedAt.toArray()) {
            int k = sampleAt(run.sampleTimes, t);
            if (k < 0) {
              continue;
            }
            total++;
            char[] inst = run.statuses.get(k)[0];
            for (int o = 0; o < inst.length; o++) {
              if (o != j && tierOf(sc, o) == tier && inst[o] != 'A') {
                beside++;
                break;
              }
            }
          }
        }
        m.put("rateLimitedWhileAnotherOutShare", total == 0 ? Double.NaN : Stats.round(beside / (double) total, 4));
      }
      Map<String, Integer> ev = new TreeMap<>();
      synchronized (run.events) {
        for (QuotaRun.Ev e : run.events) {
          ev.merge(e.type(), 1, Integer::sum);
        }
      }
      m.put("events", ev);
    }
    return m;
  }

  /** Provider samples whose status is one of {@code codes}, and those of them while the provider had room. */
  private static long[] outBy(QuotaRun run, String codes) {
    long out = 0;
    long withRoom = 0;
    for (int k = 0; k < run.statuses.size(); k++) {
      for (char[] inst : run.statuses.get(k)) {
        for (int j = 0; j < inst.length; j++) {
          if (codes.indexOf(inst[j]) >= 0) {
            out++;
            if (run.room.get(k)[j]) {
              withRoom++;
            }
          }
        }
      }
    }
    return new long[] {out, withRoom};
  }

  private static int tierOf(QuotaScenario sc, int index) {
    int offset = 0;
    for (int t = 0; t < sc.tiers().size(); t++) {
      offset += sc.tiers().get(t).size();
      if (index < offset) {
        return t;
      }
    }
    return -1;
  }

  /** The last sample at or before {@code t}, or -1. */
  private static int sampleAt(List<Long> times, long t) {
    int lo = 0;
    int hi = times.size() - 1;
    int best = -1;
    while (lo <= hi) {
      int mid = (lo + hi) >>> 1;
      if (times.get(mid) <= t) {
        best = mid;
        lo = mid + 1;
      } else {
        hi = mid - 1;
      }
    }
    return best;
  }
}
