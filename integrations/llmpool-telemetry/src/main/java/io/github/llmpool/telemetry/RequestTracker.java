package io.github.llmpool.telemetry;

import io.github.llmpool.PoolEvent;
import io.github.llmpool.PoolListener;
import io.github.llmpool.TokenUsage;
import io.github.llmpool.UsageListener;
import io.github.llmpool.spi.AttemptEnd;
import io.github.llmpool.spi.AttemptListener;
import io.github.llmpool.spi.AttemptStart;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Groups a pool's attempts into logical requests from the exported hooks alone, and hands each
 * attempt and each ended request to a {@link Sink}.
 *
 * <p>What it relies on (the core's documented hook order): the attempts of one request are
 * dispatched one after the other on the thread that executes the call, numbered from 1
 * ({@link AttemptStart#attempt()}); an attempt's {@link TokenUsage} is delivered just before its
 * {@link AttemptEnd}, on the same thread; {@code PoolEvent.Exhausted} is emitted on the call's
 * thread when the pool stops trying. So: attempt 1 opens a request (kept in a thread-local for
 * the attempts that follow); an attempt whose end leaves nothing to try ({@code isLast})
 * closes it; an attempt that failed before any answer closes it only if {@code Exhausted}
 * follows. A request refused before any attempt (a drained pool, every provider out under
 * fail-fast) makes no attempt and is not seen.
 *
 * <p>Register one tracker as all three hooks of a pool's builder:
 * {@code builder.onAttempt(t).onEvent(t).onUsage(t)}. Thread-safe. This is support code shared by
 * {@code llmpool-micrometer} and {@code llmpool-opentelemetry}, so that both group requests the
 * same way; applications use those modules.
 */
public final class RequestTracker implements AttemptListener, PoolListener, UsageListener {

  /**
   * Where the tracker's findings go. Called on the threads of the hooks; must be thread-safe.
   * Every method does nothing by default.
   */
  public interface Sink {
    /**
     * Attempt {@code s} of {@code r} was dispatched ({@code r} already counts it).
     *
     * @param r its request
     * @param s the attempt
     * @param sameTier null for a request's first attempt; else whether this failover stays in the
     *     previous attempt's tier
     */
    default void started(TrackedRequest r, AttemptStart s, Boolean sameTier) {}

    /**
     * Attempt {@code s} of {@code r} ended ({@code r} already holds its status, result and tokens).
     *
     * @param r its request
     * @param s the attempt
     * @param e its end
     * @param usage its usage, or null when it reported none
     */
    default void attemptEnded(TrackedRequest r, AttemptStart s, AttemptEnd e, TokenUsage usage) {}

    /**
     * Request {@code r} ended with attempt {@code last} (after its {@link #attemptEnded}).
     *
     * @param r the request
     * @param last its last attempt
     * @param end that attempt's end
     */
    default void requestEnded(TrackedRequest r, AttemptStart last, AttemptEnd end) {}

    /**
     * A pool event (after the tracker used it).
     *
     * @param e the event
     */
    default void event(PoolEvent e) {}
  }

  private final Sink[] sinks;
  private final ConcurrentHashMap<AttemptStart, TrackedRequest> open = new ConcurrentHashMap<>();
  /** The request whose attempts run on this thread (the failover loop runs on the call's thread). */
  private final ThreadLocal<TrackedRequest> current = new ThreadLocal<>();
  /** The usage of the attempt ending on this thread, delivered just before its end. */
  private final ThreadLocal<TokenUsage> usage = new ThreadLocal<>();
  /** The last attempt of a request awaiting Exhausted, per thread. */
  private final ThreadLocal<Object[]> awaiting = ThreadLocal.withInitial(() -> new Object[2]);

  private final boolean keepAttempts;

  /**
   * A tracker handing its findings to {@code sinks}, in order.
   *
   * @param keepAttempts whether each request keeps every attempt's provider, tier, status and
   *     result ({@link TrackedRequest#provider(int)} and the like; an audit log lists them)
   * @param sinks where the findings go
   */
  public RequestTracker(boolean keepAttempts, Sink... sinks) {
    this.keepAttempts = keepAttempts;
    this.sinks = sinks.clone();
  }

  @Override
  public void onStart(AttemptStart s) {
    TrackedRequest r = s.attempt() > 1 ? current.get() : null;
    Boolean sameTier = null;
    if (r != null && !r.ended && r.pool.equals(s.pool()) && r.attempts == s.attempt() - 1) {
      sameTier = r.lastTier == s.tier();
    } else {
      r = new TrackedRequest(s, keepAttempts);
    }
    Object[] a = awaiting.get();
    a[0] = null;
    a[1] = null;
    r.started(s);
    current.set(r);
    open.put(s, r);
    for (Sink k : sinks) {
      k.started(r, s, sameTier);
    }
  }

  @Override
  public void onUsage(TokenUsage u) {
    usage.set(u);
  }

  @Override
  public void onEnd(AttemptEnd e) {
    AttemptStart s = e.start();
    TrackedRequest r = open.remove(s);
    TokenUsage u = usage.get();
    if (u != null) {
      usage.set(null);
      if (u.attempt() != s.attempt() || !u.provider().equals(s.provider())) {
        u = null; // not this attempt's (defensive: never seen with the core's order)
      }
    }
    if (r == null) {
      return;
    }
    if (TrackedRequest.isLast(e)) {
      r.ended(s, e, u);
      for (Sink k : sinks) {
        k.attemptEnded(r, s, e, u);
      }
      end(r, s, e);
      return;
    }
    r.ended(s, e, u);
    r.priorNanos += e.duration().toNanos();
    for (Sink k : sinks) {
      k.attemptEnded(r, s, e, u);
    }
    if (e.bodyEnd().isEmpty()) { // failed before any answer: Exhausted (same thread) would end the request
      r.awaitingNext = true;
      Object[] a = awaiting.get();
      a[0] = r;
      a[1] = e;
    }
  }

  @Override
  public void onEvent(PoolEvent e) {
    if (e instanceof PoolEvent.Exhausted x) {
      TrackedRequest r = current.get();
      if (r != null && !r.ended) {
        r.stop = x.reason();
        Object[] a = awaiting.get();
        if (a[0] == r && r.awaitingNext) {
          AttemptEnd last = (AttemptEnd) a[1];
          a[0] = null;
          a[1] = null;
          r.priorNanos -= last.duration().toNanos(); // counted as the last attempt, not a prior one
          end(r, last.start(), last);
        }
      }
    }
    for (Sink k : sinks) {
      k.event(e);
    }
  }

  private void end(TrackedRequest r, AttemptStart s, AttemptEnd e) {
    if (r.ended) {
      return;
    }
    r.ended = true;
    if (current.get() == r) {
      current.set(null);
    }
    for (Sink k : sinks) {
      k.requestEnded(r, s, e);
    }
  }
}
