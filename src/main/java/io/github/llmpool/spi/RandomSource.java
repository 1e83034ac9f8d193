package io.github.llmpool.spi;

import java.util.concurrent.ThreadLocalRandom;
import java.util.random.RandomGenerator;

/**
 * The pool's only source of randomness (weighted draws, P2C candidates, tie breaks, eviction
 * jitter), set with {@code ProviderPool.Builder.random(...)}. A test seam rather than a setting:
 * inject a scripted or seeded source so selection tests and simulations are exact; production
 * code keeps the default, {@link #threadLocal()}. Implementations must be thread-safe and should
 * not allocate (they are called on the pick path).
 */
@FunctionalInterface
public interface RandomSource {

  /** A uniformly distributed int in {@code [0, bound)}; {@code bound} is always positive. */
  int nextInt(int bound);

  /** A uniformly distributed double in {@code [0, 1)}; the default derives it from {@link #nextInt}. */
  default double nextDouble() {
    return nextInt(1 << 24) / (double) (1 << 24);
  }

  /** {@link ThreadLocalRandom}: thread-safe, contention-free, allocation-free. The default. */
  static RandomSource threadLocal() {
    return ThreadLocalRandomSource.INSTANCE;
  }
}

enum ThreadLocalRandomSource implements RandomSource {
  INSTANCE;

  @Override
  public int nextInt(int bound) {
    return bounded(ThreadLocalRandom.current(), bound);
  }

  /**
   * A uniform int in {@code [0, bound)} from 32 random bits, by Lemire's multiply-shift with
   * rejection ("Fast Random Integer Generation in an Interval", 2019): unbiased like
   * {@code nextInt(bound)}, but without its integer division on almost every draw (the pick path
   * draws with the tier's total weight as bound, rarely a power of two).
   */
  static int bounded(RandomGenerator g, int bound) {
    long m = (g.nextInt() & 0xFFFFFFFFL) * bound;
    long low = m & 0xFFFFFFFFL;
    if (low < bound) {
      long threshold = (0x100000000L - bound) % bound; // 2^32 mod bound
      while (low < threshold) {
        m = (g.nextInt() & 0xFFFFFFFFL) * bound;
        low = m & 0xFFFFFFFFL;
      }
    }
    return (int) (m >>> 32);
  }

  @Override
  public double nextDouble() {
    return ThreadLocalRandom.current().nextDouble();
  }
}
