package io.github.llmpool.bench.quality;

import java.io.BufferedReader;
import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The multi-instance experiment (issue 18): {@code instances} application instances, each its own
 * JVM process ({@link FleetInstance}: its own pool, OkHttp client and Redis connections), share
 * fake providers that enforce RPM/TPM and send OpenAI's rate-limit headers ({@link QuotaFake}, in
 * this process) plus a fallback tier ({@link FleetScenario}), at each offered load, once per
 * contender ({@link FleetContender}), one run after another (one set of instance processes per
 * contender, warmed up once; a new pool and new providers per run). One Redis server ({@code RedisServerProcess}, llmpool-redis's test helper)
 * for the whole experiment, a key prefix per run. World time runs {@code scale} times faster than
 * the machine's ({@link ScaledTicker}); every process derives it from the same origin, a
 * {@link System#nanoTime()} value (Linux's monotonic clock is one for every process).
 *
 * <p>Per run: what the fleet sent to each limited provider per world minute against its limit
 * and what the provider admitted (the fake's own counters), the providers' 429s per 1,000
 * requests, attempts per request, the share served by the fallback, and the time the pool's
 * interceptor adds per call (see {@link FleetInstance}). Writes {@code fleet-experiment.json} and
 * the instances' raw lines under {@code raw/}.
 *
 * <pre>
 *   java -cp target/benchmarks.jar io.github.llmpool.bench.quality.FleetExperiment \
 *       [--smoke] [--loads 0.9,1.5] [--contender LABEL[,LABEL...]] [--instances N] [--duration MIN] \
 *       [--scale N] [--seed N] [--out DIR]
 * </pre>
 */
public final class FleetExperiment {
  private static final java.util.logging.Logger MOCK_LOG = java.util.logging.Logger.getLogger("mockwebserver3.MockWebServer");

  private FleetExperiment() {}

  public static void main(String[] args) throws Exception {
    System.setProperty("org.slf4j.simpleLogger.defaultLogLevel", "error");
    MOCK_LOG.setLevel(java.util.logging.Level.SEVERE);
    boolean smoke = false;
    long scale = 10;
    long seed = 18;
    int instances = 8;
    double duration = -1;
    Path out = Path.of("fleet-results");
    List<Double> loads = List.of(0.9, 1.5);
    List<FleetContender> contenders = List.of(FleetContender.values());
    for (int i = 0; i < args.length; i++) {
      switch (args[i]) {
        case "--smoke" -> smoke = true;
        case "--scale" -> scale = Long.parseLong(args[++i]);
        case "--seed" -> seed = Long.parseLong(args[++i]);
        case "--instances" -> instances = Integer.parseInt(args[++i]);
        case "--duration" -> duration = Double.parseDouble(args[++i]);
        case "--out" -> out = Path.of(args[++i]);
        case "--loads" -> loads = Arrays.stream(args[++i].split(",")).map(s -> Double.parseDouble(s.trim())).toList();
        case "--contender" -> contenders = Arrays.stream(args[++i].split(",")).map(s -> FleetContender.byLabel(s.trim()))
            .toList();
        default -> throw new IllegalArgumentException("unknown argument " + args[i] + "; usage: [--smoke] [--loads 0.9,1.5]"
            + " [--contender LABEL[,...]] [--instances N] [--duration MIN] [--scale N] [--seed N] [--out DIR]");
      }
    }
    if (duration < 0) {
      duration = smoke ? 3 : 6;
    }
    long started = System.nanoTime();
    String loadStart = loadAverage();
    Files.createDirectories(out.resolve("raw"));
    System.out.printf(Locale.ROOT, "fleet experiment: %d instances (JVM processes), loads %s, contenders %s, %.1f world"
        + " minutes each, scale %d (a world minute = %.1f s)%n", instances, loads,
        contenders.stream().map(c -> c.label).toList(), duration, scale, 60.0 / scale);
    List<Object> runs = new ArrayList<>();
    String redisBinary;
    try (io.github.llmpool.redis.RedisServerProcess redis = io.github.llmpool.redis.RedisServerProcess.start()) {
      redisBinary = io.github.llmpool.redis.RedisServerProcess.binaryDescription();
      int[] n = {0};
      for (FleetContender c : contenders) {
        runs.addAll(runContender(c, loads, instances, duration, redis.uri(), scale, seed, out, n));
      }
    }

    Map<String, Object> doc = Json.obj();
    Map<String, Object> meta = Json.obj();
    meta.put("smoke", smoke);
    meta.put("instances", instances);
    meta.put("processes", "one JVM per instance");
    meta.put("scale", scale);
    meta.put("worldMinuteLoopbackSec", 60.0 / scale);
    meta.put("durationMin", duration);
    meta.put("seed", seed);
    meta.put("rpm", FleetScenario.RPM);
    meta.put("fallbackRpm", FleetScenario.FALLBACK_RPM);
    meta.put("tpm", QuotaScenario.roomyTpm(FleetScenario.RPM));
    meta.put("configuredLimitsShared", FleetContender.CONFIGURED_LIMITS_SHARED);
    meta.put("redis", redisBinary.contains("llmpool-redis-server") ? "embedded-redis 6.2.6 (linux-amd64)" : redisBinary);
    meta.put("publishIntervalMs", io.github.llmpool.redis.RedisSharedState.DEFAULT_PUBLISH_INTERVAL.toNanos() / 1e6 / scale);
    meta.put("resyncIntervalMs", io.github.llmpool.redis.RedisSharedState.DEFAULT_RESYNC_INTERVAL.toNanos() / 1e6 / scale);
    meta.put("meanAdmissionTokens", Stats.round(QuotaScenario.Mix.INSTANCE.meanAdmissionTokens, 1));
    meta.put("meanRealTokens", Stats.round(QuotaScenario.Mix.INSTANCE.meanRealTokens, 1));
    meta.put("cpus", Runtime.getRuntime().availableProcessors());
    meta.put("java", System.getProperty("java.version"));
    meta.put("loadAverage", loadStart);
    meta.put("loadAverageEnd", loadAverage());
    meta.put("elapsedSec", Stats.round((System.nanoTime() - started) / 1e9, 1));
    doc.put("meta", meta);
    doc.put("runs", runs);
    Path file = out.resolve("fleet-experiment.json");
    Json.write(file, doc);
    System.out.printf(Locale.ROOT, "wrote %s in %.0f s%n", file, (System.nanoTime() - started) / 1e9);
  }

  /**
   * Runs {@code c} at every load with one set of instance processes (started, warmed up once, then
   * one run per load: a new pool each, under its own pool name, over new providers).
   */
  private static List<Map<String, Object>> runContender(FleetContender c, List<Double> loads, int instances,
      double duration, String redisUri, long scale, long seed, Path out, int[] runNo) throws Exception {
    List<Map<String, Object>> results = new ArrayList<>();
    List<Process> procs = new ArrayList<>();
    List<java.util.concurrent.BlockingQueue<String>> said = new ArrayList<>();
    Path logs = out.resolve("raw").resolve(c.label);
    Files.createDirectories(logs);
    try {
      String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
      long startAt = System.nanoTime();
      for (int i = 0; i < instances; i++) {
        List<String> cmd = new ArrayList<>(List.of(java, "-Xms64m", "-Xmx256m", "-XX:+UseSerialGC",
            "-Dorg.slf4j.simpleLogger.defaultLogLevel=error", "-cp", System.getProperty("java.class.path"),
            FleetInstance.class.getName(), "--instance", Integer.toString(i), "--instances", Integer.toString(instances),
            "--contender", c.label, "--duration", Double.toString(duration), "--seed", Long.toString(seed), "--scale",
            Long.toString(scale), "--prefix", "fleet:", "--redis", redisUri));
        Process p = new ProcessBuilder(cmd).redirectError(logs.resolve("instance-" + i + ".log").toFile()).start();
        procs.add(p);
        java.util.concurrent.BlockingQueue<String> q = new java.util.concurrent.LinkedBlockingQueue<>();
        said.add(q);
        Thread t = new Thread(() -> {
          try (BufferedReader r = new BufferedReader(new java.io.InputStreamReader(p.getInputStream(),
              StandardCharsets.UTF_8))) {
            String l;
            while ((l = r.readLine()) != null) {
              q.add(l);
            }
          } catch (IOException e) {
            // the process ended
          }
          q.add("ENDED");
        }, "fleet-instance-" + i);
        t.setDaemon(true);
        t.start();
      }
      double startSec = -1;
      for (double load : loads) {
        QuotaScenario sc = FleetScenario.of(load, duration, instances);
        int n = ++runNo[0];
        String name = sc.name() + "-" + c.label;
        Path raw = out.resolve("raw").resolve(name);
        Files.createDirectories(raw);
        // The world starts once every instance is ready (started and warmed up, or done with the last run).
        awaitAll(said, "READY", 240, c, logs);
        if (startSec < 0) {
          startSec = (System.nanoTime() - startAt) / 1e9;
        }
        System.gc();
        String loadBefore = loadAverage();
        long origin = System.nanoTime() + 1_000_000_000L;
        ScaledTicker ticker = new ScaledTicker(origin, scale);
        Map<String, QuotaFake> fakes = new LinkedHashMap<>();
        try {
          StringBuilder providers = new StringBuilder();
          for (QuotaScenario.Spec s : sc.providers()) {
            QuotaFake f = new QuotaFake(s.name(), ticker, new QuotaLimit(s.kind(), s.rpm()),
                s.tpm() > 0 ? new QuotaLimit(s.kind(), s.tpm()) : null, s.dialect(), QuotaScenario.TTFT_MS,
                QuotaScenario.PER_TOKEN_MS);
            fakes.put(s.name(), f);
            providers.append(providers.length() == 0 ? "" : ",").append(s.name()).append('=').append(f.baseUrl());
          }
          for (int i = 0; i < procs.size(); i++) {
            String go = "GO " + origin + " " + load + " fleet-" + n + " " + providers + " "
                + raw.resolve("instance-" + i + ".tsv") + "\n";
            procs.get(i).getOutputStream().write(go.getBytes(StandardCharsets.UTF_8));
            procs.get(i).getOutputStream().flush();
          }
          awaitAll(said, "DONE", (long) (duration * 60 / scale) + 150, c, logs);
          Map<String, Object> s = summarize(sc, c, fakes, raw, seed);
          s.put("startAndWarmUpSec", Stats.round(startSec, 1));
          s.put("loadAverageBefore", loadBefore);
          s.put("loadAverageAfter", loadAverage());
          print(s);
          results.add(s);
        } finally {
          fakes.values().forEach(QuotaFake::close);
        }
      }
      awaitAll(said, "READY", 60, c, logs);
      for (int i = 0; i < procs.size(); i++) {
        procs.get(i).getOutputStream().write("EXIT\n".getBytes(StandardCharsets.UTF_8));
        procs.get(i).getOutputStream().flush();
      }
      for (int i = 0; i < procs.size(); i++) {
        if (!procs.get(i).waitFor(30, TimeUnit.SECONDS) || procs.get(i).exitValue() != 0) {
          throw new IllegalStateException("instance " + i + " of " + c.label + " did not exit cleanly; see " + logs);
        }
      }
      return results;
    } finally {
      procs.forEach(p -> {
        if (p.isAlive()) {
          p.destroyForcibly();
        }
      });
    }
  }

  private static void awaitAll(List<java.util.concurrent.BlockingQueue<String>> said, String word, long timeoutSec,
      FleetContender c, Path logs) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(timeoutSec);
    for (int i = 0; i < said.size(); i++) {
      String l = said.get(i).poll(Math.max(1, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
      if (!word.equals(l)) {
        throw new IllegalStateException("instance " + i + " of " + c.label + " said " + l + " instead of " + word + ": "
            + Files.readString(logs.resolve("instance-" + i + ".log")));
      }
    }
  }

  /** One request line of an instance. */
  record Line(long at, long end, boolean ok, int attempts, String provider, int status, long poolNanos, String error) {}

  static List<Line> readLines(Path raw, int instances, Map<String, Object> meta) throws IOException {
    List<Line> out = new ArrayList<>();
    double late = 0;
    double warmSec = 0;
    long downEvents = 0;
    long warm = Long.MAX_VALUE;
    boolean down = false;
    for (int i = 0; i < instances; i++) {
      try (BufferedReader r = Files.newBufferedReader(raw.resolve("instance-" + i + ".tsv"), StandardCharsets.UTF_8)) {
        String l;
        while ((l = r.readLine()) != null) {
          if (l.startsWith("# instance=")) {
            for (String kv : l.substring(2).split(" ")) {
              String[] p = kv.split("=", 2);
              switch (p[0]) {
                case "lateStartMs" -> late = Math.max(late, Double.parseDouble(p[1]));
                case "warmupCalls" -> warm = Math.min(warm, Long.parseLong(p[1]));
                case "warmupSec" -> warmSec = Math.max(warmSec, Double.parseDouble(p[1]));
                case "sharedDown" -> down |= Boolean.parseBoolean(p[1]);
                case "sharedDownEvents" -> downEvents += Long.parseLong(p[1]);
                default -> {
                  // not summarised
                }
              }
            }
            continue;
          }
          if (l.startsWith("#") || l.isBlank()) {
            continue;
          }
          String[] f = l.split("\t");
          out.add(new Line(Long.parseLong(f[0]), Long.parseLong(f[1]), f[2].equals("1"), Integer.parseInt(f[3]), f[4],
              Integer.parseInt(f[5]), Long.parseLong(f[6]), f[8]));
        }
      }
    }
    meta.put("maxLateStartMs", Stats.round(late, 1));
    meta.put("minWarmupCalls", warm);
    meta.put("maxWarmupSec", warmSec);
    meta.put("sharedStateDownAtEnd", down);
    meta.put("sharedStateDownEvents", downEvents);
    return out;
  }

  static Map<String, Object> summarize(QuotaScenario sc, FleetContender c, Map<String, QuotaFake> fakes, Path raw,
      long seed) throws IOException {
    Map<String, Object> s = Json.obj();
    s.put("scenario", sc.name());
    s.put("load", sc.load());
    s.put("contender", c.label);
    s.put("instances", sc.instances());
    s.put("offeredPerMinute", Stats.round(sc.offeredPerMinute(), 1));
    Map<String, Object> inst = Json.obj();
    List<Line> lines = readLines(raw, sc.instances(), inst);
    s.put("requests", lines.size());
    s.put("scheduledRequests", sc.workload(seed).size()); // equal unless an instance lost lines
    long ok = lines.stream().filter(Line::ok).count();
    s.put("successRate", Stats.round(ok / (double) Math.max(1, lines.size()), 4));
    s.put("attemptsPerRequest", Stats.round(lines.stream().mapToInt(Line::attempts).average().orElse(Double.NaN), 3));
    long limited = 0;
    long limitedTier0 = 0;
    long received = 0;
    List<String> tier0 = sc.tiers().get(0).stream().map(QuotaScenario.Spec::name).toList();
    for (QuotaFake f : fakes.values()) {
      limited += f.limited.sum();
      received += f.received.sum();
      if (tier0.contains(f.name)) {
        limitedTier0 += f.limited.sum();
      }
    }
    s.put("providerAttempts", received);
    s.put("rateLimited", limited);
    s.put("rateLimitedPer1000", Stats.round(1000.0 * limited / Math.max(1, lines.size()), 2));
    s.put("rateLimitedTier0", limitedTier0);
    long onFallback = lines.stream().filter(l -> l.ok() && !tier0.contains(l.provider())).count();
    s.put("fallbackShare", Stats.round(onFallback / (double) Math.max(1, ok), 4));
    Map<String, Long> errors = new java.util.TreeMap<>();
    lines.stream().filter(l -> !l.ok()).forEach(l -> errors.merge(l.error(), 1L, Long::sum));
    s.put("errors", errors);

    // What the fleet sent to each limited provider, and what it admitted, per world minute.
    int minutes = (int) Math.floor(sc.durationMin() + 1e-9);
    long minute = 60_000_000_000L;
    List<Object> perProvider = new ArrayList<>();
    double sentSteady = 0;
    double admittedSteady = 0;
    double limitSteady = 0;
    double maxSentRatio = 0;
    double maxAdmittedRatio = 0;
    long sentAbove = 0;
    long admittedAbove = 0;
    long sentAll = 0;
    double oneBucket = 0;
    // The steady minutes: the second half of the run. A configured window starts full (a minute's
    // burst, as the core's local bucket does), which at 150% takes N / (1.5 N - N) = 2 minutes to drain.
    int steadyFrom = minutes / 2;
    for (String p : tier0) {
      QuotaFake f = fakes.get(p);
      long[] sent = perMinute(f.receivedAt.toArray(), minutes, minute);
      long[] adm = perMinute(f.admittedAt.toArray(), minutes, minute);
      Map<String, Object> m = Json.obj();
      m.put("provider", p);
      m.put("limitPerMinute", f.requestLimit());
      m.put("sentPerMinute", toList(sent));
      m.put("admittedPerMinute", toList(adm));
      m.put("rateLimited", f.limited.sum());
      m.put("rateLimitedByTokens", f.limitedByTokens.sum());
      perProvider.add(m);
      for (long x : sent) {
        sentAll += x;
      }
      oneBucket += f.requestLimit() * (1.0 + minutes); // one limiter of N per minute, full at the start: N + N x T
      for (int k = steadyFrom; k < minutes; k++) {
        sentSteady += sent[k];
        admittedSteady += adm[k];
        limitSteady += f.requestLimit();
        maxSentRatio = Math.max(maxSentRatio, sent[k] / (double) f.requestLimit());
        maxAdmittedRatio = Math.max(maxAdmittedRatio, adm[k] / (double) f.requestLimit());
        sentAbove += Math.max(0, sent[k] - f.requestLimit());
        admittedAbove += Math.max(0, adm[k] - f.requestLimit());
      }
    }
    s.put("tier0", perProvider);
    s.put("steadyFromMinute", steadyFrom);
    s.put("steadyMinutes", Math.max(0, minutes - steadyFrom));
    // The whole run against what one limiter of the limit would let through (its burst, then its refill).
    s.put("sentOverOneLimiter", Stats.round(sentAll / Math.max(1, oneBucket), 3));
    s.put("sentOverLimit", Stats.round(sentSteady / Math.max(1, limitSteady), 3));
    s.put("maxMinuteSentOverLimit", Stats.round(maxSentRatio, 3));
    s.put("sentAboveLimit", sentAbove);
    s.put("admittedOverLimit", Stats.round(admittedSteady / Math.max(1, limitSteady), 3));
    s.put("maxMinuteAdmittedOverLimit", Stats.round(maxAdmittedRatio, 3));
    s.put("admittedAboveLimit", admittedAbove);

    // The time the pool's interceptor adds per call, loopback microseconds.
    s.put("addedUs", latency(lines.stream().mapToLong(Line::poolNanos).toArray()));
    s.put("addedUsOneAttempt", latency(lines.stream().filter(l -> l.attempts() == 1).mapToLong(Line::poolNanos).toArray()));
    double[] worldLatency = lines.stream().filter(Line::ok).mapToDouble(l -> (l.end() - l.at()) / 1e9).toArray();
    Map<String, Object> lat = Json.obj();
    lat.put("p50", Stats.round(Stats.percentile(worldLatency, 50), 3));
    lat.put("p99", Stats.round(Stats.percentile(worldLatency, 99), 3));
    s.put("callLatencyWorldSec", lat);
    s.put("instancesMeta", inst);
    return s;
  }

  static long[] perMinute(long[] times, int minutes, long minute) {
    long[] out = new long[minutes];
    for (long t : times) {
      int k = (int) Math.floorDiv(t, minute);
      if (k >= 0 && k < minutes) {
        out[k]++;
      }
    }
    return out;
  }

  private static List<Object> toList(long[] a) {
    List<Object> l = new ArrayList<>();
    for (long v : a) {
      l.add(v);
    }
    return l;
  }

  static Map<String, Object> latency(long[] nanos) {
    double[] us = new double[nanos.length];
    for (int i = 0; i < nanos.length; i++) {
      us[i] = nanos[i] / 1e3;
    }
    Arrays.sort(us);
    Map<String, Object> m = Json.obj();
    m.put("n", us.length);
    m.put("p50", Stats.round(Stats.sorted(us, 50), 2));
    m.put("p90", Stats.round(Stats.sorted(us, 90), 2));
    m.put("p99", Stats.round(Stats.sorted(us, 99), 2));
    m.put("mean", Stats.round(Stats.mean(us), 2));
    return m;
  }

  private static void print(Map<String, Object> s) {
    Map<?, ?> added = (Map<?, ?>) s.get("addedUs");
    System.out.printf(Locale.ROOT, "  %-10s %-17s n=%5d ok=%.4f 429/1000=%7.2f attempts=%.3f sent/limit=%.3f (max minute"
        + " %.3f) admitted/limit=%.3f fallback=%.3f added p50=%.1f us p99=%.1f us%n", s.get("scenario"), s.get("contender"),
        (Integer) s.get("requests"), (Double) s.get("successRate"), (Double) s.get("rateLimitedPer1000"),
        (Double) s.get("attemptsPerRequest"), (Double) s.get("sentOverLimit"), (Double) s.get("maxMinuteSentOverLimit"),
        (Double) s.get("admittedOverLimit"), (Double) s.get("fallbackShare"), (Double) added.get("p50"),
        (Double) added.get("p99"));
  }

  private static String loadAverage() {
    try {
      return Files.readString(Path.of("/proc/loadavg")).trim();
    } catch (Exception e) {
      return "unknown";
    }
  }
}
