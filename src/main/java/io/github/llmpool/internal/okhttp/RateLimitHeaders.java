package io.github.llmpool.internal.okhttp;

import io.github.llmpool.internal.health.RateWindow;
import io.github.llmpool.internal.health.RetryHints;
import okhttp3.Headers;

/**
 * Reads the rate-limit headers of one response, every dialect in one pass over the headers:
 * <ul>
 *   <li>OpenAI / Groq (and OpenAI-compatible servers): {@code x-ratelimit-limit-requests},
 *       {@code x-ratelimit-remaining-requests}, {@code x-ratelimit-reset-requests} and the
 *       {@code -tokens} trio, resets as Go durations ({@code 1s}, {@code 6m0s}, {@code 20ms});</li>
 *   <li>Azure OpenAI: {@code x-ratelimit-remaining-requests} / {@code -tokens} only (the same names);</li>
 *   <li>Anthropic: {@code anthropic-ratelimit-requests-{limit,remaining,reset}} and
 *       {@code anthropic-ratelimit-tokens-*} (the most restrictive token limit in effect), resets as
 *       RFC 3339 instants turned into delays with the pool's wall clock. The
 *       {@code input-tokens} / {@code output-tokens} families are validated (bad values count) but
 *       not kept.</li>
 * </ul>
 * When a response carries both dialects for one value, the OpenAI-style header wins.
 *
 * <p>A value that is malformed, negative or absurd (a count of {@value #MAX_COUNT_DIGITS} digits or
 * more, a reset more than {@link #MAX_RESET_NANOS} away) is ignored and counted, never thrown.
 * Stateless; allocates nothing for a response without rate-limit headers (one pass over the names,
 * which OkHttp keeps as strings).
 */
public final class RateLimitHeaders {

  /** Counts of this many digits (10^15) or more are absurd. */
  static final int MAX_COUNT_DIGITS = 16;
  /** Resets further away than 7 days are absurd. */
  static final long MAX_RESET_NANOS = 7L * 24 * 3600 * 1_000_000_000L;

  private static final String OPENAI = "x-ratelimit-";
  private static final String ANTHROPIC = "anthropic-ratelimit-";

  private RateLimitHeaders() {}

  /** What one response said; -1 for a value it did not give (or gave malformed). */
  /** The longest a response's headers may take after the dispatch and still be dated to it (a long generation). */
  public static final long MAX_DATING_NANOS = java.util.concurrent.TimeUnit.MINUTES.toNanos(2);

  public static final class Reading {
    long requestLimit = -1;
    long requestRemaining = -1;
    long requestReset = -1; // nanos from the response
    long tokenLimit = -1;
    long tokenRemaining = -1;
    long tokenReset = -1;
    // the Anthropic values, used where the OpenAI-style header is absent
    long aRequestLimit = -1;
    long aRequestRemaining = -1;
    long aRequestReset = -1;
    long aTokenLimit = -1;
    long aTokenRemaining = -1;
    long aTokenReset = -1;
    int ignored;

    /** Remaining requests, or -1. */
    public long requestRemaining() {
      return requestRemaining >= 0 ? requestRemaining : aRequestRemaining;
    }

    /** Remaining tokens, or -1. */
    public long tokenRemaining() {
      return tokenRemaining >= 0 ? tokenRemaining : aTokenRemaining;
    }

    /** Malformed values seen. */
    public int ignored() {
      return ignored;
    }

    /** The request window, or null when no request value was valid; {@code at} is when the headers arrived. */
    public RateWindow requests(long at) {
      return window(pick(requestLimit, aRequestLimit), requestRemaining(), pick(requestReset, aRequestReset), at);
    }

    /** The token window, or null; as for {@link #requests(long)}. */
    public RateWindow tokens(long at) {
      return window(pick(tokenLimit, aTokenLimit), tokenRemaining(), pick(tokenReset, aTokenReset), at);
    }

    /**
     * The request window dated to the request's dispatch {@code sentAt} (headers arrived at
     * {@code at}): the counts describe the window when the provider admitted the request, which
     * for an answer that is not streamed is a whole generation before its headers arrive, and a
     * reset given as a duration (OpenAI, Groq) counts from then too; so the window's
     * {@link RateWindow#seenAt} is the dispatch and such a reset is {@code sentAt + duration} (an
     * RFC 3339 instant, Anthropic's, is where it is). As {@link #requests(long)} when
     * {@code sentAt} is not before {@code at} or more than {@link #MAX_DATING_NANOS} before it.
     */
    public RateWindow requests(long at, long sentAt) {
      return dated(requests(at), requestReset >= 0, at, sentAt);
    }

    /** The token window dated to the dispatch; as for {@link #requests(long, long)}. */
    public RateWindow tokens(long at, long sentAt) {
      return dated(tokens(at), tokenReset >= 0, at, sentAt);
    }

    private static RateWindow dated(RateWindow w, boolean durationReset, long at, long sentAt) {
      long age = at - sentAt;
      if (w == null || age <= 0 || age > MAX_DATING_NANOS) {
        return w;
      }
      long resetAt = durationReset ? w.resetAt - age : w.resetAt;
      return new RateWindow(w.limit, w.remaining, w.hasReset, w.hasReset ? resetAt : 0, sentAt, true);
    }

    private static long pick(long openai, long anthropic) {
      return openai >= 0 ? openai : anthropic;
    }

    private static RateWindow window(long limit, long remaining, long reset, long at) {
      if (limit < 0 && remaining < 0 && reset < 0) {
        return null;
      }
      return new RateWindow(limit, remaining, reset >= 0, reset >= 0 ? at + reset : 0, at);
    }
  }

  /**
   * Reads {@code headers}; null when none of them is a rate-limit header (nothing allocated).
   *
   * @param wallMillis the pool's wall clock now, for RFC 3339 resets
   */
  public static Reading read(Headers headers, long wallMillis) {
    Reading r = null;
    for (int i = 0, n = headers.size(); i < n; i++) {
      String name = headers.name(i);
      int len = name.length();
      if (len > OPENAI.length() && name.regionMatches(true, 0, OPENAI, 0, OPENAI.length())) {
        if (r == null) {
          r = new Reading();
        }
        openai(r, name, headers.value(i));
      } else if (len > ANTHROPIC.length() && name.regionMatches(true, 0, ANTHROPIC, 0, ANTHROPIC.length())) {
        if (r == null) {
          r = new Reading();
        }
        anthropic(r, name, headers.value(i), wallMillis);
      }
    }
    return r;
  }

  private static void openai(Reading r, String name, String value) {
    int o = OPENAI.length();
    if (is(name, o, "limit-requests")) {
      r.requestLimit = count(r, value);
    } else if (is(name, o, "remaining-requests")) {
      r.requestRemaining = count(r, value);
    } else if (is(name, o, "reset-requests")) {
      r.requestReset = duration(r, value);
    } else if (is(name, o, "limit-tokens")) {
      r.tokenLimit = count(r, value);
    } else if (is(name, o, "remaining-tokens")) {
      r.tokenRemaining = count(r, value);
    } else if (is(name, o, "reset-tokens")) {
      r.tokenReset = duration(r, value);
    }
  }

  private static void anthropic(Reading r, String name, String value, long wallMillis) {
    int o = ANTHROPIC.length();
    if (is(name, o, "requests-limit")) {
      r.aRequestLimit = count(r, value);
    } else if (is(name, o, "requests-remaining")) {
      r.aRequestRemaining = count(r, value);
    } else if (is(name, o, "requests-reset")) {
      r.aRequestReset = instant(r, value, wallMillis);
    } else if (is(name, o, "tokens-limit")) {
      r.aTokenLimit = count(r, value);
    } else if (is(name, o, "tokens-remaining")) {
      r.aTokenRemaining = count(r, value);
    } else if (is(name, o, "tokens-reset")) {
      r.aTokenReset = instant(r, value, wallMillis);
    } else if (is(name, o, "input-tokens-limit") || is(name, o, "input-tokens-remaining")
        || is(name, o, "output-tokens-limit") || is(name, o, "output-tokens-remaining")) {
      count(r, value); // validated, not kept
    } else if (is(name, o, "input-tokens-reset") || is(name, o, "output-tokens-reset")) {
      instant(r, value, wallMillis);
    }
  }

  private static boolean is(String name, int offset, String suffix) {
    return name.length() - offset == suffix.length() && name.regionMatches(true, offset, suffix, 0, suffix.length());
  }

  /** A decimal count below 10^15, or -1 (counted when present but bad). */
  private static long count(Reading r, String v) {
    long c = parseCount(v);
    if (c < 0) {
      r.ignored++;
    }
    return c;
  }

  private static long duration(Reading r, String v) {
    long d = RetryHints.goDurationNanos(v);
    if (d < 0 || d > MAX_RESET_NANOS) {
      r.ignored++;
      return -1;
    }
    return d;
  }

  private static long instant(Reading r, String v, long wallMillis) {
    long d = RetryHints.untilInstantNanos(v, wallMillis);
    if (d < 0 || d > MAX_RESET_NANOS) {
      r.ignored++;
      return -1;
    }
    return d;
  }

  /**
   * A count: ASCII digits only (no sign, no fraction, no spaces: OkHttp trims header values), fewer
   * than {@value #MAX_COUNT_DIGITS} digits once leading zeros are skipped; -1 otherwise.
   */
  static long parseCount(String s) {
    int n = s.length();
    if (n == 0) {
      return -1;
    }
    long v = 0;
    int significant = 0;
    for (int i = 0; i < n; i++) {
      char c = s.charAt(i);
      if (c < '0' || c > '9') {
        return -1;
      }
      if (v != 0 || c != '0') {
        if (++significant >= MAX_COUNT_DIGITS) {
          return -1;
        }
      }
      v = v * 10 + (c - '0');
    }
    return v;
  }
}
