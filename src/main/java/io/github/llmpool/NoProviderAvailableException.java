package io.github.llmpool;

import java.time.Duration;
import java.util.List;

/**
 * Every provider of every tier is evicted, drained (or was already tried), and the pool's
 * {@link AllEvictedPolicy} did not send the request anywhere. The message names every provider
 * and when it returns; {@link #earliestReturn()} says when the first one does. When the pool is
 * drained ({@code pool.drainAll()}, or every provider drained one by one) the request is refused
 * at once and the message says so: {@code no provider available: pool 'chat' is drained (...)}.
 * When budgets alone keep every provider out, the pool throws the subclass
 * {@link BudgetExhaustedException}, so a handler of this exception handles that too.
 */
public class NoProviderAvailableException extends LlmPoolException {
  private static final long serialVersionUID = 1L;

  private final Duration earliestReturn;

  /**
   * For the pool (and tests).
   *
   * @param message every provider and why it could not take the request
   * @param earliestReturn when the first provider returns from its eviction ({@link Duration#ZERO} if unknown)
   * @param attempts the attempts made before nothing was left, in order (copied)
   */
  public NoProviderAvailableException(String message, Duration earliestReturn, List<Attempt> attempts) {
    super(message, attempts, null);
    this.earliestReturn = earliestReturn;
  }

  /**
   * Time until the first provider's eviction ends (zero when one is waiting for its probe). A
   * drain has no deadline: drained providers are left out, and a drained pool says zero.
   */
  public Duration earliestReturn() {
    return earliestReturn;
  }
}
