package io.github.llmpool.spi;

/**
 * Hooks for metrics, tracing and audit around every logical request a pool serves: {@link #onStart}
 * when the pool's interceptor takes a request addressed to the pool, before it chooses a provider,
 * and {@link #onEnd} exactly once when the request ends, whichever way: at the end or close of the
 * final response's body, or when the call throws, including a request refused before any attempt
 * (a drained pool, every provider out under {@code AllEvictedPolicy.FAIL_FAST}) and a call the
 * caller cancelled. Register with {@code ProviderPool.Builder.onRequest(...)}; several listeners
 * compose. The attempts in between carry the request's id ({@link AttemptStart#requestId()}), so
 * an {@link AttemptListener} can group them exactly.
 *
 * <pre>{@code
 * ProviderPool.builder()
 *     .onRequest(new RequestListener() {
 *       public void onStart(RequestStart s) { spans.put(s.id(), tracer.start(s.pool())); }
 *       public void onEnd(RequestEnd e) { spans.remove(e.start().id()).end(e.result()); }
 *     })
 * }</pre>
 *
 * <p>Both methods do nothing by default. {@code onStart} runs on the thread that executes the
 * call; {@code onEnd} runs on the thread that ended the request (the caller's reading thread for a
 * body it reads, else the calling thread), after the {@link AttemptListener#onEnd} of its last
 * attempt. {@link RequestEnd#start()} is the very {@link RequestStart} given to {@code onStart}.
 * Keep both fast and non-blocking. An exception either throws is caught and logged (by class and
 * origin, never by its message) and breaks neither the call nor the other listeners. When no
 * request listener is registered the pool builds no {@code RequestStart} or {@code RequestEnd}.
 * A request the pool never sees (another host; a {@code ModelRouter}'s local 400/404 for an
 * unknown alias) has no hooks; a response the caller never closes has no end.
 */
public interface RequestListener {

  /** A logical request began. Default: nothing. */
  default void onStart(RequestStart start) {}

  /** The request that began with {@link RequestEnd#start()} ended. Default: nothing. */
  default void onEnd(RequestEnd end) {}
}
