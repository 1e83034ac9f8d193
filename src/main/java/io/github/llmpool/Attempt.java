package io.github.llmpool;

import java.time.Duration;
import java.util.Objects;
import java.util.Optional;

/**
 * One attempt of a logical request, as listed by {@link LlmPoolException#attempts()}.
 *
 * <p>Immutable and thread-safe. A final class rather than a record, so that a field can be added
 * (with a new constructor beside this one) without breaking code that reads or builds attempts.
 */
public final class Attempt {
  private final String provider;
  private final int tier;
  private final int status;
  private final Outcome outcome;
  private final String error; // null: absent
  private final Duration duration;

  /**
   * For the pool and for tests.
   *
   * @param provider the provider tried
   * @param tier its tier
   * @param status the HTTP status, or -1 when the attempt ended with an exception
   * @param outcome the classification
   * @param error the exception's class and message, or null when the attempt got a response
   * @param duration from dispatch to the outcome
   * @throws NullPointerException if {@code provider}, {@code outcome} or {@code duration} is null
   */
  public Attempt(String provider, int tier, int status, Outcome outcome, String error, Duration duration) {
    this.provider = Objects.requireNonNull(provider, "provider");
    this.tier = tier;
    this.status = status;
    this.outcome = Objects.requireNonNull(outcome, "outcome");
    this.error = error;
    this.duration = Objects.requireNonNull(duration, "duration");
  }

  /** The provider tried. */
  public String provider() {
    return provider;
  }

  /** Its tier, 0 = first. */
  public int tier() {
    return tier;
  }

  /** The HTTP status, or -1 when the attempt ended with an exception. */
  public int status() {
    return status;
  }

  /** The classification. */
  public Outcome outcome() {
    return outcome;
  }

  /**
   * The exception's class and message when the attempt ended with one; empty when it got a
   * response. Every credential value the pool has been configured with is masked ({@code ****}) in
   * it: an upstream may echo one back.
   */
  public Optional<String> error() {
    return Optional.ofNullable(error);
  }

  /** From dispatch to the outcome. */
  public Duration duration() {
    return duration;
  }

  /** Equal when every field is equal. */
  @Override
  public boolean equals(Object o) {
    return o instanceof Attempt a && provider.equals(a.provider) && tier == a.tier && status == a.status
        && outcome == a.outcome && Objects.equals(error, a.error) && duration.equals(a.duration);
  }

  @Override
  public int hashCode() {
    return Objects.hash(provider, tier, status, outcome, error, duration);
  }

  /** For example {@code a (tier 0): HTTP 503 [SERVER_ERROR] in 12 ms}. */
  @Override
  public String toString() {
    return provider + " (tier " + tier + "): " + (status >= 0 ? "HTTP " + status : error) + " [" + outcome + "] in "
        + duration.toMillis() + " ms";
  }
}
