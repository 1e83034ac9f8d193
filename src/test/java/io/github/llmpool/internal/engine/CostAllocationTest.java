package io.github.llmpool.internal.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.github.llmpool.FakeTicker;
import io.github.llmpool.Internals;
import io.github.llmpool.Outcome;
import io.github.llmpool.Provider;
import io.github.llmpool.ProviderPool;
import io.github.llmpool.TokenUsage;
import io.github.llmpool.internal.route.Allocation;
import io.github.llmpool.internal.route.Slot;
import io.github.llmpool.internal.usage.UsageResult;
import org.junit.jupiter.api.Test;

/**
 * Pricing happens where usage is reported, and a provider without a price pays nothing for it:
 * ending an attempt (headers, then the body with reported usage) allocates nothing beyond the
 * lease that dispatch makes, exactly as before prices existed.
 */
class CostAllocationTest {

  @Test
  void endingAnUnpricedAttemptAllocatesNothingBeyondItsLease() {
    long[] m = measure(Provider.builder("a").baseUrl("http://127.0.0.1:9/v1").build());
    assertEquals(m[0], m[1], "bytes per attempt: dispatch alone " + m[0] + ", whole attempt " + m[1]);
  }

  /** The measure sees the pricing work: a priced attempt's cost is made (BigDecimal arithmetic). */
  @Test
  void aPricedAttemptIsSeenToAllocate() {
    long[] m = measure(Provider.builder("a").baseUrl("http://127.0.0.1:9/v1")
        .price(io.github.llmpool.Price.builder("USD").input("0.15").output("0.6").build()).build());
    org.junit.jupiter.api.Assertions.assertTrue(m[1] > m[0], "dispatch " + m[0] + ", whole " + m[1]);
  }

  private static long[] measure(Provider provider) {
    ProviderPool pool = ProviderPool.builder().ticker(new FakeTicker()).tier(provider).build();
    PoolCore core = Internals.core(pool);
    Slot slot = core.router().slot("a");
    UsageResult usage = new UsageResult(true, 23, 57, 80, 12, 40, "m", false, true, false, false, 0);
    long now = core.now();
    long dispatchOnly = Allocation.measure(() -> AttemptLease.dispatch(core, slot, 1, false, now, "m", false));
    long whole = Allocation.measure(() -> {
      AttemptLease lease = AttemptLease.dispatch(core, slot, 1, false, now, "m", false);
      lease.answered(now, 200, Outcome.SUCCESS, -1);
      lease.finish(usage, TokenUsage.End.COMPLETE, -1, now + 1, false);
      return lease;
    });
    return new long[] {dispatchOnly, whole};
  }
}
