package io.github.llmpool;

/**
 * Receives one {@link TokenUsage} per attempt, exactly once, on the thread that finished the
 * attempt's body (the caller's reading thread, or the interceptor's thread for discarded attempts).
 * Registered with {@code ProviderPool.Builder.onUsage(...)}, as many as needed: each gets every
 * record, in registration order. Keep it fast; an exception it throws is caught and logged (by
 * class and origin, never its message) and breaks neither the call nor the other listeners.
 */
@FunctionalInterface
public interface UsageListener {
  /**
   * Receives the record of one attempt, exactly once, on the thread that ended the attempt's body;
   * keep it short. A listener that throws is logged and ignored.
   *
   * @param usage the attempt's tokens, timings and how its body ended
   */
  void onUsage(TokenUsage usage);
}
