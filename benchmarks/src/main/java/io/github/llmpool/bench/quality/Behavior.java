package io.github.llmpool.bench.quality;

/**
 * How a fake provider answers, in world time. An answer of {@code n} tokens takes {@code ttftMs}
 * to its first token, then {@code perTokenMs} per token; a non-streamed answer arrives whole at
 * the end. Failures are drawn per request, in this order: {@code p429} (429 with
 * {@code Retry-After: retryAfterSec}, omitted when negative), {@code p503}, {@code pReset} (the
 * connection is closed before any response byte), {@code pCut} (a stream stops halfway and the
 * connection closes). {@code quota} answers every request with a 429 {@code insufficient_quota};
 * {@code refuse} takes the server off its port (connection refused).
 *
 * <p>{@code capacity} is the number of answers the provider generates at once; more wait in a FIFO
 * queue (0: unlimited). Immutable.
 */
record Behavior(
    double ttftMs,
    double perTokenMs,
    int capacity,
    double p429,
    double retryAfterSec,
    boolean quota,
    double p503,
    double pReset,
    double pCut,
    boolean refuse) {

  /** World time of a 429 or 503 answer: a fast rejection. */
  static final double ERROR_MS = 20;

  static Behavior healthy(double ttftMs, double perTokenMs) {
    return new Behavior(ttftMs, perTokenMs, 0, 0, -1, false, 0, 0, 0, false);
  }

  /** Time to first token and per-token time multiplied by {@code factor}. */
  Behavior slower(double factor) {
    return new Behavior(ttftMs * factor, perTokenMs * factor, capacity, p429, retryAfterSec, quota, p503, pReset,
        pCut, refuse);
  }

  Behavior rateLimited(double p, double retryAfterSec) {
    return new Behavior(ttftMs, perTokenMs, capacity, p, retryAfterSec, quota, p503, pReset, pCut, refuse);
  }

  Behavior quotaExhausted() {
    return new Behavior(ttftMs, perTokenMs, capacity, p429, retryAfterSec, true, p503, pReset, pCut, refuse);
  }

  Behavior failing(double p503, double pReset, double pCut) {
    return new Behavior(ttftMs, perTokenMs, capacity, p429, retryAfterSec, quota, p503, pReset, pCut, refuse);
  }

  Behavior refusing() {
    return new Behavior(ttftMs, perTokenMs, capacity, p429, retryAfterSec, quota, p503, pReset, pCut, true);
  }

  /** One stretch of a provider's timeline, {@code [fromSec, toSec)} world seconds from the start. */
  record Phase(double fromSec, double toSec, Behavior behavior) {}
}
