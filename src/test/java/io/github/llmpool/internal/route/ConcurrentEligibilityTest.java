package io.github.llmpool.internal.route;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.github.llmpool.EvictionPolicy;
import io.github.llmpool.Outcome;
import io.github.llmpool.spi.RandomSource;
import io.github.llmpool.Strategy;
import io.github.llmpool.internal.health.Health;
import io.github.llmpool.internal.health.LatencyModel;
import io.github.llmpool.internal.route.Slot;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Selection is total: when another thread evicts the last eligible provider (or claims its probe)
 * between the picker's count of eligible weight and its draw, the pick answers "nothing eligible"
 * (null), never an exception. The race is made exact by a random source that performs the
 * concurrent change at the moment the slow path draws.
 */
class ConcurrentEligibilityTest {
  private static final LatencyModel MODEL = new LatencyModel(10_000_000_000L, 1_000_000_000L, true);
  private static final Health HEALTH = new Health(EvictionPolicy.builder().failureThreshold(1).build(), MODEL,
      RandomSource.threadLocal());

  private static void evict(Slot s) {
    HEALTH.onFailure(s.state, Outcome.SERVER_ERROR, -1, 0, false, true);
  }

  /** Answers the scripted first draws, then, at draw number {@code at}, runs {@code change} first. */
  private static final class ChangingRandom implements RandomSource {
    private final int at;
    private final Runnable change;
    private final AtomicInteger draws = new AtomicInteger();

    ChangingRandom(int at, Runnable change) {
      this.at = at;
      this.change = change;
    }

    @Override
    public int nextInt(int bound) {
      if (draws.incrementAndGet() == at) {
        change.run();
      }
      return 0;
    }
  }

  @ParameterizedTest
  @EnumSource(Strategy.class)
  void theLastEligibleProviderGoingOutDuringTheDrawYieldsNothingEligible(Strategy strategy) {
    List<Slot> tier = Slots.tier(0, 1, 1);
    // a is out before the pick, so every strategy takes its slow path (count, then draw); b goes
    // out between the count and the draw, as another thread's eviction would
    Slot a = tier.get(0);
    Slot b = tier.get(1);
    evict(a);
    int slowDraw = switch (strategy) {
      case WEIGHTED -> 2; // 1: the first draw lands on a; 2: the slow-path draw
      case ROUND_ROBIN -> 1; // the schedule's step is not a draw; a is scheduled first
      case POWER_OF_TWO_CHOICES -> 3; // 1, 2: the two candidates; 3: the slow-path draw
    };
    ChangingRandom random = new ChangingRandom(slowDraw, () -> evict(b));
    Router router = new Router(strategy, List.of(tier), random, MODEL);
    // round robin's schedule position depends on the thread: picks that land on b (eligible, no
    // draw) are skipped until one lands on a and takes the slow path
    Slot picked = null;
    for (int i = 0; i < 4 && random.draws.get() < slowDraw; i++) {
      picked = router.pick(0, null);
    }
    assertEquals(slowDraw, random.draws.get(), "the change happened inside the pick, at the slow-path draw");
    assertEquals(null, picked);
  }
}
