package io.github.llmpool.testing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class ManualTickerTest {

  @Test
  void advanceMovesBothClocksAndNothingElseDoes() {
    ManualTicker t = new ManualTicker();
    assertEquals(ManualTicker.DEFAULT_START_NANOS, t.read());
    assertEquals(ManualTicker.DEFAULT_START_WALL.toEpochMilli(), t.wallMillis());
    assertEquals(t.read(), t.read(), "it does not move by itself");
    t.advance(Duration.ofMillis(1500));
    assertEquals(ManualTicker.DEFAULT_START_NANOS + 1_500_000_000L, t.read());
    assertEquals(ManualTicker.DEFAULT_START_WALL.plusMillis(1500), t.wall());
    t.advance(Duration.ZERO);
    assertEquals(ManualTicker.DEFAULT_START_NANOS + 1_500_000_000L, t.read());
  }

  @Test
  void setNanosGoesForwardOnlyAndSetWallEitherWay() {
    ManualTicker t = new ManualTicker(Instant.parse("2030-05-01T00:00:00Z"));
    t.setNanos(t.read() + 2_000_000_000L);
    assertEquals(Instant.parse("2030-05-01T00:00:02Z"), t.wall());
    IllegalArgumentException back = assertThrows(IllegalArgumentException.class, () -> t.setNanos(5));
    assertTrue(back.getMessage().contains("setNanos(5): a monotonic clock never goes back"), back.getMessage());
    assertThrows(IllegalArgumentException.class, () -> t.advance(Duration.ofNanos(-1)));
    assertThrows(IllegalArgumentException.class, () -> t.advance(null));
    t.setWall(Instant.parse("2020-01-01T00:00:00Z"));
    assertEquals(Instant.parse("2020-01-01T00:00:00Z").toEpochMilli(), t.wallMillis());
    assertTrue(t.toString().startsWith("ManualTicker[nanos="), t.toString());
  }

  @Test
  void concurrentAdvancesAllCount() throws Exception {
    ManualTicker t = new ManualTicker();
    ExecutorService pool = Executors.newFixedThreadPool(4);
    try {
      List<Future<?>> fs = new ArrayList<>();
      for (int i = 0; i < 4; i++) {
        fs.add(pool.submit(() -> {
          for (int j = 0; j < 10_000; j++) {
            t.advance(Duration.ofNanos(1));
          }
        }));
      }
      for (Future<?> f : fs) {
        f.get(30, TimeUnit.SECONDS);
      }
    } finally {
      pool.shutdownNow();
    }
    assertEquals(ManualTicker.DEFAULT_START_NANOS + 40_000, t.read());
  }
}
