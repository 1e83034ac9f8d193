package io.github.llmpool;

import java.util.concurrent.ThreadLocalRandom;

/**
 * The pool's only source of randomness (weighted draws, P2C candidates, tie breaks, eviction
 * jitter). Inject a scripted or seeded source so selection tests are exact. Implementations must
 * be thread-safe and should not allocate.
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
    return ThreadLocalRandom.current().nextInt(bound);
  }

  @Override
  public double nextDouble() {
    return ThreadLocalRandom.current().nextDouble();
  }
}
