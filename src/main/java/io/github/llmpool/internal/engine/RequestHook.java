package io.github.llmpool.internal.engine;

import io.github.llmpool.NoProviderAvailableException;
import io.github.llmpool.TokenUsage;
import io.github.llmpool.spi.RequestEnd;
import io.github.llmpool.spi.RequestStart;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * One logical request as the request and attempt hooks see it: its id (what each
 * {@code AttemptStart} carries) and, when request hooks are registered, the start value given to
 * them. Ends once, whichever way comes first: the final body's end ({@link #answered}, from the
 * final attempt's lease, on the reading thread) or the call's exception ({@link #threw}, on the
 * calling thread). Exists only while a hook is registered. Thread-safe.
 */
public final class RequestHook {
  private final PoolCore core;
  private final long id;
  /** What onStart was given; null when only attempt hooks are registered. */
  private final RequestStart start;
  private volatile int done;
  private static final VarHandle DONE;

  static {
    try {
      DONE = MethodHandles.lookup().findVarHandle(RequestHook.class, "done", int.class);
    } catch (ReflectiveOperationException e) {
      throw new ExceptionInInitializerError(e);
    }
  }

  RequestHook(PoolCore core, long id, RequestStart start) {
    this.core = core;
    this.id = id;
    this.start = start;
  }

  /** The request's id, from 1. */
  public long id() {
    return id;
  }

  /**
   * The body of the response the caller got ended: read to {@code end}, after {@code attempts}
   * attempts; {@code cancelled}: the caller gave up while reading it.
   */
  public void answered(int status, TokenUsage.End end, boolean cancelled, int attempts, long now) {
    if (start == null || !DONE.compareAndSet(this, 0, 1)) {
      return;
    }
    RequestEnd.Result result;
    if (end == TokenUsage.End.FAILED || end == TokenUsage.End.TRUNCATED) {
      result = cancelled ? RequestEnd.Result.CANCELLED : RequestEnd.Result.FAILED;
    } else {
      result = status >= 200 && status < 300 ? RequestEnd.Result.SUCCESS : RequestEnd.Result.FAILED;
    }
    core.requestEnded(RequestEnd.builder(start).result(result).attempts(attempts).status(status).bodyEnd(end)
        .endNanos(now).build());
  }

  /**
   * The call threw {@code t} after {@code attempts} attempts; {@code cancelled}: the caller gave up
   * (a cancel or an interrupt).
   */
  public void threw(Throwable t, boolean cancelled, int attempts, long now) {
    if (start == null || !DONE.compareAndSet(this, 0, 1)) {
      return;
    }
    RequestEnd.Builder b = RequestEnd.builder(start).attempts(attempts).exceptionClass(t.getClass().getName())
        .endNanos(now);
    if (cancelled) {
      b.result(RequestEnd.Result.CANCELLED);
    } else if (attempts == 0 && t instanceof NoProviderAvailableException) {
      b.result(RequestEnd.Result.REFUSED).reason(t.getMessage()); // the pool's own text: names and states
    } else {
      b.result(RequestEnd.Result.FAILED);
    }
    core.requestEnded(b.build());
  }
}
