package io.github.llmpool.bench.quality;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import okhttp3.MediaType;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import okhttp3.RequestBody;
import okhttp3.Response;
import org.junit.jupiter.api.Test;

/** The quota experiment's instrument: limits, header shapes, and a fake provider over loopback HTTP. */
class QuotaFakeTest {
  private static final long S = 1_000_000_000L;
  private static final long MIN = QuotaLimit.MINUTE;

  @Test
  void bucketRefillsContinuouslyAndSaysWhenFull() {
    QuotaLimit b = new QuotaLimit(QuotaLimit.Kind.BUCKET, 60, 0.1); // 6 of 60, one per second
    for (int i = 0; i < 6; i++) {
      assertTrue(b.fits(0, 1));
      b.take(0, 1);
    }
    assertFalse(b.fits(0, 1));
    assertEquals(0, b.remaining(0));
    assertEquals(S, b.waitNanos(0, 1));
    assertEquals(60 * S, b.resetNanos(0));
    assertTrue(b.fits(S, 1));
    assertEquals(30, b.remaining(30 * S));
    b.refund(30 * S, 100, 0); // never above the limit
    assertEquals(60, b.remaining(30 * S));
    assertEquals(0, b.resetNanos(30 * S));
  }

  @Test
  void windowResetsAtTheMinuteAndRefundsOnlyWithinIt() {
    QuotaLimit w = new QuotaLimit(QuotaLimit.Kind.WINDOW, 10);
    long at = 5 * S;
    long window = w.take(at, 10);
    assertFalse(w.fits(at, 1));
    assertEquals(55 * S, w.waitNanos(at, 1));
    assertEquals(55 * S, w.resetNanos(at));
    w.refund(at + S, 4, window);
    assertEquals(4, w.remaining(at + S));
    w.take(at + S, 4);
    assertTrue(w.fits(MIN, 10), "a new window");
    w.refund(MIN, 5, window); // the old window's refund is gone with it
    assertEquals(10, w.remaining(MIN));
    assertEquals(0.5, QuotaLimit.windowPosition(MIN + 30 * S), 1e-9);
  }

  @Test
  void goDurationsAsOpenAiSendsThem() {
    assertEquals("20ms", Dialect.goDuration(20_000_000L));
    assertEquals("6m0s", Dialect.goDuration(360 * S));
    assertEquals("2m59.56s", Dialect.goDuration(179_560_000_000L));
    assertEquals("1.5s", Dialect.goDuration(1_500_000_000L));
    assertEquals("0s", Dialect.goDuration(0));
    for (String d : new String[] {"20ms", "6m0s", "2m59.56s", "1.5s", "7.66s", "120ms"}) {
      assertEquals(d, Dialect.goDuration(Pacer.goDuration(d)), d);
    }
    assertEquals(-1, Pacer.goDuration("6 minutes"));
  }

  @Test
  void headerNamesAreTheFixturesNames() throws IOException {
    assertEquals(names("openai-429-rate-limit.http", "x-ratelimit-"), emitted(Dialect.OPENAI, "x-ratelimit-"));
    assertEquals(names("azure-429.http", "x-ratelimit-"), emitted(Dialect.AZURE, "x-ratelimit-"));
    Set<String> anthropic = names("anthropic-200-ratelimit.http", "anthropic-ratelimit-");
    anthropic.removeIf(n -> n.contains("input-tokens") || n.contains("output-tokens")); // not sent by the fake
    assertEquals(anthropic, emitted(Dialect.ANTHROPIC, "anthropic-ratelimit-"));
    assertEquals(Set.of(), emitted(Dialect.NONE, ""));
  }

  @Test
  void enforcesRequestsAndTokensOverHttpWithHeadersOnEveryResponse() throws Exception {
    ScaledTicker ticker = new ScaledTicker(System.nanoTime(), 1);
    // 2 requests per minute (start full), 1,000 tokens per minute: refill is negligible during the test
    try (QuotaFake fake = new QuotaFake("p1", ticker, new QuotaLimit(QuotaLimit.Kind.BUCKET, 2, 1.0),
        new QuotaLimit(QuotaLimit.Kind.BUCKET, 1000, 1.0), Dialect.OPENAI, 1, 0)) {
      OkHttpClient client = new OkHttpClient.Builder().readTimeout(10, TimeUnit.SECONDS).build();
      String body = "{\"model\":\"m\",\"max_tokens\":100,\"stream\":false,\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}";
      long cost = QuotaFake.admissionCost(body);
      assertEquals((body.length() + 3) / 4 + 100, cost);
      try (Response r = client.newCall(post(fake, body, 40, 10)).execute()) {
        assertEquals(200, r.code());
        assertEquals("2", r.header("x-ratelimit-limit-requests"));
        assertEquals("1", r.header("x-ratelimit-remaining-requests"));
        assertEquals(Long.toString(1000 - cost), r.header("x-ratelimit-remaining-tokens"), "charged at admission");
        assertTrue(Pacer.goDuration(r.header("x-ratelimit-reset-requests")) > 0);
        assertTrue(r.body().string().contains("\"total_tokens\":50"));
      }
      try (Response r = client.newCall(post(fake, body, 40, 10)).execute()) {
        assertEquals(200, r.code());
        long remaining = Long.parseLong(r.header("x-ratelimit-remaining-tokens"));
        assertTrue(remaining >= 1000 - 50 - cost && remaining < 1000 - 50 - cost + 5,
            "the first answer was settled to its real 50 tokens: " + remaining);
        r.body().string();
      }
      try (Response r = client.newCall(post(fake, body, 40, 10)).execute()) {
        assertEquals(429, r.code());
        assertEquals("0", r.header("x-ratelimit-remaining-requests"));
        assertTrue(Long.parseLong(r.header("retry-after")) >= 1);
        assertTrue(r.body().string().contains("rate_limit_exceeded"));
      }
      assertEquals(3, fake.received.sum());
      assertEquals(1, fake.limited.sum());
      assertEquals(0, fake.limitedByTokens.sum());
    }
  }

  @Test
  void tokenLimitRefusesWhatTheEstimateCannotCoverAndAnthropicResetsAreInstants() throws Exception {
    ScaledTicker ticker = new ScaledTicker(System.nanoTime(), 1);
    try (QuotaFake fake = new QuotaFake("a1", ticker, new QuotaLimit(QuotaLimit.Kind.BUCKET, 100, 1.0),
        new QuotaLimit(QuotaLimit.Kind.WINDOW, 150), Dialect.ANTHROPIC, 1, 0)) {
      OkHttpClient client = new OkHttpClient();
      String big = "{\"model\":\"m\",\"max_tokens\":200,\"messages\":[]}"; // 200 + prompt > 150
      try (Response r = client.newCall(post(fake, big, 1, 1)).execute()) {
        assertEquals(429, r.code());
        assertTrue(r.body().string().contains("rate_limit_error"));
        assertEquals("150", r.header("anthropic-ratelimit-tokens-limit"));
        Instant reset = Instant.parse(r.header("anthropic-ratelimit-tokens-reset"));
        assertTrue(reset.toEpochMilli() > ticker.wallMillis() && reset.toEpochMilli() <= ticker.wallMillis() + MIN / 1_000_000L);
        assertNull(r.header("x-ratelimit-remaining-tokens"));
      }
      assertEquals(1, fake.limitedByTokens.sum());
      String small = "{\"model\":\"m\",\"max_tokens\":20,\"stream\":true,\"messages\":[]}";
      try (Response r = client.newCall(post(fake, small, 3, 5)).execute()) {
        assertEquals(200, r.code());
        String sse = r.body().string();
        assertTrue(sse.contains("\"total_tokens\":8") && sse.endsWith("data: [DONE]\n\n"), sse);
        assertNotNull(r.header("anthropic-ratelimit-requests-reset"));
      }
    }
  }

  @Test
  void azureSendsRemainingOnlyAndRetryAfterMs() throws Exception {
    ScaledTicker ticker = new ScaledTicker(System.nanoTime(), 1);
    try (QuotaFake fake = new QuotaFake("z1", ticker, new QuotaLimit(QuotaLimit.Kind.BUCKET, 1, 0), null, Dialect.AZURE,
        1, 0)) {
      try (Response r = new OkHttpClient().newCall(post(fake, "{\"max_tokens\":1}", 1, 1)).execute()) {
        assertEquals(429, r.code());
        assertEquals("0", r.header("x-ratelimit-remaining-requests"));
        assertNull(r.header("x-ratelimit-limit-requests"));
        assertNull(r.header("x-ratelimit-remaining-tokens"), "no token limit, no token header");
        assertTrue(Long.parseLong(r.header("retry-after-ms")) > 1000);
        r.body().string();
      }
    }
  }

  private static Request post(QuotaFake fake, String body, int prompt, int answer) {
    return new Request.Builder().url(fake.baseUrl() + "/chat/completions")
        .post(RequestBody.create(body, MediaType.get("application/json")))
        .header(QuotaFake.PROMPT_HEADER, Integer.toString(prompt))
        .header(QuotaFake.ANSWER_HEADER, Integer.toString(answer)).build();
  }

  private static Set<String> emitted(Dialect d, String prefix) {
    mockwebserver3.MockResponse.Builder b = new mockwebserver3.MockResponse.Builder();
    d.headers(b, new Dialect.State(500, 499, 120_000_000L, 200_000, 199_000, 20_000_000L), ScaledTicker.EPOCH_MILLIS);
    d.retryAfter(b, 1_500_000_000L);
    Set<String> names = new TreeSet<>();
    for (String n : b.build().getHeaders().names()) {
      if (n.startsWith(prefix) && (n.startsWith("x-ratelimit-") || n.startsWith("anthropic-ratelimit-"))) {
        names.add(n);
      }
    }
    return names;
  }

  private static Set<String> names(String fixture, String prefix) throws IOException {
    try (InputStream in = QuotaFakeTest.class.getResourceAsStream("/ratelimit/" + fixture)) {
      assertNotNull(in, fixture);
      Set<String> names = new TreeSet<>();
      for (String line : new String(in.readAllBytes(), StandardCharsets.UTF_8).split("\r?\n")) {
        if (line.isEmpty()) {
          break;
        }
        int colon = line.indexOf(':');
        if (colon > 0 && line.toLowerCase().startsWith(prefix)) {
          names.add(line.substring(0, colon).toLowerCase());
        }
      }
      return names;
    }
  }
}
