package io.github.llmpool.bench.quality;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * The quota experiment (issue 17): fake providers on loopback that enforce requests and tokens per
 * minute ({@link QuotaFake}), one run per contender ({@link QuotaContender}) of each scenario
 * ({@link QuotaScenario}), all contenders of a scenario at the same time, each over its own copy of
 * the providers and with the same seeded workload. World time runs {@code scale} times faster than
 * the machine's (a world minute lasts 6 loopback seconds at the default scale 10). Writes
 * {@code quota-experiment.json}.
 *
 * <pre>
 *   java -cp target/benchmarks.jar io.github.llmpool.bench.quality.QuotaExperiment \
 *       [--smoke] [--scenario NAME[,NAME...]] [--contender LABEL[,LABEL...]] [--out DIR] [--scale N] [--seed N]
 * </pre>
 */
public final class QuotaExperiment {
  /** MockWebServer's own warnings (a pooled connection closed unused) would drown the output; held strongly. */
  private static final java.util.logging.Logger MOCK_LOG = java.util.logging.Logger.getLogger("mockwebserver3.MockWebServer");

  private QuotaExperiment() {}

  public static void main(String[] args) throws Exception {
    System.setProperty("org.slf4j.simpleLogger.defaultLogLevel", "error");
    MOCK_LOG.setLevel(java.util.logging.Level.SEVERE);
    boolean smoke = false;
    long scale = -1;
    long seed = 17;
    Path out = Path.of("quality-results");
    List<QuotaScenario> scenarios = null;
    List<QuotaContender> contenders = List.of(QuotaContender.values());
    for (int i = 0; i < args.length; i++) {
      switch (args[i]) {
        case "--smoke" -> smoke = true;
        case "--scale" -> scale = Long.parseLong(args[++i]);
        case "--seed" -> seed = Long.parseLong(args[++i]);
        case "--out" -> out = Path.of(args[++i]);
        case "--scenario" -> {
          scenarios = new ArrayList<>();
          for (String s : args[++i].split(",")) {
            scenarios.add(QuotaScenario.byName(s.trim()));
          }
        }
        case "--contender" -> {
          contenders = new ArrayList<>();
          for (String s : args[++i].split(",")) {
            contenders.add(QuotaContender.byLabel(s.trim()));
          }
        }
        default -> throw new IllegalArgumentException("unknown argument " + args[i]
            + "; usage: [--smoke] [--scenario NAME[,NAME...]] [--contender LABEL[,...]] [--out DIR] [--scale N] [--seed N]");
      }
    }
    if (scenarios == null) {
      scenarios = smoke ? QuotaScenario.smoke() : QuotaScenario.all();
    }
    if (scale < 0) {
      scale = smoke ? 20 : 10;
    }
    long started = System.nanoTime();
    String loadStart = loadAverage();
    System.out.printf(Locale.ROOT, "quota experiment: %d scenarios x %d contenders, scale %d (a world minute = %.1f s)"
        + ", core quota routing %s%n", scenarios.size(), contenders.size(), scale, 60.0 / scale,
        QuotaContender.CORE_QUOTA_ROUTING ? "present" : "absent");

    // A short run first, discarded, so the JIT has compiled the paths before anything is measured.
    QuotaScenario w = QuotaScenario.byName("load-80");
    runScenario(new QuotaScenario("warm-up", "warm-up", "", w.tiers(), 0.8, false, 1, 1), contenders, scale, 1, false);

    List<Object> runs = new ArrayList<>();
    for (QuotaScenario sc : scenarios) {
      long scSeed = seed * 1_000_003L + sc.workloadKey().hashCode();
      runs.addAll(runScenario(sc, contenders, scale, scSeed, true));
    }

    Map<String, Object> doc = Json.obj();
    Map<String, Object> meta = Json.obj();
    meta.put("smoke", smoke);
    meta.put("scale", scale);
    meta.put("worldMinuteLoopbackSec", 60.0 / scale);
    meta.put("seed", seed);
    meta.put("coreQuotaRouting", QuotaContender.CORE_QUOTA_ROUTING);
    meta.put("meanAdmissionTokens", Stats.round(QuotaScenario.Mix.INSTANCE.meanAdmissionTokens, 1));
    meta.put("meanRealTokens", Stats.round(QuotaScenario.Mix.INSTANCE.meanRealTokens, 1));
    meta.put("pacerMaxWaitSec", Pacer.MAX_WAIT_NANOS / 1e9);
    meta.put("cpus", Runtime.getRuntime().availableProcessors());
    meta.put("java", System.getProperty("java.version"));
    meta.put("loadAverage", loadStart);
    meta.put("loadAverageEnd", loadAverage());
    meta.put("elapsedSec", Stats.round((System.nanoTime() - started) / 1e9, 1));
    List<Object> desc = new ArrayList<>();
    for (QuotaScenario sc : scenarios) {
      Map<String, Object> d = Json.obj();
      d.put("name", sc.name());
      d.put("title", sc.title());
      d.put("description", sc.description());
      d.put("load", sc.load());
      d.put("instances", sc.instances());
      d.put("durationMin", sc.durationMin());
      d.put("offeredPerMinute", Stats.round(sc.offeredPerMinute(), 1));
      List<Object> tiers = new ArrayList<>();
      for (List<QuotaScenario.Spec> tier : sc.tiers()) {
        List<Object> t = new ArrayList<>();
        for (QuotaScenario.Spec s : tier) {
          t.add(s.name() + ": " + s.rpm() + " RPM, " + s.tpm() + " TPM, " + s.kind().name().toLowerCase(Locale.ROOT)
              + ", " + s.dialect().label + " headers, weight " + s.weight());
        }
        tiers.add(t);
      }
      d.put("tiers", tiers);
      desc.add(d);
    }
    meta.put("scenarios", desc);
    doc.put("meta", meta);
    doc.put("runs", runs);
    Files.createDirectories(out);
    Path file = out.resolve("quota-experiment.json");
    Json.write(file, doc);
    System.out.printf(Locale.ROOT, "wrote %s in %.0f s%n", file, (System.nanoTime() - started) / 1e9);
  }

  private static List<Map<String, Object>> runScenario(QuotaScenario sc, List<QuotaContender> contenders, long scale,
      long seed, boolean print) throws Exception {
    List<QuotaScenario.Req> workload = sc.workload(seed);
    System.gc();
    Thread.sleep(300);
    ScaledTicker ticker = new ScaledTicker(System.nanoTime() + 300_000_000L, scale);
    List<QuotaRun> runs = new ArrayList<>();
    List<Map<String, QuotaFake>> allFakes = new ArrayList<>();
    try {
      for (QuotaContender c : contenders) {
        if (print && !c.runsIn(sc.load())) {
          continue; // the overload contenders run past capacity only (the warm-up runs them all)
        }
        Map<String, QuotaFake> fakes = new LinkedHashMap<>();
        for (QuotaScenario.Spec s : sc.providers()) {
          fakes.put(s.name(), new QuotaFake(s.name(), ticker, new QuotaLimit(s.kind(), s.rpm()),
              s.tpm() > 0 ? new QuotaLimit(s.kind(), s.tpm()) : null, s.dialect(), QuotaScenario.TTFT_MS,
              QuotaScenario.PER_TOKEN_MS));
        }
        allFakes.add(fakes);
        runs.add(new QuotaRun(sc, c, ticker, fakes, workload));
      }
      List<Thread> threads = new ArrayList<>();
      List<Throwable> failures = new CopyOnWriteArrayList<>();
      for (QuotaRun run : runs) {
        Thread t = new Thread(() -> {
          try {
            run.run();
          } catch (Throwable e) {
            failures.add(e);
          }
        }, "quota-run-" + run.contender.label);
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
      allFakes.forEach(m -> m.values().forEach(QuotaFake::close));
    }
    List<Map<String, Object>> out = new ArrayList<>();
    for (QuotaRun run : runs) {
      Map<String, Object> s = QuotaSummary.of(run);
      out.add(s);
      if (!print) {
        continue;
      }
      System.out.printf(Locale.ROOT,
          "  %-16s %-18s n=%5d ok=%.4f 429/1000=%7.2f (after 1st min %7.2f) attempts=%.3f tier out=%s spill=%s fail p50=%s s%n",
          sc.name(), run.contender.label, (Integer) s.get("requests"), (Double) s.get("successRate"),
          (Double) s.get("rateLimitedPer1000"), (Double) s.get("rateLimitedPer1000AfterFirstMinute"),
          (Double) s.get("attemptsPerRequest"), s.getOrDefault("tierOutShare", "-"), s.getOrDefault("spilledShare", "-"),
          ((Map<?, ?>) s.get("failed")).get("p50Sec"));
    }
    return out;
  }

  private static String loadAverage() {
    try {
      return Files.readString(Path.of("/proc/loadavg")).trim();
    } catch (Exception e) {
      return "unknown";
    }
  }
}
