package io.github.llmpool.internal.health;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.github.llmpool.EvictionPolicy;
import io.github.llmpool.Outcome;
import io.github.llmpool.ScriptedRandom;
import java.time.Duration;
import java.time.ZonedDateTime;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * Server delays: a huge but well-formed delay is a hint (saturated, the caller caps it), a
 * malformed one is no hint, and nothing overflows on the way to an eviction deadline.
 */
class RetryHintsTest {
  static final long WALL = ZonedDateTime.parse("2026-10-21T07:27:30Z").toInstant().toEpochMilli();

  private static long delay(String... nameValue) {
    Map<String, String> h = new java.util.HashMap<>();
    for (int i = 0; i < nameValue.length; i += 2) {
      h.put(nameValue[i], nameValue[i + 1]);
    }
    return RetryHints.delayNanos(h::get, WALL);
  }

  @Test
  void hugeWellFormedDelaysSaturateInsteadOfBeingIgnored() {
    assertEquals(Long.MAX_VALUE, delay("retry-after", "99999999999"));
    assertEquals(Long.MAX_VALUE, delay("retry-after", "9".repeat(400)));
    assertEquals(Long.MAX_VALUE, delay("retry-after", "1e400"));
    assertEquals(Long.MAX_VALUE, delay("retry-after-ms", "1e13"));
    assertEquals(Long.MAX_VALUE, delay("retry-after-ms", "99999999999999999999"));
    assertEquals(Long.MAX_VALUE, delay("retry-after", "Fri, 31 Dec 9999 23:59:59 GMT"));
    assertEquals(Long.MAX_VALUE, delay("x-ratelimit-remaining-requests", "0",
        "x-ratelimit-reset-requests", "99999999999s"));
    assertEquals(Long.MAX_VALUE, delay("x-ratelimit-remaining-tokens", "0",
        "x-ratelimit-reset-tokens", "3000000h"));
    assertEquals(Long.MAX_VALUE, delay("x-ratelimit-remaining-tokens", "0",
        "x-ratelimit-reset-tokens", "9".repeat(400) + "ms"));
  }

  @Test
  void largestValuesThatFitAreExact() {
    // 292 years in nanoseconds is about Long.MAX_VALUE: just below it, exact; the old bounds
    // (1e12 ms, 1e9 s, 1e18 ns) cut these off.
    assertEquals(TimeUnit.SECONDS.toNanos(2_000_000_000L), delay("retry-after", "2000000000"));
    assertEquals(TimeUnit.MILLISECONDS.toNanos(2_000_000_000_000L), delay("retry-after-ms", "2000000000000"));
    assertEquals(TimeUnit.HOURS.toNanos(2_000_000L), delay("x-ratelimit-remaining-requests", "0",
        "x-ratelimit-reset-requests", "2000000h"));
    // and ordinary values are as before
    assertEquals(TimeUnit.SECONDS.toNanos(3), delay("retry-after", "3"));
    assertEquals(TimeUnit.MILLISECONDS.toNanos(1500), delay("retry-after-ms", "1500"));
    assertEquals(TimeUnit.MILLISECONDS.toNanos(2), delay("retry-after-ms", "1.5")); // rounded up to the ms
    assertEquals(1_500_000_000L, delay("retry-after", "1.5"));
  }

  @Test
  void malformedNegativeOrNonFiniteDelaysStayAbsent() {
    for (String v : new String[] {"NaN", "Infinity", "-Infinity", "-5", "-1e13", "0", "0.0", "5f", "5d",
        "0x10", "1e", "1.", ".5", "+5", "5 s", "soon", "", "\u0663"}) {
      assertEquals(-1, delay("retry-after-ms", v), "retry-after-ms: " + v);
      assertEquals(-1, delay("retry-after", v), "retry-after: " + v);
    }
    for (String v : new String[] {"-5s", "NaNs", "Infinitys", "5", "5x", "s", "1e3s", "0s", "0ms"}) {
      assertEquals(-1, delay("x-ratelimit-remaining-requests", "0", "x-ratelimit-reset-requests", v), v);
    }
    assertEquals(-1, delay("retry-after", "Sat, 31 Dec 9999 23:59:59 GMT")); // wrong day of the week
    assertEquals(-1, delay("retry-after", "Wed, 21 Oct 2026 07:27:00 GMT")); // in the past
  }

  @Test
  void aSaturatedHintEvictsForMaxDurationWithoutOverflow() {
    LatencyModel model = new LatencyModel(TimeUnit.SECONDS.toNanos(10), TimeUnit.SECONDS.toNanos(1), true);
    Health h = new Health(EvictionPolicy.defaults(), model, ScriptedRandom.seeded(1));
    long max = EvictionPolicy.DEFAULT_MAX_DURATION.toNanos();
    // A ticker may start anywhere (only differences count), also just below the wrap.
    // The last: the first deadline fits, the second wraps past Long.MAX_VALUE.
    for (long now : new long[] {0, 1_000_000_000L, Long.MAX_VALUE - 1_000, Long.MIN_VALUE + 5, -1,
        Long.MAX_VALUE - max - 500}) {
      ProviderState s = new ProviderState("a", now);
      Health.Eviction e = h.onFailure(s, Outcome.RATE_LIMITED, Long.MAX_VALUE, now, false, true);
      assertEquals(max, e.durationNanos(), "now " + now);
      assertEquals(true, e.serverHint());
      assertEquals(false, s.isAvailable(now + max - 1), "now " + now);
      assertEquals(true, s.isAvailable(now + max), "now " + now);
      // a later hint past the wrap extends the deadline (never shortens it)
      Health.Eviction later = h.onFailure(s, Outcome.RATE_LIMITED, Long.MAX_VALUE, now + 1_000, false, true);
      assertEquals(now + 1_000 + max, later.untilNanos(), "now " + now);
      assertEquals(now + 1_000 + max, s.evictedUntil(), "now " + now);
    }
  }

  @Test
  void absurdMaxDurationsNeitherThrowNorOverflow() {
    LatencyModel model = new LatencyModel(TimeUnit.SECONDS.toNanos(10), TimeUnit.SECONDS.toNanos(1), true);
    for (Duration max : new Duration[] {Duration.ofDays(200 * 365L), Duration.ofDays(1000 * 365L)}) {
      EvictionPolicy p = EvictionPolicy.builder().maxDuration(max).quotaDuration(max).failureThreshold(1).build();
      Health h = new Health(p, model, ScriptedRandom.seeded(1));
      ProviderState s = new ProviderState("a");
      long now = 0;
      for (int i = 0; i < 80; i++) { // backoff doubles up to the cap, jitter on top
        Health.Eviction e = h.onFailure(s, Outcome.SERVER_ERROR, -1, now, true, true);
        assertEquals(true, e.durationNanos() > 0, max + " ejection " + i + ": " + e.durationNanos());
        now = e.untilNanos();
      }
      Health.Eviction hinted = h.onFailure(new ProviderState("b"), Outcome.RATE_LIMITED, Long.MAX_VALUE, 0, false, true);
      assertEquals(true, hinted.durationNanos() > 0 && hinted.serverHint(), max + ": " + hinted);
      Health.Eviction quota = h.onFailure(new ProviderState("c"), Outcome.QUOTA_EXHAUSTED, -1, 0, false, true);
      assertEquals(true, quota.durationNanos() > 0, max + ": " + quota);
    }
  }
}
