package io.github.llmpool.spi;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayDeque;
import java.util.Deque;
import java.util.SplittableRandom;
import java.util.random.RandomGenerator;
import org.junit.jupiter.api.Test;

/** The default source's bounded draw (Lemire's multiply-shift with rejection): exact and unbiased. */
class BoundedRandomTest {

  /** Returns scripted 32-bit values. */
  static RandomGenerator scripted(int... values) {
    Deque<Integer> q = new ArrayDeque<>();
    for (int v : values) {
      q.add(v);
    }
    return new RandomGenerator() {
      @Override
      public long nextLong() {
        throw new UnsupportedOperationException();
      }

      @Override
      public int nextInt() {
        return q.remove();
      }
    };
  }

  @Test
  void mapsThe32BitsToTheTopOfTheProduct() {
    // result = floor(x * bound / 2^32) for an accepted x
    assertEquals(0, ThreadLocalRandomSource.bounded(scripted(0x7FFFFFFF), 1));
    assertEquals(3, ThreadLocalRandomSource.bounded(scripted(0x80000000), 7)); // 2^31 * 7 / 2^32 = 3.5
    assertEquals(6, ThreadLocalRandomSource.bounded(scripted(0xFFFFFFFF), 7));
    assertEquals(Integer.MAX_VALUE - 1, ThreadLocalRandomSource.bounded(scripted(0xFFFFFFFF), Integer.MAX_VALUE));
  }

  @Test
  void rejectsTheLowValuesThatWouldBiasTheResult() {
    // bound 3: 2^32 mod 3 = 1, so x = 0 (low part 0 < 1) is rejected and the next value is used
    assertEquals(2, ThreadLocalRandomSource.bounded(scripted(0, 0xFFFFFFFF), 3));
    // bound 2^31 - 1: threshold = 2^32 mod (2^31 - 1) = 2; x = 1 gives low part 2^31 - 1 >= 2: kept
    assertEquals(0, ThreadLocalRandomSource.bounded(scripted(1), Integer.MAX_VALUE));
  }

  @Test
  void uniformOverABoundThatIsNotAPowerOfTwo() {
    // seed 42, 700,000 draws over 7 values: each count within 1% of 100,000 (about 4 standard deviations)
    SplittableRandom r = new SplittableRandom(42);
    int[] counts = new int[7];
    for (int i = 0; i < 700_000; i++) {
      counts[ThreadLocalRandomSource.bounded(r, 7)]++;
    }
    for (int c : counts) {
      assertTrue(Math.abs(c - 100_000) <= 1_000, java.util.Arrays.toString(counts));
    }
  }

  @Test
  void theDefaultSourceStaysInRange() {
    RandomSource s = RandomSource.threadLocal();
    for (int bound : new int[] {1, 2, 3, 7, 100, 1 << 20, Integer.MAX_VALUE}) {
      for (int i = 0; i < 1_000; i++) {
        int v = s.nextInt(bound);
        assertTrue(v >= 0 && v < bound, bound + " -> " + v);
      }
    }
  }
}
