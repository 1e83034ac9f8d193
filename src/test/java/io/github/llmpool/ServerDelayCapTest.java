package io.github.llmpool;

import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import mockwebserver3.MockResponse;
import mockwebserver3.MockWebServer;
import okhttp3.OkHttpClient;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * A 429 whose server delay is huge but well-formed evicts for {@code maxDuration} as a server hint;
 * a malformed or non-finite delay is no hint (the computed backoff applies). Real loopback servers.
 */
class ServerDelayCapTest {
  private static final Duration MAX = Duration.ofMinutes(2);
  private static final Duration BASE = Duration.ofSeconds(5);

  private final Upstreams up = new Upstreams();
  private final FakeTicker ticker = new FakeTicker();
  private final List<PoolEvent> events = new CopyOnWriteArrayList<>();

  @AfterEach
  void close() {
    up.close();
  }

  private PoolEvent.Evicted evictedBy(String... headers) throws Exception {
    MockResponse.Builder limited = new MockResponse.Builder().code(429)
        .body("{\"error\":{\"message\":\"slow down\",\"type\":\"requests\",\"code\":\"rate_limit_exceeded\"}}");
    for (int i = 0; i < headers.length; i += 2) {
      limited.addHeader(headers[i], headers[i + 1]);
    }
    MockResponse answer = limited.build();
    MockWebServer bad = up.start(r -> answer);
    MockWebServer good = up.startChat();
    ProviderPool pool = ProviderPool.builder().ticker(ticker).onEvent(events::add)
        .eviction(EvictionPolicy.builder().baseDuration(BASE).maxDuration(MAX).jitter(0).build())
        .tier(Provider.builder("bad").baseUrl(Upstreams.baseUrl(bad)).build())
        .tier(Provider.builder("good").baseUrl(Upstreams.baseUrl(good)).build())
        .build();
    OkHttpClient client = up.client(pool);
    assertEquals("200", Upstreams.call(client, Upstreams.chat(pool))[0]); // 429 on bad, then good
    assertEquals(1, up.count(bad));
    ProviderSnapshot s = pool.snapshot().provider("bad").orElseThrow();
    assertEquals(ProviderSnapshot.Status.EVICTED, s.status());
    PoolEvent.Evicted e = (PoolEvent.Evicted) events.stream().filter(x -> x instanceof PoolEvent.Evicted)
        .findFirst().orElseThrow();
    // the fake clock did not move: what is left is the whole eviction
    assertEquals(e.duration(), s.evictedFor().orElseThrow());
    // and it holds until then, not a nanosecond less
    ticker.advance(e.duration().minusNanos(1));
    assertEquals(ProviderSnapshot.Status.EVICTED, pool.snapshot().provider("bad").orElseThrow().status());
    assertEquals("200", Upstreams.call(client, Upstreams.chat(pool))[0]);
    assertEquals(1, up.count(bad));
    ticker.advanceNanos(1);
    // the delay the 429's server named is over: back for every request, no probe (a computed one: PROBING)
    assertEquals(e.serverHint() ? ProviderSnapshot.Status.AVAILABLE : ProviderSnapshot.Status.PROBING,
        pool.snapshot().provider("bad").orElseThrow().status());
    return e;
  }

  /** Every case on its own pool and servers; all failures reported together. */
  private void eachCase(String[] cases, java.util.function.Consumer<PoolEvent.Evicted> check) {
    List<org.junit.jupiter.api.function.Executable> all = new java.util.ArrayList<>();
    for (String c : cases) {
      all.add(() -> {
        events.clear();
        String[] h = c.split("\\|");
        PoolEvent.Evicted e = evictedBy(h[0], h[1], "x-ratelimit-remaining-requests", "0",
            "x-ratelimit-remaining-tokens", "0");
        try {
          check.accept(e);
        } catch (AssertionError failure) {
          throw new AssertionError(c + ": " + failure.getMessage(), failure);
        }
      });
    }
    assertAll(all);
  }

  @Test
  void hugeServerDelayIsAHintCappedAtMaxDuration() {
    eachCase(new String[] {
        "retry-after|99999999999",
        "retry-after|1e400",
        "retry-after|Fri, 31 Dec 9999 23:59:59 GMT",
        "retry-after-ms|1e13",
        "retry-after-ms|99999999999999999999",
        "x-ratelimit-reset-requests|99999999999s",
        "x-ratelimit-reset-tokens|3000000h",
    }, e -> {
      assertEquals(MAX, e.duration());
      assertTrue(e.serverHint());
    });
  }

  @Test
  void malformedServerDelayIsNoHint() {
    eachCase(new String[] {
        "retry-after|NaN",
        "retry-after|Infinity",
        "retry-after|-99999999999",
        "retry-after|5f",
        "retry-after-ms|NaN",
        "retry-after-ms|-Infinity",
        "retry-after-ms|-1e13",
        "retry-after-ms|0x10",
        "x-ratelimit-reset-requests|-99999999999s",
        "x-ratelimit-reset-requests|Infinitys",
    }, e -> {
      assertEquals(BASE, e.duration()); // the first computed backoff, without jitter
      assertFalse(e.serverHint());
    });
  }
}
