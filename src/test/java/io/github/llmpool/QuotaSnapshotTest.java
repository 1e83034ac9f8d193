package io.github.llmpool;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.concurrent.atomic.AtomicReference;
import mockwebserver3.MockResponse;
import mockwebserver3.MockWebServer;
import okhttp3.OkHttpClient;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Rate-limit headers of real responses, through a pool on loopback, show up in {@code
 * pool.snapshot()} with their source and age; configured limits show up without headers; bad
 * values are counted.
 */
class QuotaSnapshotTest {
  private final Upstreams up = new Upstreams();
  private final FakeTicker ticker = new FakeTicker();

  @AfterEach
  void close() {
    up.close();
  }

  private ProviderPool pool(MockWebServer server) {
    return ProviderPool.builder().ticker(ticker).tier(Provider.builder("a").baseUrl(Upstreams.baseUrl(server)).build())
        .build();
  }

  private ProviderSnapshot provider(ProviderPool pool, String name) {
    return pool.snapshot().provider(name).orElseThrow();
  }

  @Test
  void openAiHeadersShowWithSourceResetAndAge() throws Exception {
    MockWebServer s = up.start(r -> Fixtures.http("openai-200-ratelimit.http"));
    ProviderPool pool = pool(s);
    OkHttpClient client = up.client(pool);
    assertEquals(Optional.empty(), provider(pool, "a").requestQuota()); // nothing known before a response
    assertEquals("200", Upstreams.call(client, Upstreams.chat(pool))[0]);
    ticker.advance(Duration.ofMillis(100));
    ProviderSnapshot p = provider(pool, "a");
    assertEquals(Quota.builder(Quota.Source.HEADER).limit(500).remaining(499).resetIn(Duration.ofMillis(20))
        .age(Duration.ofMillis(100)).build(), p.requestQuota().orElseThrow());
    assertEquals(Quota.builder(Quota.Source.HEADER).limit(200_000).remaining(199_384).resetIn(Duration.ofMillis(84))
        .age(Duration.ofMillis(100)).build(), p.tokenQuota().orElseThrow());
    ticker.advance(Duration.ofSeconds(2)); // the resets have passed: zero, and the values age
    p = provider(pool, "a");
    assertEquals(Optional.of(Duration.ZERO), p.requestQuota().orElseThrow().resetIn());
    assertEquals(Duration.ofMillis(2100), p.tokenQuota().orElseThrow().age());
    assertEquals(0, p.ignoredQuotaValues());
  }

  @Test
  void anthropicResetsUseThePoolsWallClockAndErrorsCountToo() throws Exception {
    ticker.setWallMillis(Instant.parse("2026-12-01T08:00:00Z").toEpochMilli());
    AtomicReference<String> fixture = new AtomicReference<>("anthropic-200-ratelimit.http");
    MockWebServer s = up.start(r -> Fixtures.http(fixture.get()));
    ProviderPool pool = pool(s);
    OkHttpClient client = up.client(pool);
    assertEquals("200", Upstreams.call(client, Upstreams.chat(pool))[0]);
    ProviderSnapshot p = provider(pool, "a");
    assertEquals(Quota.builder(Quota.Source.HEADER).limit(50).remaining(49).resetIn(Duration.ofSeconds(1)).build(),
        p.requestQuota().orElseThrow());
    assertEquals(Quota.builder(Quota.Source.HEADER).limit(90_000).remaining(89_000).resetIn(Duration.ofMillis(600))
        .build(), p.tokenQuota().orElseThrow());

    // A 429 is read as well (the fixture carries x-ratelimit-* with remaining 0).
    fixture.set("openai-429-rate-limit.http");
    ticker.advance(Duration.ofSeconds(1));
    try {
      Upstreams.call(client, Upstreams.chat(pool)); // the only provider: its 429 or the pool's error
    } catch (java.io.IOException expected) {
      // the pool gave up on the one provider; the headers were read all the same
    }
    assertEquals(1, provider(pool, "a").failures());
    assertEquals(OptionalLong.of(0), provider(pool, "a").requestQuota().orElseThrow().remaining());
  }

  @Test
  void azureGivesRemainingWithoutLimitOrReset() throws Exception {
    MockWebServer s = up.start(r -> Fixtures.http("azure-200-ratelimit.http"));
    ProviderPool pool = pool(s);
    assertEquals("200", Upstreams.call(up.client(pool), Upstreams.chat(pool))[0]);
    Quota q = provider(pool, "a").tokenQuota().orElseThrow();
    assertEquals(List.of(Quota.Source.HEADER, OptionalLong.empty(), OptionalLong.of(79_000), Optional.empty()),
        List.of(q.source(), q.limit(), q.remaining(), q.resetIn()));
  }

  @Test
  void configuredLimitsShowWithoutHeadersUntilAHeaderSpeaks() throws Exception {
    AtomicReference<MockResponse> answer = new AtomicReference<>(Fixtures.json("openai-chat.json"));
    MockWebServer s = up.start(r -> answer.get());
    ProviderPool pool = ProviderPool.builder().ticker(ticker).tier(Provider.builder("a").baseUrl(Upstreams.baseUrl(s))
        .requestsPerMinute(60).tokensPerMinute(90_000).build()).build();
    OkHttpClient client = up.client(pool);
    ticker.advance(Duration.ofSeconds(3));
    assertEquals("200", Upstreams.call(client, Upstreams.chat(pool))[0]); // no rate-limit header
    ProviderSnapshot p = provider(pool, "a");
    // One request taken of 60 a minute; its 80 reported tokens of 90,000 (the estimate settled to the usage).
    assertEquals(Quota.builder(Quota.Source.CONFIGURATION).limit(60).remaining(59).age(Duration.ofSeconds(3)).build(),
        p.requestQuota().orElseThrow());
    assertEquals(Quota.builder(Quota.Source.CONFIGURATION).limit(90_000).remaining(89_920).age(Duration.ofSeconds(3))
        .build(), p.tokenQuota().orElseThrow());

    // A reconfiguration restarts the age of what it configures.
    pool.update(List.of(List.of(Provider.builder("a").baseUrl(Upstreams.baseUrl(s)).requestsPerMinute(120).build())));
    ticker.advance(Duration.ofSeconds(1));
    p = provider(pool, "a");
    assertEquals(Quota.builder(Quota.Source.CONFIGURATION).limit(120).remaining(120).age(Duration.ofSeconds(1)).build(),
        p.requestQuota().orElseThrow());
    assertEquals(Optional.empty(), p.tokenQuota());

    // Headers, once seen, take over.
    answer.set(Fixtures.http("groq-200-ratelimit.http"));
    assertEquals("200", Upstreams.call(client, Upstreams.chat(pool))[0]);
    assertEquals(Quota.Source.HEADER, provider(pool, "a").requestQuota().orElseThrow().source());
    assertEquals(OptionalLong.of(14_400), provider(pool, "a").requestQuota().orElseThrow().limit());
  }

  @Test
  void malformedValuesAreCountedNotThrownAndDoNotChangeRouting() throws Exception {
    MockWebServer s = up.start(r -> new MockResponse.Builder().code(200).addHeader("content-type", "application/json")
        .addHeader("x-ratelimit-limit-requests", "lots").addHeader("x-ratelimit-remaining-requests", "-1")
        .addHeader("x-ratelimit-reset-requests", "soon").addHeader("x-ratelimit-remaining-tokens", "1000")
        .body(Fixtures.text("openai-chat.json")).build());
    ProviderPool pool = pool(s);
    OkHttpClient client = up.client(pool);
    for (int i = 0; i < 2; i++) {
      assertEquals("200", Upstreams.call(client, Upstreams.chat(pool))[0]);
    }
    ProviderSnapshot p = provider(pool, "a");
    assertEquals(6, p.ignoredQuotaValues());
    assertEquals(Optional.empty(), p.requestQuota());
    assertEquals(OptionalLong.of(1000), p.tokenQuota().orElseThrow().remaining());
    assertEquals(ProviderSnapshot.Status.AVAILABLE, p.status());
    assertEquals(2, p.successes());
    assertTrue(p.toString().contains("ignoredQuotaValues=6"), p.toString());
  }

  @Test
  void remainingZeroInASuccessDoesNotEvictButQuotaRoutingPassesItOver() throws Exception {
    // A 200 that says nothing is left: the provider stays AVAILABLE (no eviction); quota routing
    // passes it over until its reset (30 s: no limit is announced, so no refill is assumed) and,
    // with nothing else to send to, refuses rather than fail open to a sure 429.
    MockWebServer s = up.start(r -> new MockResponse.Builder().code(200).addHeader("x-ratelimit-remaining-requests", "0")
        .addHeader("x-ratelimit-reset-requests", "30s").body(Fixtures.text("openai-chat.json")).build());
    ProviderPool pool = pool(s);
    OkHttpClient client = up.client(pool);
    assertEquals("200", Upstreams.call(client, Upstreams.chat(pool))[0]);
    NoProviderAvailableException e = assertThrows(NoProviderAvailableException.class,
        () -> Upstreams.call(client, Upstreams.chat(pool)));
    assertEquals(Duration.ofSeconds(30), e.earliestReturn());
    assertEquals(ProviderSnapshot.Status.AVAILABLE, provider(pool, "a").status());
    ticker.advance(Duration.ofSeconds(30));
    assertEquals("200", Upstreams.call(client, Upstreams.chat(pool))[0]);
    assertEquals(2, up.count(s));

    // Reactive (quotaRouting(false)): information only, as before.
    ProviderPool reactive = ProviderPool.builder().ticker(ticker).quotaRouting(false)
        .tier(Provider.builder("a").baseUrl(Upstreams.baseUrl(s)).build()).build();
    OkHttpClient c2 = up.client(reactive);
    for (int i = 0; i < 3; i++) {
      assertEquals("200", Upstreams.call(c2, Upstreams.chat(reactive))[0]);
    }
    assertEquals(5, up.count(s));
    assertEquals(ProviderSnapshot.Status.AVAILABLE, provider(reactive, "a").status());
  }

  @Test
  void quotaValues() {
    Quota q = Quota.builder(Quota.Source.HEADER).limit(5).remaining(4).resetIn(Duration.ofSeconds(1))
        .age(Duration.ofMillis(3)).build();
    assertEquals("Quota{source=HEADER, limit=5, remaining=4, resetIn=PT1S, age=PT0.003S}", q.toString());
    assertEquals("Quota{source=CONFIGURATION, age=PT0S}", Quota.builder(Quota.Source.CONFIGURATION).build().toString());
    assertEquals(q.hashCode(), Quota.builder(Quota.Source.HEADER).limit(5).remaining(4).resetIn(Duration.ofSeconds(1))
        .age(Duration.ofMillis(3)).build().hashCode());
    assertTrue(assertThrows(IllegalArgumentException.class, () -> Quota.builder(Quota.Source.HEADER).limit(-2))
        .getMessage().startsWith("limit"));
    assertTrue(assertThrows(IllegalArgumentException.class,
        () -> Quota.builder(Quota.Source.HEADER).resetIn(Duration.ofSeconds(-1))).getMessage().startsWith("resetIn"));
    assertThrows(NullPointerException.class, () -> Quota.builder(null));
    ProviderSnapshot p = ProviderSnapshot.builder("a").requestQuota(q).ignoredQuotaValues(2).build();
    assertEquals(Optional.of(q), p.requestQuota());
    assertEquals(p, ProviderSnapshot.builder("a").requestQuota(q).ignoredQuotaValues(2).build());
    assertTrue(!p.equals(ProviderSnapshot.builder("a").requestQuota(q).build()));
    assertTrue(assertThrows(IllegalArgumentException.class, () -> ProviderSnapshot.builder("a").ignoredQuotaValues(-1))
        .getMessage().startsWith("ignoredQuotaValues"));
  }
}
