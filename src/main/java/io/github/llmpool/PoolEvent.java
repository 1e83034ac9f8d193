package io.github.llmpool;

import java.time.Duration;
import java.util.Objects;

/**
 * Immutable events about the pool's providers and failovers, delivered to a {@link PoolListener}.
 * None carries a key or a body.
 *
 * <p>Every event names the provider it is about and that provider's tier. The event types are the
 * final nested classes below; more may be added in any release, so code that tells them apart must
 * handle types it does not know:
 *
 * <pre>{@code
 * // Java 17
 * if (event instanceof PoolEvent.Evicted e) {
 *   alert(e.provider(), e.duration());
 * } else if (event instanceof PoolEvent.Restored r) {
 *   clear(r.provider());
 * } else {
 *   log.debug("{}", event); // any other type, present or future
 * }
 *
 * // Java 21
 * switch (event) {
 *   case PoolEvent.Evicted e -> alert(e.provider(), e.duration());
 *   case PoolEvent.Restored r -> clear(r.provider());
 *   default -> log.debug("{}", event); // required: PoolEvent is not sealed
 * }
 * }</pre>
 *
 * <p>{@code PoolEvent} is an abstract class, not a sealed interface, so that adding an event type
 * never breaks a user's switch (the compiler insists on the {@code default}), and its constructor
 * is package-private, so that only the library makes event types and an accessor shared by every
 * event can be added here without breaking anyone. The event types are final classes rather than
 * records, so that one can gain a field (a new accessor, a new constructor beside the old one)
 * without breaking code that reads or builds it. Their public constructors are for the pool and
 * for tests (a listener's test may build the events it expects); they validate their arguments.
 *
 * <p>Equality is by value: the same type with equal fields. {@code toString} names the type and
 * every field, e.g. {@code Restored[provider=a, tier=0]}.
 */
public abstract class PoolEvent {
  private final String provider;
  private final int tier;

  PoolEvent(String provider, int tier) {
    this.provider = Objects.requireNonNull(provider, "provider");
    this.tier = Checks.atLeast("tier", tier, 0);
  }

  /** The provider the event is about (for {@link Exhausted}, the last one tried). */
  public final String provider() {
    return provider;
  }

  /** That provider's tier, 0 = first. */
  public final int tier() {
    return tier;
  }

  // What every event shares goes here, after provider and tier (the pool's name, pool(), is next):
  // a field of this class, a parameter of the package-private constructor, and a new constructor
  // beside each event type's existing one, which stays and supplies a documented default.

  /** Whether {@code o} is an event of the same type about the same provider and tier. */
  final boolean sameHead(Object o) {
    return o != null && o.getClass() == getClass() && provider.equals(((PoolEvent) o).provider)
        && tier == ((PoolEvent) o).tier;
  }

  /**
   * Equal to an event of the same type about the same provider and tier; an event type with fields
   * of its own compares them too.
   */
  @Override
  public boolean equals(Object o) {
    return sameHead(o);
  }

  @Override
  public int hashCode() {
    return Objects.hash(getClass().getSimpleName(), provider, tier);
  }

  /** {@code Type[provider=p, tier=t]}; an event type with fields of its own lists them too. */
  @Override
  public String toString() {
    return head().append(']').toString();
  }

  /** {@code Type[provider=p, tier=t} without the closing bracket, for a subclass to continue. */
  final StringBuilder head() {
    return new StringBuilder(getClass().getSimpleName()).append("[provider=").append(provider).append(", tier=")
        .append(tier);
  }

  /**
   * A provider left the rotation.
   */
  public static final class Evicted extends PoolEvent {
    private final Outcome cause;
    private final int status;
    private final Duration duration;
    private final boolean serverHint;
    private final int ejections;

    /**
     * For the pool and for tests.
     *
     * @param provider the provider evicted
     * @param tier its tier
     * @param cause the outcome that evicted it
     * @param status the HTTP status, or -1 for an exception
     * @param duration how long it is out from now
     * @param serverHint whether the duration came from the response
     * @param ejections consecutive ejections so far
     * @throws NullPointerException if {@code provider}, {@code cause} or {@code duration} is null
     * @throws IllegalArgumentException if {@code tier} or {@code ejections} is negative, {@code status}
     *     below -1, or {@code duration} negative
     */
    public Evicted(String provider, int tier, Outcome cause, int status, Duration duration, boolean serverHint,
        int ejections) {
      super(provider, tier);
      this.cause = Objects.requireNonNull(cause, "cause");
      this.status = Checks.atLeast("status", status, -1);
      this.duration = Checks.nonNegative("duration", Objects.requireNonNull(duration, "duration"));
      this.serverHint = serverHint;
      this.ejections = Checks.atLeast("ejections", ejections, 0);
    }

    /** The outcome that evicted it. */
    public Outcome cause() {
      return cause;
    }

    /** The HTTP status, or -1 when the attempt ended with an exception. */
    public int status() {
      return status;
    }

    /**
     * How long it is out from now (the deadline may have been kept later than this attempt's own
     * estimate: evictions never shorten).
     */
    public Duration duration() {
      return duration;
    }

    /** Whether the duration came from the response ({@code Retry-After} and kin). */
    public boolean serverHint() {
      return serverHint;
    }

    /** Consecutive ejections so far. */
    public int ejections() {
      return ejections;
    }

    @Override
    public boolean equals(Object o) {
      return sameHead(o) && o instanceof Evicted e && cause == e.cause && status == e.status
          && duration.equals(e.duration) && serverHint == e.serverHint && ejections == e.ejections;
    }

    @Override
    public int hashCode() {
      return Objects.hash(provider(), tier(), cause, status, duration, serverHint, ejections);
    }

    @Override
    public String toString() {
      return head().append(", cause=").append(cause).append(", status=").append(status).append(", duration=")
          .append(duration).append(", serverHint=").append(serverHint).append(", ejections=").append(ejections)
          .append(']').toString();
    }
  }

  /** A probe succeeded (or traffic succeeded while evicted): full traffic again. */
  public static final class Restored extends PoolEvent {
    /**
     * For the pool and for tests.
     *
     * @param provider the provider restored
     * @param tier its tier
     * @throws NullPointerException if {@code provider} is null
     * @throws IllegalArgumentException if {@code tier} is negative
     */
    public Restored(String provider, int tier) {
      super(provider, tier);
    }
  }

  /** The eviction ended; this single request probes the provider. */
  public static final class Probing extends PoolEvent {
    /**
     * For the pool and for tests.
     *
     * @param provider the provider probed
     * @param tier its tier
     * @throws NullPointerException if {@code provider} is null
     * @throws IllegalArgumentException if {@code tier} is negative
     */
    public Probing(String provider, int tier) {
      super(provider, tier);
    }
  }

  /** An attempt failed retryably; the request will try another provider. */
  public static final class Retried extends PoolEvent {
    private final int attempt;
    private final Outcome cause;
    private final int status;

    /**
     * For the pool and for tests.
     *
     * @param provider the provider of the failed attempt
     * @param tier its tier
     * @param attempt the failed attempt's number, from 1
     * @param cause its outcome
     * @param status the HTTP status, or -1 for an exception
     * @throws NullPointerException if {@code provider} or {@code cause} is null
     * @throws IllegalArgumentException if {@code tier} is negative, {@code attempt} below 1 or
     *     {@code status} below -1
     */
    public Retried(String provider, int tier, int attempt, Outcome cause, int status) {
      super(provider, tier);
      this.attempt = Checks.atLeast("attempt", attempt, 1);
      this.cause = Objects.requireNonNull(cause, "cause");
      this.status = Checks.atLeast("status", status, -1);
    }

    /** The failed attempt's number within its logical request, from 1. */
    public int attempt() {
      return attempt;
    }

    /** The failed attempt's outcome. */
    public Outcome cause() {
      return cause;
    }

    /** The HTTP status, or -1 when the attempt ended with an exception. */
    public int status() {
      return status;
    }

    @Override
    public boolean equals(Object o) {
      return sameHead(o) && o instanceof Retried r && attempt == r.attempt && cause == r.cause && status == r.status;
    }

    @Override
    public int hashCode() {
      return Objects.hash(provider(), tier(), attempt, cause, status);
    }

    @Override
    public String toString() {
      return head().append(", attempt=").append(attempt).append(", cause=").append(cause).append(", status=")
          .append(status).append(']').toString();
    }
  }

  /** A retry went to a provider in another tier than the previous attempt. */
  public static final class FailedOver extends PoolEvent {
    private final String from;
    private final int fromTier;
    private final int attempt;

    /**
     * For the pool and for tests.
     *
     * @param provider the provider the retry went to
     * @param tier its tier
     * @param from the provider of the previous attempt
     * @param fromTier that provider's tier
     * @param attempt the number of the attempt that failed over, from 2
     * @throws NullPointerException if {@code provider} or {@code from} is null
     * @throws IllegalArgumentException if {@code tier} or {@code fromTier} is negative, or
     *     {@code attempt} below 2
     */
    public FailedOver(String provider, int tier, String from, int fromTier, int attempt) {
      super(provider, tier);
      this.from = Objects.requireNonNull(from, "from");
      this.fromTier = Checks.atLeast("fromTier", fromTier, 0);
      this.attempt = Checks.atLeast("attempt", attempt, 2);
    }

    /** The provider of the previous attempt. */
    public String from() {
      return from;
    }

    /** That provider's tier. */
    public int fromTier() {
      return fromTier;
    }

    /** The number of the attempt that went to {@link #provider()}, from 2. */
    public int attempt() {
      return attempt;
    }

    @Override
    public boolean equals(Object o) {
      return sameHead(o) && o instanceof FailedOver f && from.equals(f.from) && fromTier == f.fromTier
          && attempt == f.attempt;
    }

    @Override
    public int hashCode() {
      return Objects.hash(provider(), tier(), from, fromTier, attempt);
    }

    @Override
    public String toString() {
      return head().append(", from=").append(from).append(", fromTier=").append(fromTier).append(", attempt=")
          .append(attempt).append(']').toString();
    }
  }

  /**
   * A logical request ended without success after {@link #attempts()} attempts (attempts or retry
   * budget ran out, or no provider was left). {@link #provider()} and {@link #tier()} are those of
   * the last attempt.
   */
  public static final class Exhausted extends PoolEvent {
    private final int attempts;
    private final Outcome lastCause;
    private final int lastStatus;
    private final String reason;

    /**
     * For the pool and for tests.
     *
     * @param provider the provider of the last attempt
     * @param tier its tier
     * @param attempts the attempts made
     * @param lastCause the last attempt's outcome
     * @param lastStatus its HTTP status, or -1 for an exception
     * @param reason why no further attempt was made
     * @throws NullPointerException if {@code provider}, {@code lastCause} or {@code reason} is null
     * @throws IllegalArgumentException if {@code tier} is negative, {@code attempts} below 1 or
     *     {@code lastStatus} below -1
     */
    public Exhausted(String provider, int tier, int attempts, Outcome lastCause, int lastStatus, String reason) {
      super(provider, tier);
      this.attempts = Checks.atLeast("attempts", attempts, 1);
      this.lastCause = Objects.requireNonNull(lastCause, "lastCause");
      this.lastStatus = Checks.atLeast("lastStatus", lastStatus, -1);
      this.reason = Objects.requireNonNull(reason, "reason");
    }

    /** The attempts the request made. */
    public int attempts() {
      return attempts;
    }

    /** The last attempt's outcome. */
    public Outcome lastCause() {
      return lastCause;
    }

    /** The last attempt's HTTP status, or -1 when it ended with an exception. */
    public int lastStatus() {
      return lastStatus;
    }

    /** Why no further attempt was made (attempts used up, retry budget spent, no provider left). */
    public String reason() {
      return reason;
    }

    @Override
    public boolean equals(Object o) {
      return sameHead(o) && o instanceof Exhausted x && attempts == x.attempts && lastCause == x.lastCause
          && lastStatus == x.lastStatus && reason.equals(x.reason);
    }

    @Override
    public int hashCode() {
      return Objects.hash(provider(), tier(), attempts, lastCause, lastStatus, reason);
    }

    @Override
    public String toString() {
      return head().append(", attempts=").append(attempts).append(", lastCause=").append(lastCause)
          .append(", lastStatus=").append(lastStatus).append(", reason=").append(reason).append(']').toString();
    }
  }

  /** An operator took the provider out of rotation ({@code pool.drain}, {@code drainTier} or {@code drainAll}): no new attempt goes to it; attempts in flight finish. */
  public static final class Drained extends PoolEvent {
    /**
     * For the pool and for tests.
     *
     * @param provider the provider drained
     * @param tier its tier
     * @throws NullPointerException if {@code provider} is null
     * @throws IllegalArgumentException if {@code tier} is negative
     */
    public Drained(String provider, int tier) {
      super(provider, tier);
    }
  }

  /** The provider is back in rotation after a drain ({@code pool.resume}, {@code resumeTier} or {@code resumeAll}). */
  public static final class Resumed extends PoolEvent {
    /**
     * For the pool and for tests.
     *
     * @param provider the provider resumed
     * @param tier its tier
     * @throws NullPointerException if {@code provider} is null
     * @throws IllegalArgumentException if {@code tier} is negative
     */
    public Resumed(String provider, int tier) {
      super(provider, tier);
    }
  }

  /**
   * The pool's {@code SharedState} lost its store (a Redis down, stalled or restarting): until
   * {@link SharedStateUp}, the pool decides from its own answers only, as a local-only pool does,
   * and what it learns is published once the store is back. About the pool, not a provider:
   * {@link #provider()} is empty and {@link #tier()} 0. The reason carries no credentials.
   */
  public static final class SharedStateDown extends PoolEvent {
    private final String reason;

    /**
     * For the pool and for tests.
     *
     * @param reason what failed, e.g. {@code connection refused to 127.0.0.1:6379}
     * @throws NullPointerException if {@code reason} is null
     */
    public SharedStateDown(String reason) {
      super("", 0);
      this.reason = Objects.requireNonNull(reason, "reason");
    }

    /** What failed (no credentials). */
    public String reason() {
      return reason;
    }

    @Override
    public boolean equals(Object o) {
      return sameHead(o) && reason.equals(((SharedStateDown) o).reason);
    }

    @Override
    public int hashCode() {
      return Objects.hash(super.hashCode(), reason);
    }

    @Override
    public String toString() {
      return head().append(", reason=").append(reason).append(']').toString();
    }
  }

  /**
   * The pool's {@code SharedState} store is back and resynchronised after a
   * {@link SharedStateDown}. {@link #provider()} is empty and {@link #tier()} 0.
   */
  public static final class SharedStateUp extends PoolEvent {
    /** For the pool and for tests. */
    public SharedStateUp() {
      super("", 0);
    }
  }

  /**
   * A provider ran out of quota headroom: what its rate-limit headers or configured limits say it
   * may still take will not hold the next request before its reset. It is passed over (its tier
   * spills when no other member has room) until it has room again ({@link HeadroomRestored}).
   * Emitted once per spell, when the pool routes on quota.
   */
  public static final class HeadroomExhausted extends PoolEvent {
    private final String quotaGroup;
    private final Duration resetIn;

    /**
     * For the pool and for tests.
     *
     * @param provider the provider
     * @param tier its tier
     * @param quotaGroup its quota group (whose headroom ran out), or null
     * @param resetIn about how long until it has room again
     * @throws NullPointerException if {@code provider} or {@code resetIn} is null
     * @throws IllegalArgumentException if {@code tier} is negative or {@code resetIn} negative
     */
    public HeadroomExhausted(String provider, int tier, String quotaGroup, Duration resetIn) {
      super(provider, tier);
      this.quotaGroup = quotaGroup;
      this.resetIn = Checks.nonNegative("resetIn", Objects.requireNonNull(resetIn, "resetIn"));
    }

    /** The quota group whose headroom ran out, or null when it is the provider's own. */
    public String quotaGroup() {
      return quotaGroup;
    }

    /** About how long until it has room again (the reset or refill it waits for). */
    public Duration resetIn() {
      return resetIn;
    }

    @Override
    public boolean equals(Object o) {
      return sameHead(o) && o instanceof HeadroomExhausted e && Objects.equals(quotaGroup, e.quotaGroup)
          && resetIn.equals(e.resetIn);
    }

    @Override
    public int hashCode() {
      return Objects.hash(provider(), tier(), quotaGroup, resetIn);
    }

    @Override
    public String toString() {
      return head().append(", quotaGroup=").append(quotaGroup).append(", resetIn=").append(resetIn).append(']')
          .toString();
    }
  }

  /** A provider that ran out of quota headroom ({@link HeadroomExhausted}) took a request again. */
  public static final class HeadroomRestored extends PoolEvent {
    private final String quotaGroup;

    /**
     * For the pool and for tests.
     *
     * @param provider the provider
     * @param tier its tier
     * @param quotaGroup its quota group, or null
     * @throws NullPointerException if {@code provider} is null
     * @throws IllegalArgumentException if {@code tier} is negative
     */
    public HeadroomRestored(String provider, int tier, String quotaGroup) {
      super(provider, tier);
      this.quotaGroup = quotaGroup;
    }

    /** The quota group, or null when the headroom is the provider's own. */
    public String quotaGroup() {
      return quotaGroup;
    }

    @Override
    public boolean equals(Object o) {
      return sameHead(o) && o instanceof HeadroomRestored e && Objects.equals(quotaGroup, e.quotaGroup);
    }

    @Override
    public int hashCode() {
      return Objects.hash(provider(), tier(), quotaGroup);
    }

    @Override
    public String toString() {
      return head().append(", quotaGroup=").append(quotaGroup).append(']').toString();
    }
  }
}
