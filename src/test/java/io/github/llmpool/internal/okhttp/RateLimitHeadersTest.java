package io.github.llmpool.internal.okhttp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.llmpool.Fixtures;
import io.github.llmpool.internal.health.RateWindow;
import io.github.llmpool.internal.health.RetryHints;
import java.time.Instant;
import java.util.List;
import okhttp3.Headers;
import org.junit.jupiter.api.Test;

/** The rate-limit headers of every dialect, as the real responses in the fixtures carry them, and bad values. */
class RateLimitHeadersTest {
  static final long AT = 5_000_000_000L; // ticker time the headers arrived
  static final long WALL = Instant.parse("2026-12-01T08:00:00Z").toEpochMilli();

  /** The header block of a {@code .http} fixture. */
  static Headers headers(String fixture) {
    String raw = Fixtures.text(fixture).replace("\r\n", "\n");
    String[] lines = raw.substring(0, raw.indexOf("\n\n")).split("\n");
    Headers.Builder b = new Headers.Builder();
    for (int i = 1; i < lines.length; i++) {
      b.add(lines[i]);
    }
    return b.build();
  }

  private static List<Long> values(RateWindow w) {
    return List.of(w.limit, w.remaining, w.hasReset ? w.resetAt - AT : -1L, w.seenAt);
  }

  @Test
  void openAi() {
    RateLimitHeaders.Reading r = RateLimitHeaders.read(headers("openai-200-ratelimit.http"), WALL);
    assertEquals(List.of(500L, 499L, 120_000_000L, AT), values(r.requests(AT)));
    assertEquals(List.of(200_000L, 199_384L, 184_000_000L, AT), values(r.tokens(AT)));
    assertEquals(List.of(499L, 199_384L, 0L), List.of(r.requestRemaining(), r.tokenRemaining(), (long) r.ignored()));
  }

  @Test
  void groq() {
    RateLimitHeaders.Reading r = RateLimitHeaders.read(headers("groq-200-ratelimit.http"), WALL);
    assertEquals(List.of(14_400L, 14_370L, 179_560_000_000L, AT), values(r.requests(AT)));
    assertEquals(List.of(18_000L, 17_997L, 7_660_000_000L, AT), values(r.tokens(AT)));
    assertEquals(0, r.ignored());
  }

  @Test
  void azureSendsRemainingOnly() {
    RateLimitHeaders.Reading r = RateLimitHeaders.read(headers("azure-200-ratelimit.http"), WALL);
    RateWindow req = r.requests(AT);
    assertEquals(List.of(-1L, 79L), List.of(req.limit, req.remaining));
    assertFalse(req.hasReset);
    RateWindow tok = r.tokens(AT);
    assertEquals(List.of(-1L, 79_000L), List.of(tok.limit, tok.remaining));
    assertFalse(tok.hasReset);
  }

  @Test
  void anthropicResetsAreInstantsOnThePoolsWallClock() {
    RateLimitHeaders.Reading r = RateLimitHeaders.read(headers("anthropic-200-ratelimit.http"), WALL);
    assertEquals(List.of(50L, 49L, 1_000_000_000L, AT), values(r.requests(AT)));
    assertEquals(List.of(90_000L, 89_000L, 600_000_000L, AT), values(r.tokens(AT)));
    assertEquals(0, r.ignored());
    // Another wall clock, another delay: 0.4 s later the token window resets in 0.2 s; after it, at once.
    assertEquals(200_000_000L, RateLimitHeaders.read(headers("anthropic-200-ratelimit.http"), WALL + 400)
        .tokens(AT).resetAt - AT);
    RateWindow past = RateLimitHeaders.read(headers("anthropic-200-ratelimit.http"), WALL + 60_000).tokens(AT);
    assertEquals(List.of(true, AT), List.of(past.hasReset, past.resetAt));
  }

  @Test
  void theOpenAiHeaderWinsOverAnthropicsForTheSameValue() {
    Headers h = Headers.of("anthropic-ratelimit-requests-remaining", "7", "X-RateLimit-Remaining-Requests", "3");
    assertEquals(3, RateLimitHeaders.read(h, WALL).requestRemaining());
  }

  @Test
  void namesAreCaseInsensitiveAndOtherHeadersAreNotRead() {
    RateLimitHeaders.Reading r = RateLimitHeaders.read(Headers.of("X-RATELIMIT-LIMIT-TOKENS", "10",
        "x-ratelimit-limit-tokens-usage-based", "junk", "x-ratelimit-", "junk", "content-type", "x"), WALL);
    assertEquals(10, r.tokens(AT).limit);
    assertNull(r.requests(AT));
    assertEquals(0, r.ignored());
  }

  @Test
  void malformedNegativeAndAbsurdValuesAreIgnoredAndCounted() {
    Headers h = new Headers.Builder()
        .add("x-ratelimit-limit-requests", "-5")
        .add("x-ratelimit-remaining-requests", "1.5")
        .add("x-ratelimit-reset-requests", "-1s")
        .add("x-ratelimit-limit-tokens", "1000000000000000") // 10^15
        .add("x-ratelimit-remaining-tokens", "abc")
        .add("x-ratelimit-reset-tokens", "8d") // no such unit
        .add("anthropic-ratelimit-requests-reset", "tomorrow")
        .add("anthropic-ratelimit-tokens-reset", "2027-12-01T08:00:00Z") // a year away
        .add("anthropic-ratelimit-input-tokens-remaining", "1e3")
        .add("anthropic-ratelimit-output-tokens-reset", "2026-12-01 08:00:00")
        .build();
    RateLimitHeaders.Reading r = RateLimitHeaders.read(h, WALL);
    assertEquals(10, r.ignored());
    assertNull(r.requests(AT));
    assertNull(r.tokens(AT));
    assertEquals(List.of(-1L, -1L), List.of(r.requestRemaining(), r.tokenRemaining()));
    // a reset more than 7 days away is absurd; 7 days is not
    assertEquals(1, RateLimitHeaders.read(Headers.of("x-ratelimit-reset-tokens", "168h0m1s"), WALL).ignored());
    assertEquals(0, RateLimitHeaders.read(Headers.of("x-ratelimit-reset-tokens", "168h"), WALL).ignored());
    // 15 digits is the largest count; leading zeros do not count
    assertEquals(999_999_999_999_999L, RateLimitHeaders.parseCount("999999999999999"));
    assertEquals(7, RateLimitHeaders.parseCount("0000000000000000007"));
    assertEquals(-1, RateLimitHeaders.parseCount(""));
    assertEquals(-1, RateLimitHeaders.parseCount("+7"));
  }

  @Test
  void goDurations() {
    assertEquals(1_000_000_000L, RetryHints.goDurationNanos("1s"));
    assertEquals(360_000_000_000L, RetryHints.goDurationNanos("6m0s"));
    assertEquals(20_000_000L, RetryHints.goDurationNanos("20ms"));
    assertEquals(90_500_000_000L, RetryHints.goDurationNanos("1m30.5s"));
    assertEquals(250_000_000L, RetryHints.goDurationNanos("250ms"));
    assertEquals(3_723_000_000_000L, RetryHints.goDurationNanos("1h2m3s"));
    assertEquals(1_500L, RetryHints.goDurationNanos("1us500ns"));
    assertEquals(2_000L, RetryHints.goDurationNanos("2µs"));
    assertEquals(0L, RetryHints.goDurationNanos("0s"));
    assertEquals(Long.MAX_VALUE, RetryHints.goDurationNanos("99999999999999999999h"));
    for (String bad : new String[] {"", "s", "1", "1.s", ".5s", "1 s", "-1s", "1sm", "1d", "1e3s", "1s ", "1m30"}) {
      assertEquals(-1L, RetryHints.goDurationNanos(bad), bad);
    }
  }

  @Test
  void anOlderWindowDoesNotOverwriteANewerOne() {
    RateWindow newer = new RateWindow(100, 10, true, AT + 2_000, AT);
    RateWindow older = new RateWindow(100, 50, true, AT + 1_000, AT + 5); // arrived later, earlier reset
    assertFalse(RateWindow.supersedes(older, newer, AT + 10));
    assertTrue(RateWindow.supersedes(older, newer, AT + 2_000)); // the newer reset has passed: nothing to protect
    assertTrue(RateWindow.supersedes(newer, older, AT + 10));
    RateWindow noReset = new RateWindow(-1, 5, false, 0, AT + 6);
    assertTrue(RateWindow.supersedes(noReset, newer, AT + 10)); // Azure: arrival order
    assertFalse(RateWindow.supersedes(new RateWindow(-1, 6, false, 0, AT + 1), noReset, AT + 10));
    assertTrue(RateWindow.supersedes(newer, null, AT));
  }

  @Test
  void windowsAreDatedToTheDispatchAndADurationResetCountsFromIt() {
    long sentAt = AT - 2_000_000_000L; // a non-streamed answer: its headers 2 s after the dispatch
    RateLimitHeaders.Reading openai = RateLimitHeaders.read(headers("openai-200-ratelimit.http"), WALL);
    RateWindow req = openai.requests(AT, sentAt);
    assertTrue(req.dated);
    // the provider's "120ms" counted from when it admitted the request, not from the arrival
    assertEquals(List.of(500L, 499L, 120_000_000L - 2_000_000_000L, sentAt), values(req));
    assertEquals(List.of(200_000L, 199_384L, 184_000_000L - 2_000_000_000L, sentAt), values(openai.tokens(AT, sentAt)));
    // Anthropic's reset is an instant: where it is; the counts are still of the dispatch
    RateLimitHeaders.Reading anthropic = RateLimitHeaders.read(headers("anthropic-200-ratelimit.http"), WALL);
    assertEquals(List.of(50L, 49L, 1_000_000_000L, sentAt), values(anthropic.requests(AT, sentAt)));
    assertTrue(anthropic.requests(AT, sentAt).dated);
    // no age (a fake ticker's call), or more than the bound: as read at the arrival
    assertFalse(openai.requests(AT, AT).dated);
    assertEquals(values(openai.requests(AT)), values(openai.requests(AT, AT)));
    assertFalse(openai.requests(AT, AT - RateLimitHeaders.MAX_DATING_NANOS - 1).dated);
    assertTrue(openai.requests(AT, AT - RateLimitHeaders.MAX_DATING_NANOS).dated);
  }
}
