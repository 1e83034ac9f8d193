package io.github.llmpool;

import java.time.Duration;

/** Immutable events about the pool's providers and failovers. None carries a key or a body. */
public sealed interface PoolEvent {

  /** The provider the event is about (for {@link Exhausted}, the last one tried). */
  String provider();

  /**
   * A provider left the rotation.
   *
   * @param cause the outcome that evicted it
   * @param status the HTTP status, or -1 for an exception
   * @param duration how long it is out from now (the deadline may have been kept later than this
   *     attempt's own estimate: evictions never shorten)
   * @param serverHint whether the duration came from the response ({@code Retry-After} and kin)
   * @param ejections consecutive ejections so far
   */
  record Evicted(String provider, int tier, Outcome cause, int status, Duration duration,
      boolean serverHint, int ejections) implements PoolEvent {}

  /** A probe succeeded (or traffic succeeded while evicted): full traffic again. */
  record Restored(String provider, int tier) implements PoolEvent {}

  /** The eviction ended; this single request probes the provider. */
  record Probing(String provider, int tier) implements PoolEvent {}

  /** An attempt failed retryably; the request will try another provider. */
  record Retried(String provider, int tier, int attempt, Outcome cause, int status) implements PoolEvent {}

  /** A retry went to a provider in another tier than the previous attempt. */
  record FailedOver(String provider, int tier, String from, int fromTier, int attempt) implements PoolEvent {}

  /**
   * A logical request ended without success after {@code attempts} attempts (attempts or retry
   * budget ran out, or no provider was left).
   */
  record Exhausted(String provider, int attempts, Outcome lastCause, int lastStatus, String reason) implements PoolEvent {}

  /**
   * An operator took the provider out of rotation ({@code pool.drain}, {@code drainTier} or
   * {@code drainAll}): no new attempt goes to it; attempts in flight finish.
   */
  record Drained(String provider, int tier) implements PoolEvent {}

  /** The provider is back in rotation after a drain ({@code pool.resume}, {@code resumeTier} or {@code resumeAll}). */
  record Resumed(String provider, int tier) implements PoolEvent {}
}
