package io.github.llmpool.bench.quality;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * A preset of the quota experiment (issue 17): providers that enforce requests and tokens per
 * minute, in tiers, an offered load as a share of their capacity, and how many application
 * instances (each its own pool and client) share them. Times are world time (see
 * {@link ScaledTicker}); a world minute lasts {@code 60 / scale} loopback seconds.
 *
 * <p>A provider's capacity is what it can serve per minute in the long run:
 * {@code min(rpm, tpm / mean real tokens per request)} (the token limit settles to real usage, so
 * its long-run throughput is set by real usage, not by the admission estimate). {@code load} is the
 * offered rate over the total capacity of every tier, or of the first tier only when
 * {@code loadOfFirstTier} (the fallback scenario: the excess is what the fallback tier is for).
 *
 * @param durationMin world minutes of offered load
 */
record QuotaScenario(String name, String title, String description, List<List<Spec>> tiers, double load,
    boolean loadOfFirstTier, int instances, double durationMin) {

  /** One provider: its limits (tpm 0: none), how they refill, how it states them, its pool weight. */
  record Spec(String name, int weight, long rpm, long tpm, QuotaLimit.Kind kind, Dialect dialect) {}

  /** One logical request of the workload (world nanos from the start). */
  record Req(long at, int instance, boolean stream, int promptChars, int maxTokens, int answer) {}

  /** Requests per minute of each provider in the presets. */
  static final long RPM = 100;
  /** Time to first token and per-token time of every provider (world ms). */
  static final double TTFT_MS = 300;
  static final double PER_TOKEN_MS = 10;

  List<Spec> providers() {
    List<Spec> all = new ArrayList<>();
    tiers.forEach(all::addAll);
    return all;
  }

  /** Requests per world minute {@code s} can serve in the long run. */
  static double capacity(Spec s) {
    return s.tpm() <= 0 ? s.rpm() : Math.min(s.rpm(), s.tpm() / Mix.INSTANCE.meanRealTokens);
  }

  double capacityOf(List<Spec> specs) {
    return specs.stream().mapToDouble(QuotaScenario::capacity).sum();
  }

  /** Offered requests per world minute. */
  double offeredPerMinute() {
    return load * (loadOfFirstTier ? capacityOf(tiers.get(0)) : capacityOf(providers()));
  }

  /**
   * The name the workload's seed derives from: the scenario's own, except that scenarios which
   * differ only in the pools' settings and are compared with each other share one workload (the
   * two weight settings over limits 1:2:4: "equal weights within 2x of matched" is read on the same
   * arrivals, not on two draws whose request counts differ by more than the difference to judge).
   */
  String workloadKey() {
    return name.startsWith("unequal-") ? "unequal" : name;
  }

  /** The seeded open-loop workload: Poisson arrivals at the offered rate, each to a random instance. */
  List<Req> workload(long seed) {
    Random r = new Random(seed);
    List<Req> out = new ArrayList<>();
    double meanGapNanos = 60e9 / offeredPerMinute();
    double end = durationMin * 60e9;
    for (double t = 0; ; ) {
      t += -Math.log(1 - r.nextDouble()) * meanGapNanos;
      if (t >= end) {
        return out;
      }
      out.add(Mix.draw(r, (long) t, instances == 1 ? 0 : r.nextInt(instances)));
    }
  }

  /**
   * The request mix: half streamed; prompts of 400..4,000 characters and {@code max_tokens} of
   * 50..400 (both log-uniform); the real answer 30..100% of {@code max_tokens} (uniform).
   */
  static final class Mix {
    static final Mix INSTANCE = new Mix();
    /** Overhead of the request body around the prompt, characters (model, max_tokens, stream, JSON). */
    static final int BODY_OVERHEAD = 110;
    final double meanRealTokens;
    final double meanAdmissionTokens;

    private Mix() {
      Random r = new Random(1);
      double real = 0;
      double adm = 0;
      int n = 200_000;
      for (int i = 0; i < n; i++) {
        Req q = draw(r, 0, 0);
        real += (q.promptChars() + 3) / 4 + q.answer();
        adm += (q.promptChars() + BODY_OVERHEAD + 3) / 4 + q.maxTokens();
      }
      meanRealTokens = real / n;
      meanAdmissionTokens = adm / n;
    }

    static Req draw(Random r, long at, int instance) {
      boolean stream = r.nextDouble() < 0.5;
      int promptChars = (int) Math.round(Math.exp(Math.log(400) + Math.log(10) * r.nextDouble()));
      int maxTokens = (int) Math.round(Math.exp(Math.log(50) + Math.log(8) * r.nextDouble()));
      int answer = Math.max(1, (int) Math.round(maxTokens * (0.3 + 0.7 * r.nextDouble())));
      return new Req(at, instance, stream, promptChars, maxTokens, answer);
    }
  }

  // ------------------------------------------------------------------ presets

  /** Tokens per minute that never bind before the request limit does (1.25x the admission cost at the RPM). */
  static long roomyTpm(long rpm) {
    return Math.round(rpm * Mix.INSTANCE.meanAdmissionTokens * 1.25);
  }

  static List<Spec> three(String prefix, long[] rpm, int[] weights, QuotaLimit.Kind kind, Dialect dialect) {
    List<Spec> t = new ArrayList<>();
    for (int i = 0; i < rpm.length; i++) {
      t.add(new Spec(prefix + (i + 1), weights[i], rpm[i], roomyTpm(rpm[i]), kind, dialect));
    }
    return t;
  }

  private static List<Spec> equal(QuotaLimit.Kind kind, Dialect dialect) {
    return three("p", new long[] {RPM, RPM, RPM}, new int[] {1, 1, 1}, kind, dialect);
  }

  static List<QuotaScenario> all() {
    List<QuotaScenario> out = new ArrayList<>();
    for (int pct : new int[] {50, 80, 100, 120}) {
      out.add(new QuotaScenario("load-" + pct, "One instance, " + pct + "% of capacity (token buckets, OpenAI headers)",
          "3 providers of " + RPM + " RPM each (token buckets; TPM roomy), OpenAI headers, one pool.",
          List.of(equal(QuotaLimit.Kind.BUCKET, Dialect.OPENAI)), pct / 100.0, false, 1, 4));
    }
    for (Dialect d : new Dialect[] {Dialect.AZURE, Dialect.ANTHROPIC, Dialect.NONE}) {
      out.add(new QuotaScenario(d.label + "-80", "One instance, 80%, " + d.label + " headers",
          "As load-80 with the " + d.label + " dialect of rate-limit headers.",
          List.of(equal(QuotaLimit.Kind.BUCKET, d)), 0.8, false, 1, 4));
    }
    for (int pct : new int[] {80, 120}) {
      out.add(new QuotaScenario("window-" + pct, "One instance, " + pct + "% of capacity, fixed windows",
          "3 providers of " + RPM + " RPM each as fixed one-minute windows aligned on the minute (TPM roomy), OpenAI headers.",
          List.of(equal(QuotaLimit.Kind.WINDOW, Dialect.OPENAI)), pct / 100.0, false, 1, 4));
    }
    long tpm = Math.round(RPM / 2.0 * Mix.INSTANCE.meanRealTokens);
    List<Spec> tokenBound = new ArrayList<>();
    for (int i = 1; i <= 3; i++) {
      tokenBound.add(new Spec("p" + i, 1, RPM, tpm, QuotaLimit.Kind.BUCKET, Dialect.OPENAI));
    }
    out.add(new QuotaScenario("tokens-100", "One instance, 100%, the token limit binds",
        "3 providers of " + RPM + " RPM and " + tpm + " TPM each (half the requests the RPM allows, at the mean real"
            + " usage), token buckets, OpenAI headers.",
        List.of(tokenBound), 1.0, false, 1, 4));
    long[] unequal = {RPM * 3 / 7, RPM * 6 / 7, RPM * 12 / 7};
    out.add(new QuotaScenario("unequal-equal", "Limits 1:2:4, equal weights, 100%",
        "3 providers of " + unequal[0] + "/" + unequal[1] + "/" + unequal[2] + " RPM (token buckets), weights 1/1/1.",
        List.of(three("p", unequal, new int[] {1, 1, 1}, QuotaLimit.Kind.BUCKET, Dialect.OPENAI)), 1.0, false, 1, 4));
    out.add(new QuotaScenario("unequal-matched", "Limits 1:2:4, weights 1:2:4, 100%",
        "As unequal-equal with weights 1/2/4.",
        List.of(three("p", unequal, new int[] {1, 2, 4}, QuotaLimit.Kind.BUCKET, Dialect.OPENAI)), 1.0, false, 1, 4));
    out.add(new QuotaScenario("fallback", "Fallback tier at 110% of tier 0",
        "Tier 0: 3 providers of " + RPM + " RPM (token buckets); tier 1: one provider of " + (3 * RPM)
            + " RPM; offered load 110% of tier 0's capacity (the shortfall, 9.1%, is what tier 1 is for).",
        List.of(equal(QuotaLimit.Kind.BUCKET, Dialect.OPENAI),
            three("f", new long[] {3 * RPM}, new int[] {1}, QuotaLimit.Kind.BUCKET, Dialect.OPENAI)),
        1.1, true, 1, 4));
    out.add(new QuotaScenario("instances-8", "8 instances sharing the providers, 120%",
        "8 pools (separate clients) share 3 providers of " + RPM + " RPM (token buckets, OpenAI headers);"
            + " 120% of their capacity in total, each request to a random instance.",
        List.of(equal(QuotaLimit.Kind.BUCKET, Dialect.OPENAI)), 1.2, false, 8, 4));
    return out;
  }

  /** The smoke set: two short scenarios. */
  static List<QuotaScenario> smoke() {
    List<QuotaScenario> out = new ArrayList<>();
    for (QuotaScenario s : all()) {
      if (s.name.equals("load-120") || s.name.equals("window-120")) {
        out.add(new QuotaScenario(s.name, s.title, s.description, s.tiers, s.load, s.loadOfFirstTier, s.instances, 2));
      }
    }
    return out;
  }

  static QuotaScenario byName(String name) {
    return all().stream().filter(s -> s.name.equals(name)).findFirst()
        .orElseThrow(() -> new IllegalArgumentException("unknown quota scenario '" + name + "'; known: "
            + all().stream().map(QuotaScenario::name).toList()));
  }
}
