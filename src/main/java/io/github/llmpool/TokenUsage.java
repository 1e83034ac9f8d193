package io.github.llmpool;

import java.time.Duration;

/**
 * What one attempt cost, reported exactly once per attempt that got a response: when its body was
 * read to the end, closed early, or failed while being read; or at once when the pool discarded a
 * failed attempt's response to fail over.
 *
 * <p>Token counts are exactly as the provider reported them (never recomputed); a count the
 * provider did not send is 0, and {@link #reported()} tells whether any usage arrived at all.
 *
 * @param provider the provider's name
 * @param tier the provider's tier (0 = first)
 * @param requestedModel the top-level {@code model} of the request as the caller sent it, or null
 * @param servedModel the {@code model} the response named, or null
 * @param promptTokens {@code prompt_tokens} / {@code input_tokens}
 * @param completionTokens {@code completion_tokens} / {@code output_tokens}
 * @param totalTokens {@code total_tokens} as reported
 * @param cachedTokens {@code *_tokens_details.cached_tokens} (DeepSeek: {@code prompt_cache_hit_tokens})
 * @param reasoningTokens {@code *_tokens_details.reasoning_tokens}
 * @param reported whether the provider reported usage
 * @param status the HTTP status of the attempt
 * @param streamed whether the response was a server-sent-event stream
 * @param timeToFirstByte from dispatch to the response headers
 * @param timeToFirstToken streams: from dispatch to the first data event; otherwise the same as
 *     {@code timeToFirstByte}; null when no token arrived
 * @param duration from dispatch to the end of the body (or to the discard)
 * @param attempt the attempt number within its logical request, from 1
 * @param end how the body ended
 * @param errorEvent whether the stream carried an in-band {@code error} event
 */
public record TokenUsage(
    String provider,
    int tier,
    String requestedModel,
    String servedModel,
    long promptTokens,
    long completionTokens,
    long totalTokens,
    long cachedTokens,
    long reasoningTokens,
    boolean reported,
    int status,
    boolean streamed,
    Duration timeToFirstByte,
    Duration timeToFirstToken,
    Duration duration,
    int attempt,
    End end,
    boolean errorEvent) {

  /** How the response body of an attempt ended. */
  public enum End {
    /** Read to its end, and for a stream its terminal event ({@code [DONE]}, a finish reason, {@code response.completed}) was seen. */
    COMPLETE,
    /** Read to its end, but the stream stopped before its terminal event. */
    TRUNCATED,
    /** The caller closed the body before its end. */
    CLOSED_EARLY,
    /** Reading failed (connection cut, timeout, cancel). */
    FAILED,
    /** The pool discarded the response of a failed attempt to fail over. */
    DISCARDED
  }

  /** Whether the caller got the whole answer: COMPLETE. */
  public boolean complete() {
    return end == End.COMPLETE;
  }
}
