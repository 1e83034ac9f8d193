package io.github.llmpool.bench.quality;

import io.github.llmpool.Ticker;

/**
 * World time for the quota experiment: the loopback clock ({@link System#nanoTime()}) sped up
 * {@code scale} times from an origin, so a pool built over it (and the fake providers, which read
 * the same clock) sees world seconds: a 60 s rate-limit window, a {@code Retry-After: 2} and the
 * pool's own defaults (eviction durations, latency decay) all mean what they mean in production,
 * while the run lasts {@code 1/scale} of it. The wall clock runs at the same speed from a fixed
 * epoch, so the Anthropic dialect's RFC 3339 resets and the pool's reading of them agree.
 * Thread-safe (immutable).
 */
final class ScaledTicker implements Ticker {
  /** The world's wall clock at the origin: 2026-12-01T08:00:00Z. */
  static final long EPOCH_MILLIS = 1_796_112_000_000L;

  private final long origin;
  private final long scale;

  ScaledTicker(long originNanos, long scale) {
    if (scale < 1) {
      throw new IllegalArgumentException("scale must be >= 1 but was " + scale);
    }
    this.origin = originNanos;
    this.scale = scale;
  }

  long scale() {
    return scale;
  }

  /** World nanoseconds since the origin. */
  @Override
  public long read() {
    return (System.nanoTime() - origin) * scale;
  }

  @Override
  public long wallMillis() {
    return EPOCH_MILLIS + read() / 1_000_000L;
  }

  /** Parks for {@code nanos} of world time ({@code quotaWait} waits on the pool's ticker). */
  @Override
  public void park(long nanos) {
    java.util.concurrent.locks.LockSupport.parkNanos(Math.max(1, nanos / scale));
  }

  /** The loopback {@link System#nanoTime()} at world time {@code worldNanos}. */
  long loopbackAt(long worldNanos) {
    return origin + worldNanos / scale;
  }

  @Override
  public String toString() {
    return "ScaledTicker(x" + scale + ")";
  }
}
