package io.github.llmpool.bench.quality;

import io.github.llmpool.P2cSettings;
import io.github.llmpool.ProviderPool;
import io.github.llmpool.Strategy;

/**
 * A routing configuration compared by the experiment. All of them run with the pool's eviction and
 * failover on (the library's defaults, time-scaled); only selection differs.
 */
enum Contender {
  /** Smooth weighted round robin. */
  ROUND_ROBIN("round-robin", Strategy.ROUND_ROBIN, false),
  /** Weighted random. */
  WEIGHTED("weighted", Strategy.WEIGHTED, false),
  /** Power of two choices on a plain latency peak-EWMA (whole-request latency). */
  P2C_LATENCY("p2c-latency", Strategy.POWER_OF_TWO_CHOICES, false),
  /** llmpool's default: power of two choices on the LLM-aware latency signal. */
  LLMPOOL("llmpool", Strategy.POWER_OF_TWO_CHOICES, true),
  /**
   * llmpool's default strategy with every provider configured as a hosted API that answers
   * requests in parallel: {@code Provider.Builder.concurrency(8)}, so eight requests in flight
   * double a provider's cost instead of multiplying it by nine.
   */
  LLMPOOL_CONCURRENCY_8("llmpool-concurrency-8", Strategy.POWER_OF_TWO_CHOICES, true, 8),
  /**
   * llmpool's default as it was before bounded forgetting (git main before issue 17 item 6):
   * hyperbolic decay {@code tau / (tau + dt)}, no exploration. Side by side with the new default.
   */
  LLMPOOL_MAIN("llmpool-main", Strategy.POWER_OF_TWO_CHOICES, true, 1, true),
  /** {@link #LLMPOOL_MAIN} with {@code concurrency(8)}. */
  LLMPOOL_MAIN_CONCURRENCY_8("llmpool-main-concurrency-8", Strategy.POWER_OF_TWO_CHOICES, true, 8, true),
  /**
   * llmpool's default with {@code P2cSettings.probes(true)}: a provider that still looks slow is
   * re-measured by a one-token probe of the pool's own instead of a caller's request. Only where
   * forgetting is measured.
   */
  LLMPOOL_PROBES("llmpool-probes", Strategy.POWER_OF_TWO_CHOICES, true, 1, false, true);

  final String label;
  final Strategy strategy;
  final boolean llmAware;
  /** {@code Provider.Builder.concurrency} of every provider. */
  final int concurrency;
  /** The decay before bounded forgetting (hyperbolic, no exploration). */
  final boolean legacy;
  /** {@code P2cSettings.probes}. */
  final boolean probes;

  Contender(String label, Strategy strategy, boolean llmAware) {
    this(label, strategy, llmAware, 1);
  }

  Contender(String label, Strategy strategy, boolean llmAware, int concurrency) {
    this(label, strategy, llmAware, concurrency, false);
  }

  Contender(String label, Strategy strategy, boolean llmAware, int concurrency, boolean legacy) {
    this(label, strategy, llmAware, concurrency, legacy, false);
  }

  Contender(String label, Strategy strategy, boolean llmAware, int concurrency, boolean legacy, boolean probes) {
    this.probes = probes;
    this.label = label;
    this.strategy = strategy;
    this.llmAware = llmAware;
    this.concurrency = concurrency;
    this.legacy = legacy;
  }

  /** Whether this contender runs in {@code sc} (the legacy concurrency(8) one only where forgetting is measured). */
  boolean runsIn(Scenario sc) {
    return (this != LLMPOOL_MAIN_CONCURRENCY_8 && this != LLMPOOL_PROBES) || sc.forgetting();
  }

  void configure(ProviderPool.Builder b, P2cSettings.Builder p2c) {
    b.strategy(strategy);
    p2c.llmAware(llmAware);
    io.github.llmpool.BenchP2c.legacyDecay(p2c, legacy);
    p2c.probes(probes);
  }
}
