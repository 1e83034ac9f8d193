package io.github.llmpool;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.UnaryOperator;
import mockwebserver3.MockResponse;
import mockwebserver3.MockWebServer;
import okhttp3.OkHttpClient;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

/**
 * {@link ProviderSnapshot} and {@link PoolSnapshot} as values (builders, defaults, checks,
 * equality, toString) and as the pool fills them (eviction time present only while evicted,
 * counters that cannot read negative).
 */
class SnapshotValuesTest {
  private final Upstreams up = new Upstreams();
  private final FakeTicker ticker = new FakeTicker();

  @AfterEach
  void close() {
    up.close();
  }

  private static String iae(Executable e) {
    return assertThrows(IllegalArgumentException.class, e).getMessage();
  }

  private static String npe(Executable e) {
    return assertThrows(NullPointerException.class, e).getMessage();
  }

  private static ProviderSnapshot.Builder full() {
    return ProviderSnapshot.builder("mini").tier(1).weight(80).status(ProviderSnapshot.Status.EVICTED)
        .evictedFor(Duration.ofSeconds(5)).ejections(2).inFlight(3).latencyEstimate(Duration.ofMillis(120))
        .requests(10).successes(6).clientErrors(1).failures(3)
        .tokens(TokenCounts.builder().prompt(100).completion(50).total(150).build());
  }

  @Test
  void providerSnapshotFieldsReadBackAsSet() {
    ProviderSnapshot p = full().build();
    assertEquals(List.of("mini", 1, 80, ProviderSnapshot.Status.EVICTED, Optional.of(Duration.ofSeconds(5)), 2),
        List.of(p.name(), p.tier(), p.weight(), p.status(), p.evictedFor(), p.ejections()));
    assertEquals(List.of(3L, 10L, 6L, 1L, 3L, 150L), List.of(p.inFlight(), p.requests(), p.successes(),
        p.clientErrors(), p.failures(), p.totalTokens()));
    assertEquals(Duration.ofMillis(120), p.latencyEstimate());
    assertEquals(TokenCounts.builder().prompt(100).completion(50).total(150).build(), p.tokens());
  }

  @Test
  void providerSnapshotDefaults() {
    ProviderSnapshot p = ProviderSnapshot.builder("p").build();
    assertEquals(List.of(0, Provider.DEFAULT_WEIGHT, ProviderSnapshot.Status.AVAILABLE, Optional.empty(), 0),
        List.of(p.tier(), p.weight(), p.status(), p.evictedFor(), p.ejections()));
    assertEquals(List.of(0L, 0L, 0L, 0L, 0L), List.of(p.inFlight(), p.requests(), p.successes(), p.clientErrors(),
        p.failures()));
    assertEquals(Duration.ZERO, p.latencyEstimate());
    assertSame(TokenCounts.ZERO, p.tokens());
  }

  @Test
  void providerSnapshotsAreEqualByValue() {
    ProviderSnapshot a = full().build();
    assertEquals(a, full().build());
    assertEquals(a.hashCode(), full().build().hashCode());
    List<UnaryOperator<ProviderSnapshot.Builder>> changes = List.of(b -> b.tier(0), b -> b.weight(1),
        b -> b.status(ProviderSnapshot.Status.PROBING), b -> b.evictedFor(null), b -> b.ejections(0),
        b -> b.inFlight(0), b -> b.latencyEstimate(Duration.ZERO), b -> b.requests(11), b -> b.successes(0),
        b -> b.clientErrors(0), b -> b.failures(0), b -> b.tokens(TokenCounts.ZERO));
    for (UnaryOperator<ProviderSnapshot.Builder> change : changes) {
      ProviderSnapshot other = change.apply(full()).build();
      assertNotEquals(a, other, other::toString);
    }
    assertNotEquals(a, ProviderSnapshot.builder("other").build());
    assertNotEquals(a, null);
  }

  @Test
  void providerSnapshotToStringLeavesAnAbsentEvictionOut() {
    assertEquals("ProviderSnapshot{name=mini, tier=1, weight=80, status=EVICTED, evictedFor=PT5S, ejections=2,"
        + " inFlight=3, latencyEstimate=PT0.12S, requests=10, probes=0, successes=6, clientErrors=1, failures=3,"
        + " tokens=TokenCounts{prompt=100, completion=50, total=150, cached=0, reasoning=0}}", full().build().toString());
    assertEquals("ProviderSnapshot{name=p, tier=0, weight=1, status=AVAILABLE, ejections=0, inFlight=0,"
        + " latencyEstimate=PT0S, requests=0, probes=0, successes=0, clientErrors=0, failures=0,"
        + " tokens=TokenCounts{prompt=0, completion=0, total=0, cached=0, reasoning=0}}",
        ProviderSnapshot.builder("p").build().toString());
  }

  @Test
  void providerSnapshotBuilderRefusesBadValuesNamingThem() {
    ProviderSnapshot.Builder b = ProviderSnapshot.builder("p");
    assertEquals("name", npe(() -> ProviderSnapshot.builder(null)));
    assertEquals("tier must be >= 0 but was -1", iae(() -> b.tier(-1)));
    assertEquals("weight must be >= 0 but was -1", iae(() -> b.weight(-1)));
    assertEquals("status", npe(() -> b.status(null)));
    assertEquals("evictedFor must not be negative but was PT-1S", iae(() -> b.evictedFor(Duration.ofSeconds(-1))));
    assertEquals("ejections must be >= 0 but was -1", iae(() -> b.ejections(-1)));
    assertEquals("inFlight must be >= 0 but was -1", iae(() -> b.inFlight(-1)));
    assertEquals("latencyEstimate", npe(() -> b.latencyEstimate(null)));
    assertEquals("latencyEstimate must not be negative but was PT-0.001S",
        iae(() -> b.latencyEstimate(Duration.ofMillis(-1))));
    assertEquals("requests must be >= 0 but was -1", iae(() -> b.requests(-1)));
    assertEquals("successes must be >= 0 but was -1", iae(() -> b.successes(-1)));
    assertEquals("clientErrors must be >= 0 but was -1", iae(() -> b.clientErrors(-1)));
    assertEquals("failures must be >= 0 but was -1", iae(() -> b.failures(-1)));
    assertEquals("tokens", npe(() -> b.tokens(null)));
    assertEquals(ProviderSnapshot.builder("p").build(), b.build(), "a refused value leaves the builder as it was");
  }

  @Test
  void poolSnapshotHoldsItsProvidersInOrder() {
    ProviderSnapshot a = ProviderSnapshot.builder("a").inFlight(2).build();
    ProviderSnapshot b = ProviderSnapshot.builder("b").tier(1).inFlight(3).build();
    PoolSnapshot s = PoolSnapshot.builder(Strategy.WEIGHTED).provider(a).providers(List.of(b)).build();
    assertEquals(Strategy.WEIGHTED, s.strategy());
    assertEquals(List.of(a, b), s.providers());
    assertEquals(Optional.of(b), s.provider("b"));
    assertEquals(Optional.empty(), s.provider("c"));
    assertEquals(5, s.inFlight());
    assertThrows(UnsupportedOperationException.class, () -> s.providers().add(a));
  }

  @Test
  void poolSnapshotCopiesWhatItWasBuiltFrom() {
    List<ProviderSnapshot> list = new ArrayList<>(List.of(ProviderSnapshot.builder("a").build()));
    PoolSnapshot.Builder builder = PoolSnapshot.builder(Strategy.ROUND_ROBIN).providers(list);
    PoolSnapshot s = builder.build();
    list.add(ProviderSnapshot.builder("b").build());
    builder.provider(ProviderSnapshot.builder("c").build());
    assertEquals(1, s.providers().size());
    assertEquals(2, builder.build().providers().size());
  }

  @Test
  void poolSnapshotsAreEqualByValueAndPrintTheirProviders() {
    PoolSnapshot s = PoolSnapshot.builder(Strategy.ROUND_ROBIN).provider(ProviderSnapshot.builder("a").build()).build();
    assertEquals(s, PoolSnapshot.builder(Strategy.ROUND_ROBIN).provider(ProviderSnapshot.builder("a").build()).build());
    assertEquals(s.hashCode(),
        PoolSnapshot.builder(Strategy.ROUND_ROBIN).provider(ProviderSnapshot.builder("a").build()).build().hashCode());
    assertNotEquals(s, PoolSnapshot.builder(Strategy.WEIGHTED).provider(ProviderSnapshot.builder("a").build()).build());
    assertNotEquals(s, PoolSnapshot.builder(Strategy.ROUND_ROBIN).build());
    assertEquals("PoolSnapshot{strategy=ROUND_ROBIN, providers=[" + ProviderSnapshot.builder("a").build() + "]}",
        s.toString());
  }

  @Test
  void poolSnapshotBuilderRefusesBadValuesNamingThem() {
    assertEquals("strategy", npe(() -> PoolSnapshot.builder(null)));
    PoolSnapshot.Builder b = PoolSnapshot.builder(Strategy.WEIGHTED);
    assertEquals("provider", npe(() -> b.provider(null)));
    assertEquals("providers", npe(() -> b.providers(null)));
    List<ProviderSnapshot> withNull = new ArrayList<>();
    withNull.add(null);
    assertEquals("provider", npe(() -> PoolSnapshot.builder(Strategy.WEIGHTED).providers(withNull)));
    assertEquals("provider names must be unique but 'a' appears twice", iae(() -> PoolSnapshot.builder(Strategy.WEIGHTED)
        .provider(ProviderSnapshot.builder("a").build()).provider(ProviderSnapshot.builder("a").tier(1).build()).build()));
    assertEquals("name", npe(() -> b.build().provider(null)));
  }

  @Test
  void theEvictionTimeIsPresentOnlyWhileEvicted() throws Exception {
    MockWebServer bad = up.start(r -> new MockResponse.Builder().code(503).body("{}").build());
    ProviderPool pool = ProviderPool.builder().ticker(ticker).retry(RetryPolicy.none())
        .eviction(EvictionPolicy.builder().baseDuration(Duration.ofSeconds(5)).jitter(0).failureThreshold(1).build())
        .tier(Provider.builder("bad").baseUrl(Upstreams.baseUrl(bad)).build()).build();
    ProviderSnapshot before = pool.snapshot().provider("bad").orElseThrow();
    assertEquals(List.of(ProviderSnapshot.Status.AVAILABLE, Optional.empty()),
        List.of(before.status(), before.evictedFor()));

    assertEquals("503", Upstreams.call(up.client(pool), Upstreams.chat(pool))[0]);
    ProviderSnapshot evicted = pool.snapshot().provider("bad").orElseThrow();
    assertEquals(List.of(ProviderSnapshot.Status.EVICTED, Optional.of(Duration.ofSeconds(5))),
        List.of(evicted.status(), evicted.evictedFor()));

    ticker.advance(Duration.ofSeconds(5));
    ProviderSnapshot probing = pool.snapshot().provider("bad").orElseThrow();
    assertEquals(List.of(ProviderSnapshot.Status.PROBING, Optional.empty()),
        List.of(probing.status(), probing.evictedFor()));
  }

  @Test
  void cumulativeTokenCountsSaturateInsteadOfReadingNegative() throws Exception {
    String max = String.valueOf(Long.MAX_VALUE);
    MockWebServer s = up.start(r -> new MockResponse.Builder().addHeader("content-type", "application/json")
        .body("{\"model\":\"m\",\"usage\":{\"prompt_tokens\":" + max + ",\"completion_tokens\":1,\"total_tokens\":"
            + max + "}}").build());
    ProviderPool pool = ProviderPool.builder().ticker(ticker)
        .tier(Provider.builder("p").baseUrl(Upstreams.baseUrl(s)).build()).build();
    OkHttpClient c = up.client(pool);
    for (int i = 0; i < 2; i++) {
      assertEquals("200", Upstreams.call(c, Upstreams.chat(pool))[0]);
    }
    TokenCounts t = pool.snapshot().provider("p").orElseThrow().tokens();
    assertEquals(List.of(Long.MAX_VALUE, 2L, Long.MAX_VALUE), List.of(t.prompt(), t.completion(), t.total()));
  }
}
