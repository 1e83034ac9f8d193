package io.github.llmpool;

import java.time.Duration;
import java.util.List;

/**
 * Every provider of every tier is evicted (or was already tried), and the pool's
 * {@link AllEvictedPolicy} did not send the request anywhere. The message names every provider
 * and when it returns; {@link #earliestReturn()} says when the first one does.
 */
public final class NoProviderAvailableException extends LlmPoolException {
  private static final long serialVersionUID = 1L;

  private final Duration earliestReturn;

  public NoProviderAvailableException(String message, Duration earliestReturn, List<Attempt> attempts) {
    super(message, attempts, null);
    this.earliestReturn = earliestReturn;
  }

  /** Time until the first provider's eviction ends (zero when one is waiting for its probe). */
  public Duration earliestReturn() {
    return earliestReturn;
  }
}
