package io.github.llmpool.telemetry;

import io.github.llmpool.PoolEvent;
import io.github.llmpool.PoolListener;
import io.github.llmpool.TokenUsage;
import io.github.llmpool.UsageListener;
import io.github.llmpool.spi.AttemptEnd;
import io.github.llmpool.spi.AttemptListener;
import io.github.llmpool.spi.AttemptStart;
import io.github.llmpool.spi.RequestEnd;
import io.github.llmpool.spi.RequestListener;
import io.github.llmpool.spi.RequestStart;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Groups a pool's attempts into logical requests from the exported hooks alone, and hands each
 * request's start, each attempt and each ended request to a {@link Sink}.
 *
 * <p>The grouping is exact: the core's request hooks open and end each logical request
 * ({@link RequestListener}, exactly one end per start, a request refused before any attempt and a
 * cancelled one included), and every attempt names its request ({@link AttemptStart#requestId()}).
 * Two things still come by the core's documented order: an attempt's {@link TokenUsage} is
 * delivered just before its {@link AttemptEnd}, on the same thread; {@code PoolEvent.Exhausted}
 * is emitted on the call's thread while its request runs (it gives {@link TrackedRequest#stop()}).
 *
 * <p>Register one tracker as all four hooks of a pool's builder:
 * {@code builder.onRequest(t).onAttempt(t).onEvent(t).onUsage(t)} (attempts of a request the
 * tracker did not see start are ignored). Thread-safe. This is support code shared by
 * {@code llmpool-micrometer} and {@code llmpool-opentelemetry}, so that both group requests the
 * same way; applications use those modules.
 */
public final class RequestTracker implements RequestListener, AttemptListener, PoolListener, UsageListener {

  /**
   * Where the tracker's findings go. Called on the threads of the hooks; must be thread-safe.
   * Every method does nothing by default.
   */
  public interface Sink {
    /**
     * Request {@code r} began, on the calling thread, before any attempt.
     *
     * @param r the request, with no attempt yet
     */
    default void requestStarted(TrackedRequest r) {}

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
     * A latency probe of the pool's own ({@link AttemptStart#latencyProbe()}, {@code
     * P2cSettings.probes}) ended: an attempt of no caller's request, billed like one.
     *
     * @param s the probe's start
     * @param e its end
     * @param usage its usage, or null when it reported none
     */
    default void probeEnded(AttemptStart s, AttemptEnd e, TokenUsage usage) {}

    /**
     * Request {@code r} ended ({@link TrackedRequest#end()}), after the {@link #attemptEnded} of
     * its last attempt {@code last}; both are null for a request that made no attempt (refused:
     * {@link TrackedRequest#attempts()} is 0).
     *
     * @param r the request
     * @param last its last attempt, or null
     * @param end that attempt's end, or null
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
  private final ConcurrentHashMap<Long, TrackedRequest> open = new ConcurrentHashMap<>();
  /** The request running on this thread (the failover loop runs on the call's thread): for Exhausted. */
  private final ThreadLocal<TrackedRequest> current = new ThreadLocal<>();
  /** The usage of the attempt ending on this thread, delivered just before its end. */
  private final ThreadLocal<TokenUsage> usage = new ThreadLocal<>();

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
  public void onStart(RequestStart s) {
    TrackedRequest r = new TrackedRequest(s, keepAttempts);
    open.put(s.id(), r);
    current.set(r);
    for (Sink k : sinks) {
      k.requestStarted(r);
    }
  }

  @Override
  public void onStart(AttemptStart s) {
    TrackedRequest r = open.get(s.requestId());
    if (r == null || r.ended) {
      return;
    }
    Boolean sameTier = r.attempts == 0 ? null : r.lastTier == s.tier();
    if (r.lastEnd != null) {
      r.priorNanos += r.lastEnd.duration().toNanos();
      r.lastEnd = null;
    }
    r.started(s);
    r.lastStart = s;
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
    TokenUsage u = usage.get();
    if (u != null) {
      usage.set(null);
      if (u.attempt() != s.attempt() || !u.provider().equals(s.provider())) {
        u = null; // not this attempt's (defensive: never seen with the core's order)
      }
    }
    if (s.latencyProbe()) { // the pool's own request: no caller's request to track
      for (Sink k : sinks) {
        k.probeEnded(s, e, u);
      }
      return;
    }
    TrackedRequest r = open.get(s.requestId());
    if (r == null || r.ended) {
      return;
    }
    r.ended(s, e, u);
    if (r.lastStart == s) {
      r.lastEnd = e;
    }
    for (Sink k : sinks) {
      k.attemptEnded(r, s, e, u);
    }
  }

  @Override
  public void onEnd(RequestEnd e) {
    TrackedRequest r = open.remove(e.start().id());
    if (current.get() == r) {
      current.remove();
    }
    if (r == null || r.ended) {
      return;
    }
    r.ended = true;
    r.end = e;
    AttemptEnd last = r.lastEnd;
    AttemptStart lastStart = last == null ? null : r.lastStart;
    for (Sink k : sinks) {
      k.requestEnded(r, lastStart, last);
    }
  }

  @Override
  public void onEvent(PoolEvent e) {
    if (e instanceof PoolEvent.Exhausted x) {
      TrackedRequest r = current.get();
      if (r != null && !r.ended) {
        r.stop = x.reason();
      }
    }
    for (Sink k : sinks) {
      k.event(e);
    }
  }
}
