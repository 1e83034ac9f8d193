package io.github.llmpool;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.llmpool.spi.AttemptEnd;
import io.github.llmpool.spi.AttemptListener;
import io.github.llmpool.spi.AttemptStart;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import mockwebserver3.MockResponse;
import mockwebserver3.MockWebServer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Cost per attempt through a real pool against loopback upstreams: each usage record and attempt
 * end carries its cost (failed-over attempts included), the snapshot sums spend per provider and
 * currency, and a provider without a price is unpriced, never zero.
 */
class CostFlowTest {
  private final Upstreams up = new Upstreams();
  private final List<TokenUsage> usages = new CopyOnWriteArrayList<>();
  private final List<AttemptEnd> ends = new CopyOnWriteArrayList<>();

  static final Price MINI = Price.builder("USD").input("0.15").cachedInput("0.075").output("0.60").build();
  static final Price HAIKU = Price.builder("USD").input("0.80").cachedInput("0.08").cacheWrite("1").output("4").build();

  @AfterEach
  void close() {
    up.close();
  }

  static String cost(String name) {
    try (InputStream in = CostFlowTest.class.getResourceAsStream("/cost/" + name)) {
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  static MockResponse json(String body) {
    return new MockResponse.Builder().code(200).addHeader("content-type", "application/json").body(body).build();
  }

  static MockResponse sse(String body) {
    return new MockResponse.Builder().code(200).addHeader("content-type", "text/event-stream").body(body).build();
  }

  private ProviderPool.Builder builder() {
    return ProviderPool.builder().strategy(Strategy.ROUND_ROBIN).ticker(new FakeTicker()).onUsage(usages::add)
        .onAttempt(new AttemptListener() {
          @Override
          public void onStart(AttemptStart start) {}

          @Override
          public void onEnd(AttemptEnd end) {
            ends.add(end);
          }
        });
  }

  private static Provider provider(String name, MockWebServer s, Price price) {
    Provider.Builder b = Provider.builder(name).baseUrl(Upstreams.baseUrl(s));
    return (price == null ? b : b.price(price)).build();
  }

  private static void assertCost(String amount, Cost.Status status, Cost c) {
    assertEquals(status, c.status(), c.toString());
    assertEquals("USD", c.currency().orElseThrow());
    assertEquals(0, new BigDecimal(amount).compareTo(c.amount().orElseThrow()), c.toString());
  }

  private static BigDecimal spend(ProviderPool pool, String provider) {
    return pool.snapshot().provider(provider).orElseThrow().spend().get("USD");
  }

  @Test
  void aPricedJsonAnswerIsExactInTheRecordTheAttemptEndAndTheSnapshot() throws Exception {
    MockWebServer s = up.start(r -> Fixtures.json("openai-chat.json"));
    ProviderPool pool = builder().tier(provider("mini", s, MINI)).build();
    for (int i = 0; i < 2; i++) {
      assertEquals("200", Upstreams.call(up.client(pool), Upstreams.chat(pool))[0]);
    }
    assertEquals(2, usages.size());
    assertCost("0.00003675", Cost.Status.EXACT, usages.get(0).cost());
    assertEquals(usages.get(0).cost(), ends.get(0).cost());
    ProviderSnapshot snap = pool.snapshot().provider("mini").orElseThrow();
    assertEquals(Map.of("USD", new BigDecimal("0.0000735")), snap.spend());
    assertEquals(TokenCounts.ZERO, snap.unpricedTokens());
    assertEquals(0, snap.unpricedAttempts());
  }

  @Test
  void anUnpricedProviderReportsUnpricedNeverZero() throws Exception {
    MockWebServer s = up.start(r -> Fixtures.json("openai-chat.json"));
    ProviderPool pool = builder().tier(provider("free", s, null)).build();
    Upstreams.call(up.client(pool), Upstreams.chat(pool));
    TokenUsage u = usages.get(0);
    assertEquals(Cost.UNPRICED, u.cost());
    assertFalse(u.cost().amount().isPresent());
    assertFalse(u.cost().currency().isPresent());
    assertEquals(Cost.Status.UNPRICED, ends.get(0).cost().status());
    ProviderSnapshot snap = pool.snapshot().provider("free").orElseThrow();
    assertTrue(snap.spend().isEmpty(), snap.toString());
    assertEquals(TokenCounts.builder().prompt(23).completion(57).total(80).cached(12).reasoning(40).build(),
        snap.unpricedTokens());
    assertEquals(1, snap.unpricedAttempts());
  }

  @Test
  void everyFailedOverAttemptIsPriced() throws Exception {
    MockWebServer limited = up.start(r -> Fixtures.http("openai-429-rate-limit.http"));
    MockWebServer ok = up.start(r -> Fixtures.json("openai-chat.json"));
    ProviderPool pool = builder().tier(provider("a", limited, MINI)).tier(provider("b", ok, MINI)).build();
    assertEquals("200", Upstreams.call(up.client(pool), Upstreams.chat(pool))[0]);
    assertEquals(2, usages.size(), usages.toString());
    TokenUsage first = usages.get(0);
    assertEquals("a", first.provider());
    assertEquals(429, first.status());
    assertEquals(TokenUsage.End.DISCARDED, first.end());
    assertCost("0", Cost.Status.EXACT, first.cost()); // an error answer is not billed
    TokenUsage second = usages.get(1);
    assertEquals(2, second.attempt());
    assertCost("0.00003675", Cost.Status.EXACT, second.cost());
    assertEquals(List.of(first.cost(), second.cost()), ends.stream().map(AttemptEnd::cost).toList());
    assertEquals(0, BigDecimal.ZERO.compareTo(spend(pool, "a")));
    assertEquals(0, new BigDecimal("0.00003675").compareTo(spend(pool, "b")));
  }

  @Test
  void anAnthropicStreamWithCacheReadsIsPricedOnceAndExactly() throws Exception {
    MockWebServer s = up.start(r -> sse(cost("anthropic-stream-cache-read.sse")));
    ProviderPool pool = builder().tier(provider("claude", s, HAIKU)).build();
    Upstreams.call(up.client(pool), Upstreams.post(pool, "messages",
        "{\"model\":\"claude-3-5-haiku-20241022\",\"stream\":true,\"max_tokens\":64,\"messages\":[]}"));
    TokenUsage u = usages.get(0);
    assertEquals(TokenUsage.End.COMPLETE, u.end());
    assertEquals(TokenCounts.builder().prompt(2459).cached(2455).completion(23).build(), u.tokens());
    assertCost("0.0002916", Cost.Status.EXACT, u.cost()); // LiteLLM #11789 billed 0.002059
  }

  @Test
  void aCutStreamIsEstimatedFromWhatItReported() throws Exception {
    String all = cost("anthropic-stream-cache-read.sse");
    String cut = all.substring(0, all.indexOf("event: message_delta"));
    MockWebServer s = up.start(r -> sse(cut));
    ProviderPool pool = builder().failOnTruncatedStream(false).tier(provider("claude", s, HAIKU)).build();
    Upstreams.call(up.client(pool), Upstreams.post(pool, "messages",
        "{\"model\":\"claude-3-5-haiku-20241022\",\"stream\":true,\"max_tokens\":64,\"messages\":[]}"));
    TokenUsage u = usages.get(0);
    assertEquals(TokenUsage.End.TRUNCATED, u.end());
    // 4 x 0.80 + 2455 x 0.08 + 1 x 4 = 203.6 per 1M: a lower bound
    assertCost("0.0002036", Cost.Status.ESTIMATED, u.cost());
    assertEquals(0, new BigDecimal("0.0002036").compareTo(spend(pool, "claude")));
  }

  @Test
  void aStreamWithoutUsageIsAnEstimatedLowerBound() throws Exception {
    MockWebServer s = up.start(r -> Fixtures.sse("openai-chat-stream-no-usage.sse"));
    ProviderPool pool = builder().tier(provider("mini", s, MINI)).build();
    Upstreams.call(up.client(pool), Upstreams.post(pool, "chat/completions", "{\"model\":\"gpt-4o\",\"stream\":true}"));
    assertCost("0", Cost.Status.ESTIMATED, usages.get(0).cost());
  }

  @Test
  void aLongPromptIsPricedAtItsContextTier() throws Exception {
    Price pro = Price.builder("USD").input("1.25").cachedInput("0.31").output("10")
        .above(200_000, Price.builder("USD").input("2.50").cachedInput("0.625").output("15").build()).build();
    MockWebServer s = up.start(r -> json(cost("gemini-cached.json")));
    ProviderPool pool = builder().tier(provider("gemini", s, pro)).build();
    Upstreams.call(up.client(pool), Upstreams.post(pool, "models/gemini-2.5-pro:generateContent", "{\"contents\":[]}"));
    // 262,960 prompt tokens > 200,000: 5005 x 2.50 + 257955 x 0.625 + 1744 x 15 = 199894.375 per 1M
    assertCost("0.199894375", Cost.Status.EXACT, usages.get(0).cost());
  }

  @Test
  void aConnectionFailureBeforeTheResponseIsAZeroLowerBound() throws Exception {
    MockWebServer s = up.start(r -> new MockResponse.Builder()
        .onResponseStart(new mockwebserver3.SocketEffect.CloseSocket()).build());
    ProviderPool pool = builder().retry(RetryPolicy.builder().maxAttempts(1).build())
        .tier(provider("a", s, MINI)).build();
    try {
      Upstreams.call(up.client(pool), Upstreams.chat(pool));
    } catch (IOException expected) {
      // the attempt failed before a response
    }
    assertTrue(usages.isEmpty(), "no response, no usage record");
    assertCost("0", Cost.Status.ESTIMATED, ends.get(0).cost());
  }
}
