package io.github.llmpool.internal.route;

/**
 * Where a P2C tier hands a provider that is due a probe ({@code P2cSettings.probes}): a request of
 * the pool's own that re-measures a provider whose estimate is still bad, in place of a caller's
 * request. Implemented by the engine; thread-safe.
 */
public interface ProbeSink {
  /** Whether {@code slot} can be probed at {@code now} (the pool knows a request to probe it with, and has not probed it within its wait). */
  boolean canProbe(Slot slot, long now);

  /** {@code slot} is due a probe at {@code now}: queued for the picking thread to send (nothing when one is queued or in flight). */
  void probeDue(Slot slot, long now);
}
