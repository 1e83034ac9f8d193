package io.github.llmpool.samples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.llmpool.Outcome;
import io.github.llmpool.PoolEvent;
import io.github.llmpool.ProviderSnapshot;
import io.github.llmpool.testing.ReceivedRequest;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Runs the demo once, exactly as {@code main} does (same seeds, same delays, real time), and checks
 * that every chapter tells what it says. Waiting inside the demo is on pool events and finished
 * calls, never on sleeps.
 */
class DemoTest {

  private static Demo.Story story;
  private static String printed;

  @BeforeAll
  static void runTheDemo() throws Exception {
    ByteArrayOutputStream buf = new ByteArrayOutputStream();
    long t0 = System.nanoTime();
    story = Demo.run(new PrintStream(buf, true, StandardCharsets.UTF_8));
    long took = System.nanoTime() - t0;
    printed = buf.toString(StandardCharsets.UTF_8);
    assertTrue(took < Duration.ofSeconds(40).toNanos(), "the demo took " + took / 1_000_000 + " ms:\n" + printed);
  }

  @Test
  void chapter1TheWeightedSplitIs80To20WithinTwoPoints() {
    Demo.Split s = story.split();
    assertEquals(0, s.failed());
    assertEquals(1000, s.received().get("alpha") + s.received().get("bravo"), "one upstream request per call");
    // Seeded: the same draw every run. The band is what an unseeded run of 1000 would hold to 4 sigma (~1.3 points each).
    assertTrue(Math.abs(s.share("alpha") - 80.0) <= 2.0, "alpha: " + s.share("alpha") + "%");
    assertTrue(Math.abs(s.share("bravo") - 20.0) <= 2.0, "bravo: " + s.share("bravo") + "%");
  }

  @Test
  void chapter2PowerOfTwoChoicesMovesTrafficAwayFromTheSlowProvider() {
    Demo.Steering s = story.steering();
    assertEquals(0, s.failed());
    // While all are fast the split follows millisecond latency noise (on a loaded 2-core machine
    // charlie was seen at 9%, and once at 4.3%); what matters is that it had traffic to lose, and
    // lost at least half.
    assertTrue(s.shareBefore("charlie") >= 3.0, "charlie had traffic while fast: " + s.before());
    assertTrue(s.shareAfter("charlie") <= 10.0, "charlie's share after it turned slow: " + s.after());
    assertTrue(s.shareAfter("charlie") * 2 <= s.shareBefore("charlie"), s.before() + " -> " + s.after());
    assertTrue(s.estimatesAfter().get("charlie").compareTo(s.estimatesAfter().get("alpha")) > 0,
        "the pool's estimate says charlie is slower: " + s.estimatesAfter());
  }

  @Test
  void chapter3BravoIsEvictedForItsRetryAfterBackEvictedAgainThenRestored() {
    Demo.RateLimited r = story.rateLimited();
    List<PoolEvent> all = r.timeline().stream().map(Demo.Moment::event).filter(Objects::nonNull).toList();
    assertEquals(2, all.stream().filter(PoolEvent.Retried.class::isInstance).count(), "each 429 was retried: " + all);
    // The evictions and returns (a named delay ends without a probe); the headroom events are shown too, not counted here.
    List<PoolEvent> events = all.stream().filter(e -> e instanceof PoolEvent.Evicted || e instanceof PoolEvent.Restored
        || e instanceof PoolEvent.Probing).toList();
    assertEquals(List.of("Evicted", "Restored", "Evicted", "Restored"),
        events.stream().map(e -> e.getClass().getSimpleName()).toList(), events.toString());
    for (PoolEvent e : events) {
      assertEquals("bravo", e.provider());
      if (e instanceof PoolEvent.Evicted ev) {
        assertEquals(429, ev.status());
        assertEquals(Outcome.RATE_LIMITED, ev.cause());
        assertEquals(Duration.ofSeconds(1), ev.duration(), "the server's Retry-After: 1");
        assertTrue(ev.serverHint());
      }
    }
    // Timed where bravo received them (the events are timed when delivered, a little after the pool acted):
    // the next request reached bravo no sooner than Retry-After after the 429 that evicted it.
    List<ReceivedRequest> bravo = r.bravo();
    List<Integer> statuses = bravo.stream().map(ReceivedRequest::status).toList();
    int first429 = statuses.indexOf(429);
    assertEquals(429, statuses.get(first429 + 1), "the first request after the delay got the second 429: " + statuses);
    assertEquals(200, statuses.get(first429 + 2), "the next one after the second delay succeeded: " + statuses);
    for (int i = first429; i < first429 + 2; i++) {
      Duration gap = Duration.between(bravo.get(i).receivedAt(), bravo.get(i + 1).receivedAt());
      assertTrue(gap.compareTo(Duration.ofSeconds(1)) >= 0, "a request came " + gap.toMillis() + " ms after a 429");
    }
    assertEquals(2, statuses.stream().filter(st -> st == 429).count(), "bravo answered exactly two 429s");
    assertEquals(0, r.failed(), "the pool retried both 429s on alpha: the caller saw none");
    assertTrue(statuses.size() - statuses.lastIndexOf(429) - 1 >= 5, "bravo served traffic again after the restore: " + statuses);
  }

  @Test
  void chapter4ATier0OutageSpillsToTier1AndTheTrafficComesBack() {
    Demo.Outage o = story.outage();
    assertEquals(0, o.failed(), "every call was served, by tier 1 while tier 0 was down");
    assertEquals(0, o.duringOutage().get("alpha"));
    assertEquals(0, o.duringOutage().get("bravo"));
    assertTrue(o.duringOutage().get("fallback") >= 20, o.duringOutage().toString());
    assertTrue(o.recovering().get("alpha") >= 1 && o.recovering().get("bravo") >= 1, "each was probed: " + o.recovering());
    assertTrue(o.afterRecovery().get("alpha") + o.afterRecovery().get("bravo") >= 20, o.afterRecovery().toString());
    assertEquals(0, o.afterRecovery().get("fallback"), "once restored, tier 0 has all the traffic again");
    List<PoolEvent> events = o.timeline().stream().map(Demo.Moment::event).filter(Objects::nonNull).toList();
    for (String p : List.of("alpha", "bravo")) {
      assertTrue(events.stream().anyMatch(e -> e instanceof PoolEvent.Evicted ev && ev.provider().equals(p)
          && ev.cause() == Outcome.CONNECTION_FAILURE), p + " evicted: " + events);
      assertTrue(events.stream().anyMatch(e -> e instanceof PoolEvent.Restored && e.provider().equals(p)), p + " restored: " + events);
    }
    assertTrue(events.stream().anyMatch(e -> e instanceof PoolEvent.FailedOver f && f.provider().equals("fallback")
        && f.tier() == 1 && f.fromTier() == 0), "a call failed over from tier 0 to tier 1: " + events);
    for (ProviderSnapshot p : o.snapshot().providers()) {
      assertEquals(ProviderSnapshot.Status.AVAILABLE, p.status(), p.toString());
    }
  }

  @Test
  void chapter5OnUsageSawEveryAnswerWithExactTokens() {
    Demo.Tokens t = story.tokens();
    long answers = 0;
    for (String p : List.of("alpha", "bravo", "charlie", "fallback")) {
      long[] u = t.of(p);
      assertTrue(u[0] > 0, p + " answered");
      assertEquals(3 * u[0], u[2], p + ": every answer was 'hello from " + p + "', 3 completion tokens");
      assertEquals(u[1] + u[2], u[3], p + ": total = prompt + completion");
      answers += u[0];
    }
    int calls = story.split().requests() + 2 * story.steering().requestsPerPhase() + story.rateLimited().requests()
        + story.outage().requests();
    assertEquals(calls, answers, "one answer with usage per call, and no call failed");
    assertEquals(answers, t.answers());
  }

  @Test
  void theOutputHasEveryChapterAndTheTables() {
    for (String s : List.of("1. A weighted 80/20 split", "2. Power of two choices", "3. A provider that answers 429",
        "4. An outage of tier 0", "5. Token usage and the pool's snapshot", "Evicted   bravo", "Probing   bravo",
        "Restored  bravo", "Restored  alpha", "fallback      1 AVAILABLE")) {
      assertTrue(printed.contains(s), "missing '" + s + "' in:\n" + printed);
    }
  }
}
