package io.github.llmpool.bench.quality;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The scale simulation (issue 7): many independent application instances, each with its own pool,
 * sharing a fleet of providers with concurrency and rate limits, in virtual time (see
 * {@link SimRun}). For each fleet, utilisation and strategy it reports how the load spreads
 * (max/mean provider load), whether instances herd (the instantaneous spread, second by second),
 * how many 429s the pools provoke, and what callers see. Writes {@code simulation.json}.
 *
 * <pre>
 *   java -cp target/benchmarks.jar io.github.llmpool.bench.quality.ScaleSimulation \
 *       [--quick] [--out DIR] [--instances N] [--seed N]
 * </pre>
 */
public final class ScaleSimulation {
  private ScaleSimulation() {}

  public static void main(String[] args) throws Exception {
    System.setProperty("org.slf4j.simpleLogger.defaultLogLevel", "error");
    boolean quick = false;
    int instances = 100;
    long seed = 11;
    Path out = Path.of("quality-results");
    String onlyFleets = null;
    String onlyContenders = null;
    String onlyLoads = null;
    for (int i = 0; i < args.length; i++) {
      switch (args[i]) {
        case "--quick" -> quick = true;
        case "--out" -> out = Path.of(args[++i]);
        case "--instances" -> instances = Integer.parseInt(args[++i]);
        case "--seed" -> seed = Long.parseLong(args[++i]);
        case "--fleet" -> onlyFleets = "," + args[++i] + ",";
        case "--contender" -> onlyContenders = "," + args[++i] + ",";
        case "--load" -> onlyLoads = "," + args[++i] + ",";
        default -> throw new IllegalArgumentException("unknown argument " + args[i]
            + "; usage: [--quick] [--out DIR] [--instances N] [--seed N] [--fleet A,B] [--contender LABEL,..]"
            + " [--load 0.5,..]");
      }
    }
    double duration = quick ? 200 : 900;
    double warmup = quick ? 40 : 120;
    double[] utilizations = {0.5, 0.7, 0.9};
    long started = System.nanoTime();
    System.out.printf(Locale.ROOT, "scale simulation: %d instances, %.0f s virtual (%.0f s warm-up), mean service %.2f s%n",
        instances, duration, warmup, SimFleet.meanServiceSec());
    List<Object> runs = new ArrayList<>();
    for (SimFleet fleet : SimFleet.all()) {
      if (onlyFleets != null && !onlyFleets.contains("," + fleet.name() + ",")) {
        continue;
      }
      for (double u : utilizations) {
        if (onlyLoads != null && !onlyLoads.contains("," + u + ",")) {
          continue;
        }
        for (Contender c : Contender.values()) {
          if (onlyContenders != null && !onlyContenders.contains("," + c.label + ",")) {
            continue;
          }
          Map<String, Object> r = new SimRun(fleet, c, u, instances, duration, warmup, seed).run();
          runs.add(r);
          @SuppressWarnings("unchecked")
          Map<String, Object> herd = (Map<String, Object>) r.get("instantMaxOverMeanLoad");
          @SuppressWarnings("unchecked")
          Map<String, Object> ttft = (Map<String, Object>) r.get("ttftSec");
          System.out.printf(Locale.ROOT,
              "  %-15s u=%.1f %-12s n=%6d ok=%.5f 429/1000=%8.2f attempts=%.3f max/mean load=%.3f (1 s p99 %.2f) dispersion=%.2f ttft p99=%.2f s%n",
              fleet.name(), u, c.label, (Long) r.get("requests"), (Double) r.get("successRate"),
              (Double) r.get("rateLimitedPer1000"), (Double) r.get("attemptsPerRequest"),
              (Double) r.get("maxOverMeanLoad"), ((Number) herd.get("p99")).doubleValue(),
              ((Number) r.get("arrivalDispersion")).doubleValue(),
              ((Number) ttft.get("p99")).doubleValue());
          if (r.get("spell") instanceof Map<?, ?> sp) {
            System.out.printf(Locale.ROOT, "      spell: before %s during %s after %s peak/fair %s (10 s in 30: %s) half share back after %s s (p0's queue drained after %s s; back %s s after that)%n",
                sp.get("shareBefore"), sp.get("shareDuring"), sp.get("shareAfter"), sp.get("peakOverFair"), sp.get("peak10sOverFair"),
                sp.get("halfShareBackSec"), sp.get("p0QueueDrainedSec"), sp.get("halfShareBackAfterDrainSec"));
          }
        }
      }
    }
    Map<String, Object> doc = Json.obj();
    Map<String, Object> meta = Json.obj();
    meta.put("quick", quick);
    meta.put("instances", instances);
    meta.put("durationSec", duration);
    meta.put("warmupSec", warmup);
    meta.put("seed", seed);
    meta.put("meanServiceSec", Stats.round(SimFleet.meanServiceSec(), 3));
    meta.put("ttftSec", SimFleet.TTFT_SEC);
    meta.put("perTokenSec", SimFleet.PER_TOKEN_SEC);
    meta.put("tokensMedian", SimFleet.TOKENS_MEDIAN);
    meta.put("rttSec", SimFleet.RTT_SEC);
    meta.put("rateLimitFactor", SimFleet.RATE_FACTOR);
    meta.put("burstSec", SimFleet.BURST_SEC);
    List<Object> fleets = new ArrayList<>();
    for (SimFleet f : SimFleet.all()) {
      Map<String, Object> fm = Json.obj();
      fm.put("name", f.name());
      fm.put("description", f.description());
      fm.put("capacities", f.capacities());
      fm.put("weights", f.weights());
      fleets.add(fm);
    }
    meta.put("fleets", fleets);
    meta.put("elapsedSec", Stats.round((System.nanoTime() - started) / 1e9, 1));
    doc.put("meta", meta);
    doc.put("runs", runs);
    Path file = out.resolve("simulation.json");
    Json.write(file, doc);
    System.out.printf(Locale.ROOT, "wrote %s in %.0f s%n", file, (System.nanoTime() - started) / 1e9);
  }
}
