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
  LLMPOOL_CONCURRENCY_8("llmpool-concurrency-8", Strategy.POWER_OF_TWO_CHOICES, true, 8);

  final String label;
  final Strategy strategy;
  final boolean llmAware;
  /** {@code Provider.Builder.concurrency} of every provider. */
  final int concurrency;

  Contender(String label, Strategy strategy, boolean llmAware) {
    this(label, strategy, llmAware, 1);
  }

  Contender(String label, Strategy strategy, boolean llmAware, int concurrency) {
    this.label = label;
    this.strategy = strategy;
    this.llmAware = llmAware;
    this.concurrency = concurrency;
  }

  void configure(ProviderPool.Builder b, P2cSettings.Builder p2c) {
    b.strategy(strategy);
    p2c.llmAware(llmAware);
  }
}
