package io.github.llmpool.bench.quality;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * A named preset of the loopback experiment: providers in tiers with their behaviour timelines, the
 * offered load, the request mix, and which providers are "bad" when (for the share-while-bad and
 * recovery figures). All times are world seconds (see {@link World}); the arrival rate is in
 * loopback requests per second (what the machine can generate), the same for every strategy.
 *
 * @param healthyBaseline also run a pool of the healthy providers only (llmpool's default strategy)
 */
record Scenario(
    String name,
    String title,
    String description,
    List<List<Spec>> tiers,
    double durationSec,
    double ratePerSec,
    double streamShare,
    int minTokens,
    int maxTokens,
    Set<String> bad,
    double badFromSec,
    double badToSec,
    boolean healthyBaseline,
    int clients,
    boolean forgetting) {

  /** An open-loop scenario (Poisson arrivals at {@code ratePerSec}). */
  Scenario(String name, String title, String description, List<List<Spec>> tiers, double durationSec,
      double ratePerSec, double streamShare, int minTokens, int maxTokens, Set<String> bad, double badFromSec,
      double badToSec, boolean healthyBaseline) {
    this(name, title, description, tiers, durationSec, ratePerSec, streamShare, minTokens, maxTokens, bad, badFromSec,
        badToSec, healthyBaseline, 0, false);
  }

  /** Closed loop: {@link #clients} callers, each sending its next request when the last one ended. */
  boolean closedLoop() {
    return clients > 0;
  }

  /** One provider: name, weight, behaviour outside its phases, and its phases. */
  record Spec(String name, int weight, Behavior base, List<Behavior.Phase> phases) {}

  /** Default world-time behaviour: 300 ms to the first token, then 10 ms per token (100 tokens/s). */
  static final Behavior HEALTHY = Behavior.healthy(300, 10);
  /** Requests per loopback second offered to each pool. */
  static final double RATE = 100;

  boolean recovers() {
    return badToSec < durationSec;
  }

  List<Spec> providers() {
    List<Spec> all = new ArrayList<>();
    tiers.forEach(all::addAll);
    return all;
  }

  /** The same scenario without its bad providers (the "healthy providers only" pool). */
  Scenario healthyOnly() {
    List<List<Spec>> t = new ArrayList<>();
    for (List<Spec> tier : tiers) {
      List<Spec> keep = tier.stream().filter(s -> !bad.contains(s.name())).toList();
      if (!keep.isEmpty()) {
        t.add(keep);
      }
    }
    return new Scenario(name, title, description, t, durationSec, ratePerSec, streamShare, minTokens, maxTokens,
        Set.of(), 0, 0, false, clients, forgetting);
  }

  static List<Scenario> all() {
    return List.of(slow(), slowSpell(), rateLimited(), rateLimitedAll(), dead(), lengths(), quota(), tierOutage(),
        flaky(), identical(), identicalFast(), spell12s(), spell10x());
  }

  static Scenario byName(String name) {
    return all().stream().filter(s -> s.name.equals(name)).findFirst()
        .orElseThrow(() -> new IllegalArgumentException("unknown scenario '" + name + "'; known: "
            + all().stream().map(Scenario::name).toList()));
  }

  // ------------------------------------------------------------------ presets

  /** Linkerd's "Beyond Round Robin" set-up: 11 providers, one of them 10x slower all along. */
  static Scenario slow() {
    List<Spec> tier = healthy("p", 10);
    tier.add(new Spec("p11", 1, HEALTHY.slower(10), List.of()));
    return new Scenario("slow", "One provider 10x slower",
        "11 providers (Linkerd's set-up); p11 has 10x the time to first token and per-token time, all run long.",
        List.of(tier), 300, RATE, 0.5, 30, 120, Set.of("p11"), 0, 300, true);
  }

  /** A provider turns 10x slower for 80 s, then recovers. */
  static Scenario slowSpell() {
    List<Spec> tier = healthy("p", 5);
    tier.add(new Spec("p6", 1, HEALTHY, List.of(new Behavior.Phase(60, 140, HEALTHY.slower(10)))));
    return new Scenario("slow-spell", "A provider turns 10x slower, then recovers",
        "6 providers; p6 is 10x slower from 60 s to 140 s, healthy before and after.",
        List.of(tier), 200, RATE, 0.5, 30, 120, Set.of("p6"), 60, 140, false, 0, true);
  }

  // ------------------------------------------------------------------ forgetting (issue 17 item 6)

  /** Callers of the closed-loop scenarios. */
  static final int CLIENTS = 4;

  /** Three identical providers, streams, a closed loop of four callers, nothing goes wrong. */
  static Scenario identical() {
    return new Scenario("identical", "Three identical providers, closed loop",
        "3 identical providers (300 ms to first token, 10 ms/token); streams only; " + CLIENTS
            + " callers in a closed loop (each sends its next request when its last one ended); no fault.",
        List.of(healthy("p", 3)), 300, 0, 1.0, 30, 120, Set.of(), 0, 0, false, CLIENTS, true);
  }

  /**
   * The demo's case: three identical fast providers (10 ms to first token, well below the 100 ms
   * initial estimate), one call at a time.
   */
  static Scenario identicalFast() {
    Behavior fast = Behavior.healthy(10, 1);
    List<Spec> tier = new ArrayList<>();
    for (int i = 1; i <= 3; i++) {
      tier.add(new Spec("p" + i, 1, fast, List.of()));
    }
    return new Scenario("identical-fast", "Three identical fast providers, one call at a time",
        "3 identical providers answering 10x faster than the 100 ms initial estimate (10 ms to first token,"
            + " 1 ms/token); streams only; one caller in a closed loop; no fault.",
        List.of(tier), 300, 0, 1.0, 30, 120, Set.of(), 0, 0, false, 1, true);
  }

  /** The case: one of three providers is 27x slower for 12 s (1.2 tau), then recovers. */
  static Scenario spell12s() {
    List<Spec> tier = healthy("p", 2);
    tier.add(new Spec("p3", 1, HEALTHY, List.of(new Behavior.Phase(60, 72, HEALTHY.slower(27)))));
    return new Scenario("spell-12s", "A provider 27x slower for 12 s, closed loop",
        "3 providers, streams only, " + CLIENTS + " callers in a closed loop; p3 is 27x slower from 60 s to 72 s.",
        List.of(tier), 150, 0, 1.0, 30, 120, Set.of("p3"), 60, 72, false, CLIENTS, true);
  }

  /** One of three providers is 10x slower for 80 s, then recovers. */
  static Scenario spell10x() {
    List<Spec> tier = healthy("p", 2);
    tier.add(new Spec("p3", 1, HEALTHY, List.of(new Behavior.Phase(60, 140, HEALTHY.slower(10)))));
    return new Scenario("spell-10x", "A provider 10x slower for 80 s, closed loop",
        "3 providers, streams only, " + CLIENTS + " callers in a closed loop; p3 is 10x slower from 60 s to 140 s.",
        List.of(tier), 200, 0, 1.0, 30, 120, Set.of("p3"), 60, 140, false, CLIENTS, true);
  }

  static Scenario rateLimited() {
    List<Spec> tier = healthy("p", 5);
    tier.add(new Spec("p6", 1, HEALTHY.rateLimited(0.5, 10), List.of()));
    return new Scenario("rate-limited", "One provider 429 on half its requests",
        "6 providers; p6 answers 429 with Retry-After: 10 (s) to half its requests, all run long.",
        List.of(tier), 300, RATE, 0.5, 30, 120, Set.of("p6"), 0, 300, false);
  }

  static Scenario rateLimitedAll() {
    List<Spec> tier = healthy("p", 5);
    tier.add(new Spec("p6", 1, HEALTHY.rateLimited(1.0, 10), List.of()));
    return new Scenario("rate-limited-all", "One provider 429 on every request",
        "6 providers; p6 answers every request with 429 and Retry-After: 10 (s), all run long.",
        List.of(tier), 300, RATE, 0.5, 30, 120, Set.of("p6"), 0, 300, false);
  }

  static Scenario dead() {
    List<Spec> tier = healthy("p", 5);
    tier.add(new Spec("p6", 1, HEALTHY, List.of(new Behavior.Phase(60, 90, HEALTHY.refusing()))));
    return new Scenario("dead", "One provider dead for 30 s",
        "6 providers; p6 leaves its port (connection refused, open connections closed) from 60 s to 90 s.",
        List.of(tier), 180, RATE, 0.5, 30, 120, Set.of("p6"), 60, 90, false);
  }

  /**
   * Answer lengths spread 100x (10 to 1000 tokens, log-uniform): a whole answer takes 0.4 s to 10 s,
   * so on whole-request latency a provider that is slow to start (p6: 10x the time to first token,
   * the same decode speed) hides behind the length noise; on time to first token it stands out.
   */
  static Scenario lengths() {
    List<Spec> tier = healthy("p", 5);
    tier.add(new Spec("p6", 1, Behavior.healthy(3000, 10), List.of()));
    return new Scenario("lengths", "Answer lengths varying 100x",
        "6 providers, 300 ms to first token and 10 ms/token, except p6: 3000 ms to first token (same decode"
            + " speed); answers of 10..1000 tokens (log-uniform, mean 215).",
        List.of(tier), 300, RATE, 0.5, 10, 1000, Set.of("p6"), 0, 300, false);
  }

  static Scenario quota() {
    List<Spec> tier = healthy("p", 5);
    tier.add(new Spec("p6", 1, HEALTHY, List.of(new Behavior.Phase(40, 1e9, HEALTHY.quotaExhausted()))));
    return new Scenario("quota", "A provider's quota runs out for good",
        "6 providers; from 40 s on p6 answers every request with 429 insufficient_quota.",
        List.of(tier), 200, RATE, 0.5, 30, 120, Set.of("p6"), 40, 1e9, false);
  }

  static Scenario tierOutage() {
    Behavior down = HEALTHY.failing(1.0, 0, 0);
    List<Spec> t0 = new ArrayList<>();
    List<Spec> t1 = new ArrayList<>();
    for (int i = 1; i <= 3; i++) {
      t0.add(new Spec("a" + i, 1, HEALTHY, List.of(new Behavior.Phase(60, 90, down))));
      t1.add(new Spec("b" + i, 1, HEALTHY, List.of()));
    }
    return new Scenario("tier-outage", "Tier-0 outage spills to tier 1",
        "Tier 0: a1-a3; tier 1: b1-b3. Every tier-0 provider answers 503 from 60 s to 90 s.",
        List.of(t0, t1), 180, RATE, 0.5, 30, 120, Set.of("a1", "a2", "a3"), 60, 90, false);
  }

  static Scenario flaky() {
    List<Spec> tier = healthy("p", 5);
    tier.add(new Spec("p6", 1, HEALTHY.failing(0.2, 0.05, 0.05), List.of()));
    return new Scenario("flaky", "One flaky provider: 503s, resets, cut streams",
        "6 providers; p6 answers 503 to 20% of requests, resets the connection before answering 5%,"
            + " and cuts 5% of its streams halfway.",
        List.of(tier), 200, RATE, 0.5, 30, 120, Set.of("p6"), 0, 200, false);
  }

  private static List<Spec> healthy(String prefix, int n) {
    List<Spec> tier = new ArrayList<>();
    for (int i = 1; i <= n; i++) {
      tier.add(new Spec(prefix + i, 1, HEALTHY, List.of()));
    }
    return tier;
  }
}
