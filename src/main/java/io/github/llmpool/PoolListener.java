package io.github.llmpool;

/**
 * Receives {@link PoolEvent}s: evictions, restorations, probes, retries, failovers, exhaustion,
 * drains and resumes. Registered with {@code ProviderPool.Builder.onEvent(...)}, as many as
 * needed: each gets every event, in registration order. Called synchronously on the thread that
 * caused the event (a request's, or the one that called {@code drain}); keep it fast. An exception
 * it throws is caught and logged (by class and origin, never its message) and breaks neither the
 * call nor the other listeners. No event is built when no listener is registered.
 */
@FunctionalInterface
public interface PoolListener {
  /**
   * Receives one event, on the thread where it happened; keep it short. A listener that throws is
   * logged and ignored.
   *
   * @param event what happened (types may be added: handle unknown ones)
   */
  void onEvent(PoolEvent event);
}
