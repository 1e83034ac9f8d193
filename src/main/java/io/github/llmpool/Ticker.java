package io.github.llmpool;

/**
 * The pool's only source of time: a monotonic nanosecond clock for eviction deadlines, latency
 * estimates and retry budgets, plus the wall clock used to read {@code Retry-After} HTTP dates.
 *
 * <p>Inject a fake in tests (see the {@code FakeTicker} in the test sources) and move it instead of
 * sleeping. Implementations must be thread-safe.
 */
public interface Ticker {

  /** Monotonic time in nanoseconds; only differences are meaningful (like {@link System#nanoTime()}). */
  long read();

  /** Wall-clock time in milliseconds since the epoch; used only to turn an HTTP date into a delay. */
  default long wallMillis() {
    return System.currentTimeMillis();
  }

  /**
   * Waits about {@code nanos} nanoseconds of this ticker's time. The pool calls it only while a
   * request waits for quota headroom ({@code ProviderPool.Builder.quotaWait}); a fake ticker in a
   * test moves its own time instead. Default: {@link java.util.concurrent.locks.LockSupport#parkNanos(long)}
   * (an interrupt ends the wait early).
   */
  default void park(long nanos) {
    java.util.concurrent.locks.LockSupport.parkNanos(nanos);
  }

  /** The system ticker: {@link System#nanoTime()} and {@link System#currentTimeMillis()}. */
  static Ticker system() {
    return SystemTicker.INSTANCE;
  }
}

enum SystemTicker implements Ticker {
  INSTANCE;

  @Override
  public long read() {
    return System.nanoTime();
  }

  @Override
  public String toString() {
    return "Ticker.system()";
  }
}
