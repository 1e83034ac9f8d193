package io.github.llmpool;

/**
 * Receives {@link PoolEvent}s: evictions, restorations, probes, retries, failovers, exhaustion.
 * Called synchronously on the request's thread; keep it fast. An exception it throws is caught and
 * logged and never breaks the call. No event is built when no listener is registered.
 */
@FunctionalInterface
public interface PoolListener {
  void onEvent(PoolEvent event);
}
