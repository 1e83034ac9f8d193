package io.github.llmpool.internal.usage;

/**
 * Token usage and stream signals extracted from one response body by a {@link UsageParser}.
 *
 * <p>An immutable value (a record), so it can be shared between threads freely. Counts are
 * copied verbatim from the provider's {@code usage} object; nothing is recomputed, and a count
 * the provider did not send is {@code 0}.
 *
 * @param reported         the provider sent a usage object that could be read (at least one of
 *                         the prompt / completion / total counts, all non-negative integers that
 *                         fit a {@code long}); when {@code false} every count is {@code 0}
 * @param promptTokens     {@code prompt_tokens} or {@code input_tokens}; {@code 0} when absent
 * @param completionTokens {@code completion_tokens} or {@code output_tokens}; {@code 0} when
 *                         absent
 * @param totalTokens      {@code total_tokens} as reported (never recomputed); {@code 0} when
 *                         absent
 * @param cachedTokens     {@code prompt_tokens_details.cached_tokens} or
 *                         {@code input_tokens_details.cached_tokens}, else DeepSeek's
 *                         {@code prompt_cache_hit_tokens}; {@code 0} when absent
 * @param reasoningTokens  {@code completion_tokens_details.reasoning_tokens} or
 *                         {@code output_tokens_details.reasoning_tokens}; {@code 0} when absent
 * @param servedModel      the top-level {@code model} of a JSON body, of the first SSE chunk that
 *                         names one, or {@code response.model} of a Responses API event;
 *                         {@code null} if none was seen
 * @param streamed         the body was parsed as {@code text/event-stream}
 * @param terminated       SSE: a terminal signal was seen ({@code data: [DONE]}, a non-null
 *                         {@code choices[].finish_reason}, or a {@code response.completed} /
 *                         {@code response.incomplete} / {@code response.failed} event). JSON: the
 *                         root value was closed
 * @param errorEvent       SSE: an in-band error ({@code event: error}, a data object with a
 *                         non-null top-level {@code error}, or an event of type {@code error} /
 *                         {@code response.failed}). JSON: a non-null top-level {@code error}
 *                         (also in the objects of a root array, as Gemini sends it)
 * @param malformed        the input was not valid JSON, a usage count was not a non-negative
 *                         integer fitting a {@code long}, or a limit was hit (nesting deeper
 *                         than 64, a number longer than 1,000 digits; strings have no limit,
 *                         and past their first 8 KiB are not validated); see
 *                         {@link UsageParser}.
 *                         Trailing commas ({@code {"a":1,}}) are accepted, not malformed:
 *                         Jackson's non-blocking parser lets them through at some split
 *                         points, and accepting them always keeps results chunking-independent
 * @param events           SSE data events seen, not counting {@code [DONE]} or blank data;
 *                         {@code 0} for JSON
 * @param responseId       the top-level {@code id} of a JSON body or of a parsed SSE chunk (the
 *                         first that has one), or {@code response.id} of a Responses API event;
 *                         cut to 128 chars; {@code null} if none was seen
 * @param finishReasons    chat completions: every string {@code choices[].finish_reason}, in
 *                         order (JSON: of every choice; SSE: of the parsed chunks); Responses API
 *                         (a root object whose {@code object} is {@code response}, or the
 *                         {@code response} of a stream event, the last one seen):
 *                         {@code incomplete_details.reason} when the status is
 *                         {@code incomplete} and it names one, else the {@code status} unless it
 *                         is {@code in_progress} or {@code queued}; each cut to 64 chars, at most
 *                         16; never null, empty when none was seen
 * @param cacheWriteTokens Anthropic's {@code cache_creation_input_tokens} (part of
 *                         {@code promptTokens}); {@code 0} when absent
 */
public record UsageResult(
    boolean reported,
    long promptTokens,
    long completionTokens,
    long totalTokens,
    long cachedTokens,
    long reasoningTokens,
    String servedModel,
    boolean streamed,
    boolean terminated,
    boolean errorEvent,
    boolean malformed,
    long events,
    String responseId,
    java.util.List<String> finishReasons,
    long cacheWriteTokens) {

  /** Without cache-write tokens. */
  public UsageResult(boolean reported, long promptTokens, long completionTokens, long totalTokens,
      long cachedTokens, long reasoningTokens, String servedModel, boolean streamed, boolean terminated,
      boolean errorEvent, boolean malformed, long events, String responseId, java.util.List<String> finishReasons) {
    this(reported, promptTokens, completionTokens, totalTokens, cachedTokens, reasoningTokens, servedModel,
        streamed, terminated, errorEvent, malformed, events, responseId, finishReasons, 0);
  }

  /** Without response id or finish reasons. */
  public UsageResult(boolean reported, long promptTokens, long completionTokens, long totalTokens,
      long cachedTokens, long reasoningTokens, String servedModel, boolean streamed, boolean terminated,
      boolean errorEvent, boolean malformed, long events) {
    this(reported, promptTokens, completionTokens, totalTokens, cachedTokens, reasoningTokens, servedModel,
        streamed, terminated, errorEvent, malformed, events, null, java.util.List.of(), 0);
  }

  /** Never a null list. */
  public UsageResult {
    if (finishReasons == null) {
      finishReasons = java.util.List.of();
    }
  }
}
