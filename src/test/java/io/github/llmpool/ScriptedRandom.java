package io.github.llmpool;

import io.github.llmpool.spi.RandomSource;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.Random;

/**
 * Randomness for exact tests: scripted values are returned first (each must be below the bound
 * asked for), then a seeded {@link Random} takes over. Synchronized: usable from several threads.
 */
public final class ScriptedRandom implements RandomSource {
  private final Deque<Integer> script = new ArrayDeque<>();
  private final Random fallback;

  public ScriptedRandom(long seed, int... values) {
    this.fallback = new Random(seed);
    for (int v : values) {
      script.add(v);
    }
  }

  public static ScriptedRandom seeded(long seed) {
    return new ScriptedRandom(seed);
  }

  public synchronized ScriptedRandom then(int... values) {
    for (int v : values) {
      script.add(v);
    }
    return this;
  }

  @Override
  public synchronized int nextInt(int bound) {
    Integer v = script.poll();
    if (v == null) {
      return fallback.nextInt(bound);
    }
    if (v < 0 || v >= bound) {
      throw new AssertionError("scripted value " + v + " is outside [0, " + bound + ")");
    }
    return v;
  }

  @Override
  public synchronized double nextDouble() {
    return fallback.nextDouble();
  }

  public synchronized int remaining() {
    return script.size();
  }
}
