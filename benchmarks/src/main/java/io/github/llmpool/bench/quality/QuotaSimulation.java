package io.github.llmpool.bench.quality;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The scale simulation's quota scenarios (issue 17): 100 instances over the mixed fleet (unequal
 * providers, weights matched to capacity and left equal) whose global request limits are reported in
 * every response's headers ({@link QuotaSimRun}), at 90% utilisation. Writes
 * {@code quota-simulation.json}.
 *
 * <pre>
 *   java -cp target/benchmarks.jar io.github.llmpool.bench.quality.QuotaSimulation [--smoke] [--out DIR]
 *       [--instances N] [--seed N] [--contenders label,label]
 * </pre>
 *
 * <p>{@code --contenders} runs only the named contenders (by label; default: every pooled one).
 */
public final class QuotaSimulation {
  private QuotaSimulation() {}

  public static void main(String[] args) throws Exception {
    System.setProperty("org.slf4j.simpleLogger.defaultLogLevel", "error");
    boolean smoke = false;
    int instances = 100;
    long seed = 11;
    Path out = Path.of("quality-results");
    java.util.Set<String> only = null;
    for (int i = 0; i < args.length; i++) {
      switch (args[i]) {
        case "--smoke" -> smoke = true;
        case "--out" -> out = Path.of(args[++i]);
        case "--instances" -> instances = Integer.parseInt(args[++i]);
        case "--seed" -> seed = Long.parseLong(args[++i]);
        case "--contenders" -> only = java.util.Set.of(args[++i].split(","));
        default -> throw new IllegalArgumentException("unknown argument " + args[i]
            + "; usage: [--smoke] [--out DIR] [--instances N] [--seed N] [--contenders label,label]");
      }
    }
    double duration = smoke ? 120 : 900;
    double warmup = smoke ? 30 : 120;
    double u = 0.9;
    long started = System.nanoTime();
    System.out.printf(Locale.ROOT, "quota simulation: %d instances, %.0f s virtual (%.0f s warm-up), utilisation %.1f%n",
        instances, duration, warmup, u);
    List<Object> runs = new ArrayList<>();
    List<Object> fleets = new ArrayList<>();
    for (SimFleet fleet : SimFleet.all()) {
      if (!fleet.name().equals("mixed-weighted") && !fleet.name().equals("mixed-equal")) {
        continue;
      }
      Map<String, Object> fm = Json.obj();
      fm.put("name", fleet.name());
      fm.put("description", fleet.description());
      fm.put("capacities", fleet.capacities());
      fm.put("weights", fleet.weights());
      fleets.add(fm);
      for (QuotaContender c : QuotaContender.values()) {
        if (!c.pooled() || !c.runsIn(u)
            || (only != null && !only.contains(c.label) && !only.contains(c.label + "+shared"))) {
          continue;
        }
        for (boolean shared : new boolean[] {false, true}) {
          // The shared store (llmpool-redis, simulated: SimShared) for the header-aware pool only.
          if (shared && c != QuotaContender.HEADER_AWARE) {
            continue;
          }
          QuotaSimRun run = new QuotaSimRun(fleet, c, u, instances, duration, warmup, seed, shared);
          if (only != null && !only.contains(run.label()) && !(only.contains(c.label) && !shared)) {
            continue;
          }
          Map<String, Object> r = run.run();
          runs.add(r);
          System.out.printf(Locale.ROOT, "  %-15s u=%.1f %-22s n=%7d ok=%.5f 429/1000=%8.2f attempts=%.3f%n",
              fleet.name(), u, run.label(), (Long) r.get("requests"), (Double) r.get("successRate"),
              (Double) r.get("rateLimitedPer1000"), (Double) r.get("attemptsPerRequest"));
        }
      }
    }
    Map<String, Object> doc = Json.obj();
    Map<String, Object> meta = Json.obj();
    meta.put("smoke", smoke);
    meta.put("instances", instances);
    meta.put("durationSec", duration);
    meta.put("warmupSec", warmup);
    meta.put("utilization", u);
    meta.put("seed", seed);
    meta.put("coreQuotaRouting", QuotaContender.CORE_QUOTA_ROUTING);
    meta.put("rateLimitFactor", SimFleet.RATE_FACTOR);
    meta.put("burstSec", SimFleet.BURST_SEC);
    meta.put("fleets", fleets);
    meta.put("elapsedSec", Stats.round((System.nanoTime() - started) / 1e9, 1));
    doc.put("meta", meta);
    doc.put("runs", runs);
    Files.createDirectories(out);
    Path file = out.resolve("quota-simulation.json");
    Json.write(file, doc);
    System.out.printf(Locale.ROOT, "wrote %s in %.0f s%n", file, (System.nanoTime() - started) / 1e9);
  }
}
