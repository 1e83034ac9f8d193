package io.github.llmpool.internal.okhttp;

import java.io.InterruptedIOException;
import java.util.concurrent.TimeUnit;
import okhttp3.Call;

/**
 * Tells a call that OkHttp cancelled because its own {@code callTimeout} expired from a call the
 * caller cancelled. OkHttp cancels the call in both cases; only the first is the provider's fault
 * (it did not answer, or finish answering, in time). Real time ({@code System.nanoTime()}), since
 * OkHttp's timeout runs on real time whatever ticker the pool uses. Immutable; thread-safe.
 */
final class CallDeadline {
  /** OkHttp's watchdog fires a little late or early relative to our clock: this much counts as expired. */
  private static final long SLACK_NANOS = TimeUnit.MILLISECONDS.toNanos(5);

  private final long enteredAt = System.nanoTime();

  /**
   * Whether {@code call}'s timeout has expired: at least {@code callTimeout} (less a few
   * milliseconds) has passed since the interceptor was entered, which is after the timeout started.
   */
  boolean expired(Call call) {
    long timeout = call.timeout().timeoutNanos();
    return timeout > 0 && System.nanoTime() - enteredAt >= timeout - SLACK_NANOS;
  }

  /**
   * Whether a failure {@code e} of a cancelled {@code call} is the call's timeout rather than the
   * caller's cancel: OkHttp reports an expired call timeout as {@code InterruptedIOException("timeout")}
   * when it ends the exchange, or the time says so.
   */
  boolean timedOut(Call call, Throwable e) {
    if (e instanceof InterruptedIOException && "timeout".equals(e.getMessage()) && call.timeout().timeoutNanos() > 0) {
      return true;
    }
    return expired(call);
  }
}
