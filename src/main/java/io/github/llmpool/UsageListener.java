package io.github.llmpool;

/**
 * Receives one {@link TokenUsage} per attempt, exactly once, on the thread that finished the
 * attempt's body (the caller's reading thread, or the interceptor's thread for discarded attempts).
 * Keep it fast; an exception it throws is caught and logged and never breaks the call.
 */
@FunctionalInterface
public interface UsageListener {
  void onUsage(TokenUsage usage);
}
