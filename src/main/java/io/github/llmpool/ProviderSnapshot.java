package io.github.llmpool;

import java.time.Duration;

/**
 * An immutable view of one provider at one instant.
 *
 * @param name the provider's name
 * @param tier its tier, 0 = first
 * @param weight its weight within the tier
 * @param status available, evicted, probing or drained
 * @param evictedFor time left until the eviction ends (zero when not evicted)
 * @param ejections consecutive ejections (reset by a success)
 * @param inFlight attempts dispatched whose response body has not finished
 * @param latencyEstimate the current (decayed) latency estimate used by P2C
 * @param requests attempts dispatched
 * @param successes attempts that ended well (2xx, body not failed)
 * @param clientErrors attempts answered with the caller's fault (4xx other than 408/429)
 * @param failures attempts that failed (retryable status, exception, body cut)
 * @param promptTokens cumulative prompt/input tokens reported
 * @param completionTokens cumulative completion/output tokens reported
 * @param totalTokens cumulative total tokens reported
 * @param cachedTokens cumulative cached prompt tokens reported
 * @param reasoningTokens cumulative reasoning tokens reported
 */
public record ProviderSnapshot(
    String name,
    int tier,
    int weight,
    Status status,
    Duration evictedFor,
    int ejections,
    long inFlight,
    Duration latencyEstimate,
    long requests,
    long successes,
    long clientErrors,
    long failures,
    long promptTokens,
    long completionTokens,
    long totalTokens,
    long cachedTokens,
    long reasoningTokens) {

  /** A provider's place in the rotation. */
  public enum Status {
    AVAILABLE,
    EVICTED,
    /** The eviction ended; one probe request decides (in flight, or waiting for the next request). */
    PROBING,
    /**
     * Taken out of rotation by {@code pool.drain}, {@code drainTier} or {@code drainAll}: no new
     * attempt, not even a probe; attempts in flight finish and count. {@code evictedFor} still
     * shows an eviction in force.
     */
    DRAINED
  }
}
