package io.github.llmpool.bench.quality;

import java.time.Instant;
import java.util.Locale;
import mockwebserver3.MockResponse;

/**
 * How a fake quota provider states its limits, on every response (success or 429), in the shapes
 * real providers send (see the fixtures in {@code src/test/resources/ratelimit/}).
 */
enum Dialect {
  /**
   * OpenAI and Groq: {@code x-ratelimit-{limit,remaining,reset}-{requests,tokens}}, resets as Go
   * durations ({@code 6m0s}, {@code 20ms}, {@code 2m59.56s}); a 429 carries {@code retry-after} in
   * whole seconds.
   */
  OPENAI("openai"),
  /** Azure OpenAI: {@code x-ratelimit-remaining-{requests,tokens}} only; a 429 adds {@code retry-after-ms}. */
  AZURE("azure"),
  /**
   * Anthropic: {@code anthropic-ratelimit-{requests,tokens}-{limit,remaining,reset}}, resets as RFC
   * 3339 instants of the world's wall clock.
   */
  ANTHROPIC("anthropic"),
  /** No rate-limit headers at all; a 429 still names its {@code retry-after}. */
  NONE("none");

  final String label;

  Dialect(String label) {
    this.label = label;
  }

  /** What a provider's two limits looked like when a request was admitted (or refused). */
  record State(long requestLimit, long requestRemaining, long requestResetNanos, long tokenLimit, long tokenRemaining,
      long tokenResetNanos) {}

  /** Adds this dialect's rate-limit headers for {@code s}; {@code wallMillis} is the world's wall clock. */
  void headers(MockResponse.Builder r, State s, long wallMillis) {
    switch (this) {
      case OPENAI -> {
        r.setHeader("x-ratelimit-limit-requests", Long.toString(s.requestLimit()));
        r.setHeader("x-ratelimit-remaining-requests", Long.toString(s.requestRemaining()));
        r.setHeader("x-ratelimit-reset-requests", goDuration(s.requestResetNanos()));
        if (s.tokenLimit() > 0) {
          r.setHeader("x-ratelimit-limit-tokens", Long.toString(s.tokenLimit()));
          r.setHeader("x-ratelimit-remaining-tokens", Long.toString(s.tokenRemaining()));
          r.setHeader("x-ratelimit-reset-tokens", goDuration(s.tokenResetNanos()));
        }
      }
      case AZURE -> {
        r.setHeader("x-ratelimit-remaining-requests", Long.toString(s.requestRemaining()));
        if (s.tokenLimit() > 0) {
          r.setHeader("x-ratelimit-remaining-tokens", Long.toString(s.tokenRemaining()));
        }
      }
      case ANTHROPIC -> {
        r.setHeader("anthropic-ratelimit-requests-limit", Long.toString(s.requestLimit()));
        r.setHeader("anthropic-ratelimit-requests-remaining", Long.toString(s.requestRemaining()));
        r.setHeader("anthropic-ratelimit-requests-reset", rfc3339(wallMillis, s.requestResetNanos()));
        if (s.tokenLimit() > 0) {
          r.setHeader("anthropic-ratelimit-tokens-limit", Long.toString(s.tokenLimit()));
          r.setHeader("anthropic-ratelimit-tokens-remaining", Long.toString(s.tokenRemaining()));
          r.setHeader("anthropic-ratelimit-tokens-reset", rfc3339(wallMillis, s.tokenResetNanos()));
        }
      }
      case NONE -> {
        // nothing
      }
    }
  }

  /** The 429's own headers: {@code retry-after} (whole seconds, at least 1), Azure also {@code retry-after-ms}. */
  void retryAfter(MockResponse.Builder r, long waitNanos) {
    long sec = Math.max(1, (waitNanos + 999_999_999L) / 1_000_000_000L);
    r.setHeader("retry-after", Long.toString(sec));
    if (this == AZURE) {
      r.setHeader("retry-after-ms", Long.toString(Math.max(1, (waitNanos + 999_999L) / 1_000_000L)));
    }
  }

  /** The 429 body of this dialect. */
  String rateLimitBody(boolean tokens) {
    String what = tokens ? "tokens per min (TPM)" : "requests per min (RPM)";
    if (this == ANTHROPIC) {
      return "{\"type\":\"error\",\"error\":{\"type\":\"rate_limit_error\",\"message\":\"This request would exceed the rate"
          + " limit for your organization of " + what + ".\"}}";
    }
    return "{\"error\":{\"message\":\"Rate limit reached for fake-model on " + what
        + ".\",\"type\":\"" + (tokens ? "tokens" : "requests") + "\",\"param\":null,\"code\":\"rate_limit_exceeded\"}}";
  }

  /** A Go {@code time.Duration} string as OpenAI sends it: {@code 20ms}, {@code 1.5s}, {@code 6m0s}, {@code 2m59.56s}. */
  static String goDuration(long nanos) {
    long ms = Math.max(0, Math.round(nanos / 1e6));
    if (ms == 0) {
      return "0s";
    }
    if (ms < 1000) {
      return ms + "ms";
    }
    long min = ms / 60_000;
    long restMs = ms % 60_000;
    String sec = trim(String.format(Locale.ROOT, "%d.%03d", restMs / 1000, restMs % 1000)) + "s";
    return min > 0 ? min + "m" + sec : sec;
  }

  private static String trim(String decimal) {
    int end = decimal.length();
    while (decimal.charAt(end - 1) == '0') {
      end--;
    }
    if (decimal.charAt(end - 1) == '.') {
      end--;
    }
    return decimal.substring(0, end);
  }

  /** An RFC 3339 instant {@code resetNanos} after {@code wallMillis}. */
  static String rfc3339(long wallMillis, long resetNanos) {
    return Instant.ofEpochMilli(wallMillis + (resetNanos + 999_999L) / 1_000_000L).toString();
  }
}
