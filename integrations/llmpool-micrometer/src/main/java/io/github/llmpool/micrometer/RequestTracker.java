package io.github.llmpool.micrometer;

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
 * the attempts that follow); an attempt whose end leaves nothing to try ({@link Request#isLast})
 * closes it; an attempt that failed before any answer closes it only if {@code Exhausted}
 * follows. A request refused before any attempt (a drained pool, every provider out under
 * fail-fast) makes no attempt and is not seen.
 */
final class RequestTracker implements AttemptListener, PoolListener, UsageListener {

  /** Where the tracker's findings go. Called on the threads of the hooks; must be thread-safe. */
  interface Sink {
    /** Attempt {@code s} was dispatched; {@code failover} is null for a first attempt, else whether it stays in its tier. */
    default void started(AttemptStart s, Boolean sameTier) {}

    /** Attempt {@code s} of {@code r} ended ({@code usage} null when it reported none). */
    default void attemptEnded(Request r, AttemptStart s, AttemptEnd e, TokenUsage usage) {}

    /** Request {@code r} ended with attempt {@code last}. */
    default void requestEnded(Request r, AttemptStart last, AttemptEnd end) {}

    /** A pool event. */
    default void event(PoolEvent e) {}
  }

  private final Sink[] sinks;
  private final ConcurrentHashMap<AttemptStart, Request> open = new ConcurrentHashMap<>();
  /** The request whose attempts run on this thread (the failover loop runs on the call's thread). */
  private final ThreadLocal<Request> current = new ThreadLocal<>();
  /** The usage of the attempt ending on this thread, delivered just before its end. */
  private final ThreadLocal<TokenUsage> usage = new ThreadLocal<>();
  /** The last attempt of a request awaiting Exhausted, per thread. */
  private final ThreadLocal<Object[]> awaiting = ThreadLocal.withInitial(() -> new Object[2]);

  private final boolean keepAttempts;

  /** {@code keepAttempts}: keep each attempt's provider, tier, status and result (the audit log lists them). */
  RequestTracker(boolean keepAttempts, Sink... sinks) {
    this.keepAttempts = keepAttempts;
    this.sinks = sinks.clone();
  }

  @Override
  public void onStart(AttemptStart s) {
    Request r = s.attempt() > 1 ? current.get() : null;
    Boolean sameTier = null;
    if (r != null && !r.ended && r.pool.equals(s.pool()) && r.attempts == s.attempt() - 1) {
      sameTier = r.lastTier == s.tier();
    } else {
      r = new Request(s, keepAttempts);
    }
    Object[] a = awaiting.get();
    a[0] = null;
    a[1] = null;
    r.started(s);
    current.set(r);
    open.put(s, r);
    for (Sink k : sinks) {
      k.started(s, sameTier);
    }
  }

  @Override
  public void onUsage(TokenUsage u) {
    usage.set(u);
  }

  @Override
  public void onEnd(AttemptEnd e) {
    AttemptStart s = e.start();
    Request r = open.remove(s);
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
    if (Request.isLast(e)) {
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
      Request r = current.get();
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

  private void end(Request r, AttemptStart s, AttemptEnd e) {
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
