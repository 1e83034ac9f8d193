package io.github.llmpool.bench.quality;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The loopback routing-quality experiment (issue 7): fake OpenAI-compatible providers on loopback,
 * one pool per routing configuration, the same open-loop workload for each, per scenario preset
 * (see {@link Scenario}). Writes {@code experiment.json} (every run's summary and time series).
 *
 * <pre>
 *   java -cp target/benchmarks.jar io.github.llmpool.bench.quality.QualityExperiment \
 *       [--quick] [--scenario NAME[,NAME...]] [--out DIR] [--scale N] [--seed N]
 * </pre>
 *
 * <p>Per scenario, every strategy runs at the same time against its own copy of the fake
 * providers, so machine noise hits them alike. The full run takes about four minutes;
 * {@code --quick} runs the same scenarios 8x faster in world time (scale 80 instead of 10), about
 * 40 seconds, as a smoke test.
 */
public final class QualityExperiment {
  private QualityExperiment() {}

  public static void main(String[] args) throws Exception {
    System.setProperty("org.slf4j.simpleLogger.defaultLogLevel", "error");
    boolean quick = false;
    double scale = -1;
    long seed = 7;
    Path out = Path.of("quality-results");
    List<Scenario> scenarios = Scenario.all();
    for (int i = 0; i < args.length; i++) {
      switch (args[i]) {
        case "--quick" -> quick = true;
        case "--scale" -> scale = Double.parseDouble(args[++i]);
        case "--seed" -> seed = Long.parseLong(args[++i]);
        case "--out" -> out = Path.of(args[++i]);
        case "--scenario" -> {
          scenarios = new ArrayList<>();
          for (String s : args[++i].split(",")) {
            scenarios.add(Scenario.byName(s.trim()));
          }
        }
        default -> throw new IllegalArgumentException("unknown argument " + args[i]
            + "; usage: [--quick] [--scenario NAME[,NAME...]] [--out DIR] [--scale N] [--seed N]");
      }
    }
    World world = new World(scale > 0 ? scale : quick ? 80 : 10);
    long started = System.nanoTime();
    String loadStart = loadAverage();
    System.out.printf(Locale.ROOT, "quality experiment: %d scenarios, scale %.0f (1 loopback s = %.0f world s)%n",
        scenarios.size(), world.scale(), world.scale());

    warmUp(world);

    List<Object> runs = new ArrayList<>();
    for (Scenario sc : scenarios) {
      long scSeed = seed * 1_000_003L + sc.name().hashCode();
      runs.addAll(runScenario(sc, world, scSeed, true));
    }

    Map<String, Object> doc = Json.obj();
    Map<String, Object> meta = Json.obj();
    meta.put("quick", quick);
    meta.put("scale", world.scale());
    meta.put("seed", seed);
    meta.put("ratePerPool", Scenario.RATE);
    meta.put("cpus", Runtime.getRuntime().availableProcessors());
    meta.put("java", System.getProperty("java.version"));
    meta.put("loadAverage", loadStart);
    meta.put("loadAverageEnd", loadAverage());
    meta.put("elapsedSec", Stats.round((System.nanoTime() - started) / 1e9, 1));
    meta.put("scenarios", describe(scenarios));
    doc.put("meta", meta);
    doc.put("runs", runs);
    Path file = out.resolve("experiment.json");
    Json.write(file, doc);
    System.out.printf(Locale.ROOT, "wrote %s in %.0f s%n", file, (System.nanoTime() - started) / 1e9);
  }

  /**
   * Runs every contender of one scenario at the same time, each with its own pool, client and fake
   * providers (same behaviour, same seeds, same workload): whatever else the machine does hits
   * them all alike.
   */
  private static List<Map<String, Object>> runScenario(Scenario sc, World world, long seed, boolean print)
      throws Exception {
    List<LoadRun> loadRuns = new ArrayList<>();
    List<Map<String, FakeProvider>> allFakes = new ArrayList<>();
    try {
      for (Contender c : Contender.values()) {
        if (!c.runsIn(sc)) {
          continue;
        }
        Map<String, FakeProvider> fakes = fakes(sc, world);
        allFakes.add(fakes);
        loadRuns.add(new LoadRun(sc, c.label, c, world, fakes, seed));
      }
      if (sc.healthyBaseline()) {
        Scenario healthy = sc.healthyOnly();
        Map<String, FakeProvider> fakes = fakes(healthy, world);
        allFakes.add(fakes);
        loadRuns.add(new LoadRun(healthy, "healthy-only", Contender.LLMPOOL, world, fakes, seed));
      }
      // Let the previous scenario's garbage and closing servers settle before the clock starts.
      System.gc();
      Thread.sleep(500);
      long t0 = System.nanoTime() + 200_000_000L;
      List<Thread> threads = new ArrayList<>();
      List<Throwable> failures = new java.util.concurrent.CopyOnWriteArrayList<>();
      for (LoadRun run : loadRuns) {
        Thread t = new Thread(() -> {
          try {
            run.run(t0);
          } catch (Throwable e) {
            failures.add(e);
          }
        }, "quality-run-" + run.label);
        t.start();
        threads.add(t);
      }
      for (Thread t : threads) {
        t.join();
      }
      if (!failures.isEmpty()) {
        Exception e = new IllegalStateException("scenario " + sc.name() + " failed", failures.get(0));
        failures.stream().skip(1).forEach(e::addSuppressed);
        throw e;
      }
    } finally {
      allFakes.forEach(m -> m.values().forEach(FakeProvider::close));
    }
    List<Map<String, Object>> out = new ArrayList<>();
    for (LoadRun run : loadRuns) {
      Map<String, Object> s = RunSummary.of(run);
      out.add(s);
      if (print) {
        print(sc, run.label, s);
      }
    }
    return out;
  }

  @SuppressWarnings("unchecked")
  private static void print(Scenario sc, String label, Map<String, Object> s) {
    Map<String, Object> lat = (Map<String, Object>) s.get("latencyMs");
    Map<String, Object> ttft = (Map<String, Object>) s.get("ttftMs");
    Map<String, Object> att = (Map<String, Object>) s.get("attempts");
    Object bad = s.get("bad") instanceof Map<?, ?> b ? b.get("shareWhileBad") : "-";
    System.out.printf(Locale.ROOT,
        "  %-17s %-13s n=%5d ok=%.4f  p50=%6.1f p99=%6.1f p99.9=%6.1f ms  ttft p50=%5.1f p99=%6.1f  attempts=%.3f  bad share=%s%n",
        sc.name(), label, (Integer) s.get("requests"), (Double) s.get("successRate"), num(lat.get("p50")),
        num(lat.get("p99")), num(lat.get("p999")), num(ttft.get("p50")), num(ttft.get("p99")), num(att.get("mean")),
        bad);
  }

  private static double num(Object o) {
    return o instanceof Number n ? n.doubleValue() : Double.NaN;
  }

  private static Map<String, FakeProvider> fakes(Scenario sc, World world) throws Exception {
    Map<String, FakeProvider> fakes = new LinkedHashMap<>();
    for (Scenario.Spec spec : sc.providers()) {
      fakes.put(spec.name(), new FakeProvider(spec.name(), world, spec.base(), spec.phases()));
    }
    return fakes;
  }

  /** A few seconds of healthy traffic through every strategy so the JIT has compiled the paths. */
  private static void warmUp(World world) throws Exception {
    List<List<Scenario.Spec>> tiers = List.of(new ArrayList<>());
    for (int i = 1; i <= 6; i++) {
      tiers.get(0).add(new Scenario.Spec("w" + i, 1, Scenario.HEALTHY, List.of()));
    }
    Scenario warm = new Scenario("warm-up", "warm-up", "", tiers, world.scale() * 0.8, Scenario.RATE, 0.5, 30, 120,
        java.util.Set.of(), 0, 0, false);
    runScenario(warm, world, 1, false);
  }

  private static List<Object> describe(List<Scenario> scenarios) {
    List<Object> out = new ArrayList<>();
    for (Scenario sc : scenarios) {
      Map<String, Object> m = Json.obj();
      m.put("name", sc.name());
      m.put("title", sc.title());
      m.put("description", sc.description());
      m.put("durationSec", sc.durationSec());
      m.put("ratePerLoopbackSec", sc.ratePerSec());
      m.put("streamShare", sc.streamShare());
      m.put("closedLoopClients", sc.clients());
      m.put("tokens", List.of(sc.minTokens(), sc.maxTokens()));
      m.put("bad", new ArrayList<>(new java.util.TreeSet<>(sc.bad())));
      m.put("badFromSec", sc.badFromSec());
      m.put("badToSec", Math.min(sc.badToSec(), sc.durationSec()));
      List<Object> tiers = new ArrayList<>();
      for (List<Scenario.Spec> tier : sc.tiers()) {
        List<Object> t = new ArrayList<>();
        for (Scenario.Spec s : tier) {
          Map<String, Object> p = Json.obj();
          p.put("name", s.name());
          p.put("weight", s.weight());
          p.put("base", s.base().toString());
          List<Object> phases = new ArrayList<>();
          for (Behavior.Phase ph : s.phases()) {
            phases.add(ph.fromSec() + ".." + Math.min(ph.toSec(), sc.durationSec()) + " s: " + ph.behavior());
          }
          p.put("phases", phases);
          t.add(p);
        }
        tiers.add(t);
      }
      m.put("tiers", tiers);
      out.add(m);
    }
    return out;
  }

  private static String loadAverage() {
    try {
      return java.nio.file.Files.readString(Path.of("/proc/loadavg")).trim();
    } catch (Exception e) {
      return "unknown";
    }
  }
}
