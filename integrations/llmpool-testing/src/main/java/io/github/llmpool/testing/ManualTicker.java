package io.github.llmpool.testing;

import io.github.llmpool.Ticker;
import java.time.Duration;
import java.time.Instant;

/**
 * A {@link Ticker} that moves only when a test moves it, for eviction deadlines, latency decay and
 * retry budgets without waiting: give it to {@code ProviderPool.builder().ticker(ticker)} and
 * {@link #advance(Duration) advance} it instead of sleeping. The monotonic clock and the wall clock
 * move together. Thread-safe.
 *
 * <pre>{@code
 * ManualTicker ticker = new ManualTicker();
 * ProviderPool pool = ProviderPool.builder().tier(a, b).ticker(ticker).build();
 * // ... a is evicted for 2 s by a 429 with Retry-After: 2 ...
 * ticker.advance(Duration.ofSeconds(2));   // the next request probes a
 * }</pre>
 */
public final class ManualTicker implements Ticker {

  /** Where a new ticker's monotonic clock starts: 1 s (not 0, so that nothing mistakes it for unset). */
  public static final long DEFAULT_START_NANOS = 1_000_000_000L;
  /** Where a new ticker's wall clock starts: 2026-01-01T00:00:00Z. */
  public static final Instant DEFAULT_START_WALL = Instant.parse("2026-01-01T00:00:00Z");

  private long nanos; // guarded by this
  private long wallMillis; // guarded by this

  /** A ticker at {@link #DEFAULT_START_NANOS} and {@link #DEFAULT_START_WALL}. */
  public ManualTicker() {
    this(DEFAULT_START_WALL);
  }

  /**
   * A ticker whose wall clock starts at {@code wall} (for {@code Retry-After} HTTP dates).
   *
   * @param wall the wall-clock start
   * @throws IllegalArgumentException if {@code wall} is null
   */
  public ManualTicker(Instant wall) {
    if (wall == null) {
      throw new IllegalArgumentException("wall must not be null");
    }
    this.nanos = DEFAULT_START_NANOS;
    this.wallMillis = wall.toEpochMilli();
  }

  @Override
  public synchronized long read() {
    return nanos;
  }

  @Override
  public synchronized long wallMillis() {
    return wallMillis;
  }

  /** {@return the wall clock as an instant} */
  public synchronized Instant wall() {
    return Instant.ofEpochMilli(wallMillis);
  }

  /**
   * Moves both clocks forward.
   *
   * @param d how far, zero or positive
   * @return this ticker
   * @throws IllegalArgumentException if {@code d} is null or negative (a monotonic clock never goes back)
   */
  public synchronized ManualTicker advance(Duration d) {
    if (d == null || d.isNegative()) {
      throw new IllegalArgumentException("advance(d): d must be zero or positive, was " + d);
    }
    nanos = Math.addExact(nanos, d.toNanos());
    wallMillis = Math.addExact(wallMillis, d.toMillis());
    return this;
  }

  /**
   * Sets the monotonic clock to {@code nanos}; the wall clock moves by the same amount.
   *
   * @param nanos the new reading of {@link #read()}, not below the current one
   * @return this ticker
   * @throws IllegalArgumentException if {@code nanos} is below the current reading
   */
  public synchronized ManualTicker setNanos(long nanos) {
    if (nanos < this.nanos) {
      throw new IllegalArgumentException("setNanos(" + nanos + "): a monotonic clock never goes back; it reads "
          + this.nanos);
    }
    wallMillis += (nanos - this.nanos) / 1_000_000;
    this.nanos = nanos;
    return this;
  }

  /**
   * Sets the wall clock only (what the pool reads {@code Retry-After} HTTP dates against); it may go
   * either way, as a real wall clock may.
   *
   * @param wall the new wall-clock time
   * @return this ticker
   * @throws IllegalArgumentException if {@code wall} is null
   */
  public synchronized ManualTicker setWall(Instant wall) {
    if (wall == null) {
      throw new IllegalArgumentException("setWall(wall): wall must not be null");
    }
    this.wallMillis = wall.toEpochMilli();
    return this;
  }

  /** {@return {@code ManualTicker[nanos=..., wall=...]}} */
  @Override
  public synchronized String toString() {
    return "ManualTicker[nanos=" + nanos + ", wall=" + Instant.ofEpochMilli(wallMillis) + "]";
  }
}
