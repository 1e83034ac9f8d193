package io.github.llmpool;

import java.util.Objects;

/**
 * Token counts by kind, as a provider reported them: one attempt's in {@link TokenUsage#tokens()},
 * a provider's running sums in {@link ProviderSnapshot#tokens()}.
 *
 * <p>Counts are copied from the provider's {@code usage} object, never recomputed: {@link #total()}
 * is the provider's {@code total_tokens} and need not equal {@code prompt + completion}. A count the
 * provider did not send is 0 (a count, so "none" is 0 rather than an absent value).
 *
 * <p>One convention in every dialect: cached and cache-write tokens are part of the prompt,
 * reasoning tokens part of the completion, as OpenAI-compatible APIs report them. The two dialects
 * that count otherwise are brought to it when read, and only there: an Anthropic-style usage
 * ({@code input_tokens} next to {@code cache_read_input_tokens} / {@code cache_creation_input_tokens},
 * where {@code input_tokens} excludes both) reads as {@code prompt = input + cache read + cache
 * write}; a Gemini {@code usageMetadata} ({@code thoughtsTokenCount} apart from
 * {@code candidatesTokenCount}) as {@code completion = candidates + thoughts}. {@link #total()} is
 * always the provider's own figure. See {@code docs/cost.md} for the table per dialect.
 *
 * <p>Immutable and thread-safe. Made by {@link #builder()}, so a kind of count can be added later
 * (it then reads 0 wherever it is not set) without breaking code that builds or reads counts.
 */
public final class TokenCounts {

  /** Every count 0: what an attempt without reported usage carries. */
  public static final TokenCounts ZERO = new TokenCounts(0, 0, 0, 0, 0, 0);

  private final long prompt;
  private final long completion;
  private final long total;
  private final long cached;
  private final long reasoning;
  private final long cacheWrite;

  private TokenCounts(long prompt, long completion, long total, long cached, long reasoning, long cacheWrite) {
    this.cacheWrite = cacheWrite;
    this.prompt = prompt;
    this.completion = completion;
    this.total = total;
    this.cached = cached;
    this.reasoning = reasoning;
  }

  /** A builder whose counts are all 0 until set. For the pool and for tests. */
  public static Builder builder() {
    return new Builder();
  }

  /**
   * {@code prompt_tokens} / {@code input_tokens}, cached and cache-write tokens included (Anthropic:
   * {@code input_tokens + cache_read_input_tokens + cache_creation_input_tokens}; Gemini:
   * {@code promptTokenCount}).
   */
  public long prompt() {
    return prompt;
  }

  /**
   * {@code completion_tokens} / {@code output_tokens}, reasoning included (Gemini:
   * {@code candidatesTokenCount + thoughtsTokenCount}).
   */
  public long completion() {
    return completion;
  }

  /** {@code total_tokens} as reported (never recomputed). */
  public long total() {
    return total;
  }

  /**
   * Prompt tokens served from the provider's prompt cache: {@code *_tokens_details.cached_tokens}
   * (DeepSeek: {@code prompt_cache_hit_tokens}; Anthropic: {@code cache_read_input_tokens}; Gemini:
   * {@code cachedContentTokenCount}). Part of {@link #prompt()}.
   */
  public long cached() {
    return cached;
  }

  /**
   * Reasoning tokens within the completion: {@code *_tokens_details.reasoning_tokens} (Gemini:
   * {@code thoughtsTokenCount}).
   */
  public long reasoning() {
    return reasoning;
  }

  /**
   * Prompt tokens written to the provider's prompt cache, where it reports them (Anthropic's
   * {@code cache_creation_input_tokens}); part of {@link #prompt()}; 0 elsewhere.
   */
  public long cacheWrite() {
    return cacheWrite;
  }

  /** Equal when every count is equal. */
  @Override
  public boolean equals(Object o) {
    return o instanceof TokenCounts t && prompt == t.prompt && completion == t.completion && total == t.total
        && cached == t.cached && reasoning == t.reasoning && cacheWrite == t.cacheWrite;
  }

  @Override
  public int hashCode() {
    return Objects.hash(prompt, completion, total, cached, reasoning, cacheWrite);
  }

  /**
   * For example {@code TokenCounts{prompt=10, completion=5, total=15, cached=0, reasoning=0}};
   * {@code cacheWrite} is shown only when not 0.
   */
  @Override
  public String toString() {
    return "TokenCounts{prompt=" + prompt + ", completion=" + completion + ", total=" + total + ", cached=" + cached
        + ", reasoning=" + reasoning + (cacheWrite == 0 ? "" : ", cacheWrite=" + cacheWrite) + "}";
  }

  /**
   * Builds {@link TokenCounts}; every count defaults to 0. Mutable, not thread-safe; reusable
   * ({@link #build()} copies).
   */
  public static final class Builder {
    private long prompt;
    private long completion;
    private long total;
    private long cached;
    private long reasoning;
    private long cacheWrite;

    private Builder() {}

    /**
     * Prompt (input) tokens. Default 0.
     *
     * @throws IllegalArgumentException if {@code prompt} is negative
     */
    public Builder prompt(long prompt) {
      this.prompt = Checks.atLeast("prompt", prompt, 0L);
      return this;
    }

    /**
     * Completion (output) tokens. Default 0.
     *
     * @throws IllegalArgumentException if {@code completion} is negative
     */
    public Builder completion(long completion) {
      this.completion = Checks.atLeast("completion", completion, 0L);
      return this;
    }

    /**
     * Total tokens as reported. Default 0 (not derived from the other counts).
     *
     * @throws IllegalArgumentException if {@code total} is negative
     */
    public Builder total(long total) {
      this.total = Checks.atLeast("total", total, 0L);
      return this;
    }

    /**
     * Cached prompt tokens. Default 0.
     *
     * @throws IllegalArgumentException if {@code cached} is negative
     */
    public Builder cached(long cached) {
      this.cached = Checks.atLeast("cached", cached, 0L);
      return this;
    }

    /**
     * Reasoning tokens. Default 0.
     *
     * @throws IllegalArgumentException if {@code reasoning} is negative
     */
    public Builder reasoning(long reasoning) {
      this.reasoning = Checks.atLeast("reasoning", reasoning, 0L);
      return this;
    }

    /**
     * Cache-write prompt tokens. Default 0.
     *
     * @throws IllegalArgumentException if {@code cacheWrite} is negative
     */
    public Builder cacheWrite(long cacheWrite) {
      this.cacheWrite = Checks.atLeast("cacheWrite", cacheWrite, 0L);
      return this;
    }

    /** The counts; {@link TokenCounts#ZERO} itself when every count is 0. */
    public TokenCounts build() {
      if ((prompt | completion | total | cached | reasoning | cacheWrite) == 0) {
        return ZERO;
      }
      return new TokenCounts(prompt, completion, total, cached, reasoning, cacheWrite);
    }
  }
}
