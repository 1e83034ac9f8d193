package io.github.llmpool;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;

/** A ticker tests move by hand: monotonic nanos and wall millis advance together. Thread-safe. */
public final class FakeTicker implements Ticker {
  private final AtomicLong nanos = new AtomicLong(1_000_000_000L);
  private final AtomicLong wall = new AtomicLong(1_790_000_000_000L); // 2026-09-21T..Z

  @Override
  public long read() {
    return nanos.get();
  }

  @Override
  public long wallMillis() {
    return wall.get();
  }

  private final AtomicLong parked = new AtomicLong();

  /** Run after each park, once the ticker has moved (null: none). */
  private volatile Runnable onPark;

  /** A wait of the pool's (quota wait): moves this ticker instead of sleeping, counts it, then runs {@link #onPark}'s hook. */
  @Override
  public void park(long n) {
    parked.addAndGet(n);
    advanceNanos(n);
    Runnable hook = onPark;
    if (hook != null) {
      hook.run();
    }
  }

  /** What happens while the pool waits (a lease landing, say): {@code hook} runs after every park. */
  public FakeTicker onPark(Runnable hook) {
    this.onPark = hook;
    return this;
  }

  /** Nanoseconds the pool waited on this ticker. */
  public long parkedNanos() {
    return parked.get();
  }

  public FakeTicker advance(Duration d) {
    nanos.addAndGet(d.toNanos());
    wall.addAndGet(d.toMillis());
    return this;
  }

  public FakeTicker advanceNanos(long n) {
    nanos.addAndGet(n);
    wall.addAndGet(n / 1_000_000);
    return this;
  }

  public FakeTicker setWallMillis(long millis) {
    wall.set(millis);
    return this;
  }
}
