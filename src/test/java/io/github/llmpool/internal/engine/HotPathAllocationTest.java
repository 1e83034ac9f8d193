package io.github.llmpool.internal.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;

import io.github.llmpool.FakeTicker;
import io.github.llmpool.Internals;
import io.github.llmpool.Outcome;
import io.github.llmpool.Provider;
import io.github.llmpool.ProviderPool;
import io.github.llmpool.Strategy;
import io.github.llmpool.TokenUsage;
import io.github.llmpool.internal.okhttp.RateLimitHeaders;
import io.github.llmpool.internal.route.Allocation;
import io.github.llmpool.internal.route.Slot;
import okhttp3.Headers;
import org.junit.jupiter.api.Test;

/**
 * What the kill switch and the attempt hooks add to the pick path and to each attempt allocates
 * nothing when unused: picks with a drained provider, attempt hooks with none registered, and
 * the rate-limit header reader on a response that carries none.
 */
class HotPathAllocationTest {

  private static ProviderPool pool(Strategy strategy) {
    return ProviderPool.builder().ticker(new FakeTicker()).strategy(strategy)
        .tier(Provider.builder("a").baseUrl("http://127.0.0.1:9/v1").build(),
            Provider.builder("b").baseUrl("http://127.0.0.1:9/v1").build(),
            Provider.builder("c").baseUrl("http://127.0.0.1:9/v1").build())
        .build();
  }

  @Test
  void aPickWithADrainedProviderAllocatesNothing() {
    for (Strategy strategy : Strategy.values()) {
      ProviderPool pool = pool(strategy);
      pool.drain("b");
      PoolCore core = Internals.core(pool);
      boolean[] probe = new boolean[1];
      long now = core.now();
      assertEquals(0, Allocation.measure(() -> core.choose(now, null, probe)), strategy.toString());
      for (int i = 0; i < 1000; i++) {
        Slot s = core.choose(now, null, probe);
        assertEquals(false, s.name().equals("b"), strategy + " picked the drained provider");
      }
    }
  }

  @Test
  void attemptHooksBuildNothingWhenNoneIsRegistered() {
    PoolCore core = Internals.core(pool(Strategy.POWER_OF_TWO_CHOICES));
    Slot slot = core.router().slot("a");
    assertNull(core.attemptStarted(slot, 1, false, false, "m", false, 0));
    assertEquals(0, Allocation.measure(() -> core.attemptStarted(slot, 1, false, false, "m", false, 0) == null
        ? Boolean.TRUE : Boolean.FALSE));
    assertEquals(0, Allocation.measure(() -> {
      core.attemptEnded(null, Outcome.SUCCESS, 200, 5, 1, 1, TokenUsage.End.COMPLETE);
      return Boolean.TRUE;
    }));
    assertSame(Boolean.TRUE, core.hasAttemptListeners() ? null : Boolean.TRUE);
  }

  @Test
  void aResponseWithoutRateLimitHeadersReadsThemWithoutAllocating() {
    // What LogicalCall.judge does with every response: one pass over the names, then nothing.
    Headers h = Headers.of("content-type", "application/json", "date", "Tue, 01 Dec 2026 08:00:00 GMT",
        "openai-processing-ms", "412", "x-request-id", "req_1", "anthropic-version", "2023-06-01",
        "retry-after", "1", "x-ratelimit", "", "server", "cloudflare");
    assertNull(RateLimitHeaders.read(h, 0));
    assertEquals(0, Allocation.measure(() -> RateLimitHeaders.read(h, 0) == null ? Boolean.TRUE : Boolean.FALSE));
  }

  @Test
  void requestHooksBuildNothingWhenNoneIsRegistered() {
    PoolCore core = Internals.core(pool(Strategy.POWER_OF_TWO_CHOICES));
    assertNull(core.requestStarted("m", false));
    assertEquals(0, Allocation.measure(() -> core.requestStarted("m", true) == null ? Boolean.TRUE : Boolean.FALSE));
  }
}
