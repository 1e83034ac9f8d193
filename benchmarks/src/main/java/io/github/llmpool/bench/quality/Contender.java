package io.github.llmpool.bench.quality;

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
   * NOT the library as it is: llmpool with the P2C cost this report proposes ({@link ProposedP2c}),
   * to measure a library change before it is made.
   */
  PROPOSED("llmpool-proposed", Strategy.POWER_OF_TWO_CHOICES, true);

  final String label;
  final Strategy strategy;
  final boolean llmAware;

  Contender(String label, Strategy strategy, boolean llmAware) {
    this.label = label;
    this.strategy = strategy;
    this.llmAware = llmAware;
  }

  void configure(ProviderPool.Builder b) {
    b.strategy(strategy).llmAwareLatency(llmAware);
  }

  /** After {@code build()}: swaps in the proposed picker for {@link #PROPOSED}. */
  void install(ProviderPool pool) {
    if (this == PROPOSED) {
      ProposedP2c.install(pool);
    }
  }

  void install(io.github.llmpool.internal.PoolCore core) {
    if (this == PROPOSED) {
      ProposedP2c.install(core);
    }
  }
}
