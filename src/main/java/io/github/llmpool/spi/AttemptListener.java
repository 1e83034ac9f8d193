package io.github.llmpool.spi;

/**
 * Hooks for metrics and tracing around every attempt a pool makes: {@link #onStart} when an
 * attempt is dispatched to a provider, {@link #onEnd} exactly once when it ends, whichever way
 * (an exception before the response, a response the pool discards to fail over, or the end,
 * early close or failure of the body the caller reads). Register with
 * {@code ProviderPool.Builder.onAttempt(...)}; several listeners compose.
 *
 * <pre>{@code
 * ProviderPool.builder()
 *     .onAttempt(new AttemptListener() {
 *       public void onStart(AttemptStart s) { spans.put(s, tracer.start(s.pool(), s.provider())); }
 *       public void onEnd(AttemptEnd e) { spans.remove(e.start()).end(e.outcome().orElse(null)); }
 *     })
 * }</pre>
 *
 * <p>Both methods do nothing by default: implement either or both. {@code onStart} runs on the
 * thread that executes the call, before the request is sent; {@code onEnd} runs on the thread
 * that finished the attempt (the caller's reading thread for a body it reads), after the pool has
 * recorded the outcome and after the attempt's {@code TokenUsage}, if any, was delivered;
 * {@link AttemptEnd#start()} is the very {@link AttemptStart} given to {@code onStart}, so it
 * can key a map of spans. Keep both fast and non-blocking. An exception either throws is caught
 * and logged (by class and origin, never by its message) and breaks neither the call nor the
 * other listeners. When no attempt listener is registered the pool builds no
 * {@code AttemptStart} or {@code AttemptEnd} at all.
 */
public interface AttemptListener {

  /** An attempt was dispatched to {@link AttemptStart#provider()}. Default: nothing. */
  default void onStart(AttemptStart start) {}

  /** The attempt that began with {@link AttemptEnd#start()} ended. Default: nothing. */
  default void onEnd(AttemptEnd end) {}
}
