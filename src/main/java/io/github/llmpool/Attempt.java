package io.github.llmpool;

import java.time.Duration;

/**
 * One attempt of a logical request, as listed by {@link LlmPoolException#attempts()}.
 *
 * @param provider the provider tried
 * @param tier its tier
 * @param status the HTTP status, or -1 when the attempt ended with an exception
 * @param outcome the classification
 * @param error the exception's class and message, or null; every credential value the pool has been
 *     configured with is masked ({@code ****}) in it, an upstream may echo one back
 * @param duration from dispatch to the outcome
 */
public record Attempt(String provider, int tier, int status, Outcome outcome, String error, Duration duration) {

  @Override
  public String toString() {
    return provider + " (tier " + tier + "): " + (status >= 0 ? "HTTP " + status : error) + " [" + outcome + "] in "
        + duration.toMillis() + " ms";
  }
}
