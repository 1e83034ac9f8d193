package io.github.llmpool.internal.engine;

import io.github.llmpool.internal.health.ProviderState;
import io.github.llmpool.internal.route.ProbeSink;
import io.github.llmpool.internal.route.Slot;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The pool's probes ({@code P2cSettings.probes}): per provider, the request a probe is sent as
 * (the path, model and token-budget name of the last chat completion the pool sent it), the
 * providers due a probe, and when each was last probed. The P2C tiers queue a provider here
 * ({@link #probeDue}); the thread that picked it sends the probe ({@link #poll}) through the
 * HTTP layer. Thread-safe.
 */
public final class Probes implements ProbeSink {
  /** The chat completion a probe copies: path after the pool's prefix, model (may be null), budget name. */
  public record Template(String restPath, String model, boolean completionTokensNamed) {}

  private static final class Target {
    volatile Template template;
    /** Ticker time of the last probe queued (a provider is probed at most once per {@link #wait}). */
    volatile long probedAt;
    /** Until when probes of it are off (a refusal: until another template; a failure: a while). */
    volatile long refusedUntil;
    volatile boolean refused;
    final AtomicBoolean queued = new AtomicBoolean();

    Target(long now, long wait) {
      this.probedAt = now - wait;
    }
  }

  private final ConcurrentHashMap<ProviderState, Target> targets = new ConcurrentHashMap<>();
  private final ConcurrentLinkedQueue<Slot> due = new ConcurrentLinkedQueue<>();
  private final long wait;

  /** Probes of a provider that failed before an answer pause for this many probe intervals. */
  public static final int FAILED_PAUSE_INTERVALS = 10;

  /** With {@code waitNanos} the shortest time between two probes of one provider ({@code LatencyModel.probeAgeNanos}). */
  public Probes(long waitNanos) {
    this.wait = waitNanos;
  }

  /**
   * The chat completion just sent to {@code slot} ({@code restPath}, {@code model}, whether it named
   * {@code max_completion_tokens}): a probe of it copies this one. Allocates only when it differs
   * from the last one remembered.
   */
  public void remember(Slot slot, String restPath, String model, boolean completionTokensNamed, long now) {
    Target t = targets.get(slot.state);
    if (t == null) {
      t = targets.computeIfAbsent(slot.state, s -> new Target(now, wait));
    }
    Template was = t.template;
    if (was == null || was.completionTokensNamed() != completionTokensNamed || !was.restPath().equals(restPath)
        || !java.util.Objects.equals(was.model(), model)) {
      t.template = new Template(restPath, model, completionTokensNamed);
      t.refused = false; // another model or path: worth a probe again
    }
  }

  /** As above, from a template. */
  public void remember(Slot slot, Template template, long now) {
    remember(slot, template.restPath(), template.model(), template.completionTokensNamed(), now);
  }

  @Override
  public boolean canProbe(Slot slot, long now) {
    Target t = targets.get(slot.state);
    return t != null && t.template != null && !t.refused && now - t.refusedUntil >= 0 && !t.queued.get()
        && now - t.probedAt >= wait;
  }

  @Override
  public void probeDue(Slot slot, long now) {
    Target t = targets.get(slot.state);
    if (t != null && t.template != null && t.queued.compareAndSet(false, true)) {
      t.probedAt = now;
      due.add(slot);
    }
  }

  /** A provider due a probe and the request to send it as, or null when none is due. */
  public Slot poll() {
    return due.isEmpty() ? null : due.poll();
  }

  /** What a probe of {@code slot} is sent as, or null. */
  public Template template(Slot slot) {
    Target t = targets.get(slot.state);
    return t == null ? null : t.template;
  }

  /** The probe of {@code slot} was sent (or could not be): another may be queued after the wait. */
  public void sent(Slot slot) {
    Target t = targets.get(slot.state);
    if (t != null) {
      t.queued.set(false);
    }
  }

  /**
   * The provider refused a probe as a client error (a 4xx other than 429: the probe's request does
   * not suit it): it is not probed again until the pool sends it another model or path, and is
   * explored with callers' requests meanwhile.
   */
  public void refused(Slot slot) {
    Target t = targets.get(slot.state);
    if (t != null) {
      t.refused = true;
    }
  }

  /**
   * A probe of {@code slot} failed before an answer (no connection, a timeout of the probe client):
   * no probes of it for {@link #FAILED_PAUSE_INTERVALS} probe intervals from {@code now}, the
   * provider explored with callers' requests meanwhile.
   */
  public void failed(Slot slot, long now) {
    Target t = targets.get(slot.state);
    if (t != null) {
      t.refusedUntil = now + FAILED_PAUSE_INTERVALS * wait;
    }
  }

  /** The HTTP layer's sender of this pool's probes, set once by it (null until then). */
  private final java.util.concurrent.atomic.AtomicReference<Object> sender = new java.util.concurrent.atomic.AtomicReference<>();

  /** The sender set for this pool, or null while none is. */
  public Object sender() {
    return sender.get();
  }

  /** Sets {@code candidate} as the sender unless one is set; returns the one in force (the first one set wins). */
  public Object sender(Object candidate) {
    return sender.compareAndSet(null, candidate) ? candidate : sender.get();
  }

  /** Whether probes of {@code slot} were refused ({@link #refused}). */
  public boolean isRefused(Slot slot) {
    Target t = targets.get(slot.state);
    return t != null && t.refused;
  }
}
