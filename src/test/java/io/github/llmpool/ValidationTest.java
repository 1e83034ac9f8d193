package io.github.llmpool;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

/** Every configuration error names its setting and the bad value, at build time. */
class ValidationTest {

  private static Provider p(String name) {
    return Provider.builder(name).baseUrl("http://127.0.0.1:9/v1").build();
  }

  private static String iae(Executable e) {
    return assertThrows(IllegalArgumentException.class, e).getMessage();
  }

  private static String npe(Executable e) {
    return assertThrows(NullPointerException.class, e).getMessage();
  }

  @Test
  void poolWithoutProviderIsRefused() {
    assertEquals("tiers must hold at least one provider but the pool has none", iae(() -> ProviderPool.builder().build()));
  }

  @Test
  void emptyTierIsRefused() {
    assertEquals("tier 1 must hold at least one provider but was empty",
        iae(() -> ProviderPool.builder().tier(p("a")).tier(List.of()).build()));
  }

  @Test
  void duplicateNamesAreRefused() {
    assertEquals("provider names must be unique but 'a' appears twice",
        iae(() -> ProviderPool.builder().tier(p("a")).tier(p("a")).build()));
  }

  @Test
  void malformedUrlIsRefused() {
    assertEquals("baseUrl of provider 'a' is malformed: 'http://exa mple.com/v1'",
        iae(() -> Provider.builder("a").baseUrl("http://exa mple.com/v1").build()));
  }

  @Test
  void nonHttpUrlIsRefused() {
    assertEquals("baseUrl of provider 'a' must be http or https but was 'ftp://example.com/v1'",
        iae(() -> Provider.builder("a").baseUrl("ftp://example.com/v1").build()));
  }

  @Test
  void urlWithoutSchemeIsRefused() {
    assertEquals("baseUrl of provider 'a' must be http or https but was 'api.openai.com/v1'",
        iae(() -> Provider.builder("a").baseUrl("api.openai.com/v1").build()));
  }

  @Test
  void urlWithQueryIsRefused() {
    assertEquals("baseUrl of provider 'a' must not have a query, fragment or user info but was 'https://h/v1?x=1'",
        iae(() -> Provider.builder("a").baseUrl("https://h/v1?x=1").build()));
  }

  @Test
  void missingUrlIsRefused() {
    assertEquals("baseUrl of provider 'a' is required", iae(() -> Provider.builder("a").build()));
  }

  @Test
  void negativeWeightIsRefused() {
    assertEquals("weight must be >= 0 but was -1 (provider 'a')", iae(() -> Provider.builder("a").weight(-1)));
  }

  @Test
  void tierWithOnlyZeroWeightsIsRefused() {
    Provider a = Provider.builder("a").baseUrl("http://127.0.0.1:9").weight(0).build();
    Provider b = Provider.builder("b").baseUrl("http://127.0.0.1:9").weight(0).build();
    assertEquals("weights of tier 0 must not all be 0 but were [a=0, b=0]", iae(() -> ProviderPool.builder().tier(a, b).build()));
  }

  @Test
  void blankKeyIsRefused() {
    assertEquals("apiKey of provider 'a' must not be blank", iae(() -> Provider.builder("a").apiKey("  ")));
  }

  @Test
  void blankNameIsRefused() {
    assertEquals("name must not be blank but was ' '", iae(() -> Provider.builder(" ")));
  }

  @Test
  void blankModelIsRefused() {
    assertEquals("model of provider 'a' must not be blank", iae(() -> Provider.builder("a").model("")));
  }

  @Test
  void badHeaderNameIsRefused() {
    assertEquals("header name must be a token but was 'x y'", iae(() -> Provider.builder("a").header("x y", "1")));
    assertEquals("apiKeyHeader must be a header name but was 'api key'", iae(() -> Provider.builder("a").apiKeyHeader("api key")));
  }

  @Test
  void keyOverPlainHttpToRemoteHostIsRefused() {
    assertEquals("baseUrl of provider 'a' is plain http to a non-loopback host (example.com) and would send the API key"
            + " in clear text; use https or allowPlaintextKey(true)",
        iae(() -> Provider.builder("a").baseUrl("http://example.com/v1").apiKey("sk-secret").build()));
    // Loopback and explicit opt-in are allowed.
    Provider.builder("a").baseUrl("http://localhost:8090/v1").apiKey("k").build();
    Provider.builder("a").baseUrl("http://127.0.0.1:8090/v1").apiKey("k").build();
    Provider.builder("a").baseUrl("http://[::1]:8090/v1").apiKey("k").build();
    Provider.builder("a").baseUrl("http://example.com/v1").apiKey("k").allowPlaintextKey(true).build();
  }

  @Test
  void nullsNameTheParameter() {
    assertEquals("name", npe(() -> Provider.builder(null)));
    assertEquals("baseUrl", npe(() -> Provider.builder("a").baseUrl(null)));
    assertEquals("apiKey", npe(() -> Provider.builder("a").apiKey(null)));
    assertEquals("strategy", npe(() -> ProviderPool.builder().strategy(null)));
    assertEquals("onUsage", npe(() -> ProviderPool.builder().onUsage(null)));
    assertEquals("provider", npe(() -> ProviderPool.builder().tier((Provider) null)));
    assertEquals("ticker", npe(() -> ProviderPool.builder().ticker(null)));
  }

  @Test
  void policyRangesAreChecked() {
    assertEquals("maxAttempts must be in [1, 100] but was 0", iae(() -> RetryPolicy.builder().maxAttempts(0)));
    assertEquals("budgetRatio must be in [0, 10] but was -0.1", iae(() -> RetryPolicy.builder().budgetRatio(-0.1)));
    assertEquals("minRetriesPerSecond must be >= 0 but was -1", iae(() -> RetryPolicy.builder().minRetriesPerSecond(-1)));
    assertEquals("budgetWindow must be in [1s, 10m] but was PT0.5S",
        iae(() -> RetryPolicy.builder().budgetWindow(Duration.ofMillis(500))));
    assertEquals("baseDuration must be positive but was PT0S", iae(() -> EvictionPolicy.builder().baseDuration(Duration.ZERO)));
    assertEquals("jitter must be in [0, 1] but was 2.0", iae(() -> EvictionPolicy.builder().jitter(2)));
    assertEquals("failureThreshold must be >= 1 but was 0", iae(() -> EvictionPolicy.builder().failureThreshold(0)));
    assertEquals("rateLimitThreshold must be >= 1 but was 0", iae(() -> EvictionPolicy.builder().rateLimitThreshold(0)));
    assertEquals("maxEjectionPercent must be in [1, 100] but was 0", iae(() -> EvictionPolicy.builder().maxEjectionPercent(0)));
    assertEquals("maxDuration (PT1S) must be >= baseDuration (PT5S)",
        iae(() -> EvictionPolicy.builder().maxDuration(Duration.ofSeconds(1)).build()));
    assertEquals("virtualHost must be a host name but was 'a b'", iae(() -> ProviderPool.builder().virtualHost("a b")));
  }

  @Test
  void p2cSettingsAreCheckedAndDefaultToTheirConstants() {
    assertEquals("latencyDecay must be in [PT0.1S, PT1H] but was PT0S",
        iae(() -> P2cSettings.builder().latencyDecay(Duration.ZERO)));
    assertEquals("latencyDecay must be in [PT0.1S, PT1H] but was PT1H0.001S",
        iae(() -> P2cSettings.builder().latencyDecay(Duration.ofHours(1).plusMillis(1))));
    assertEquals("initialLatency must be in [PT0.001S, PT10M] but was PT0S",
        iae(() -> P2cSettings.builder().initialLatency(Duration.ZERO)));
    assertEquals("initialLatency must be in [PT0.001S, PT10M] but was PT10M1S",
        iae(() -> P2cSettings.builder().initialLatency(Duration.ofSeconds(601))));
    assertEquals("latencyDecay", npe(() -> P2cSettings.builder().latencyDecay(null)));
    assertEquals("initialLatency", npe(() -> P2cSettings.builder().initialLatency(null)));
    assertEquals("p2c", npe(() -> ProviderPool.builder().p2c(null)));

    P2cSettings d = P2cSettings.defaults();
    assertEquals(P2cSettings.DEFAULT_LATENCY_DECAY, d.latencyDecay());
    assertEquals(Duration.ofSeconds(10), d.latencyDecay());
    assertEquals(P2cSettings.DEFAULT_INITIAL_LATENCY, d.initialLatency());
    assertEquals(Duration.ofMillis(100), d.initialLatency());
    assertEquals(P2cSettings.DEFAULT_LLM_AWARE, d.llmAware());
    assertTrue(d.llmAware());
    assertEquals(d, P2cSettings.builder().build());

    P2cSettings s = P2cSettings.builder().latencyDecay(P2cSettings.MIN_LATENCY_DECAY)
        .initialLatency(P2cSettings.MAX_INITIAL_LATENCY).llmAware(false).build();
    assertEquals(s, s.toBuilder().build());
    assertEquals(s.hashCode(), s.toBuilder().build().hashCode());
    assertEquals("P2cSettings{latencyDecay=PT0.1S, initialLatency=PT10M, llmAware=false, exploration=0.02}",
        s.toString());
    assertFalse(d.probes(), "probes are off by default: the pool sends no request of its own");
    P2cSettings probing = s.toBuilder().probes(true).build();
    assertTrue(probing.probes());
    assertNotEquals(s, probing);
    assertEquals(probing, probing.toBuilder().build());
    assertTrue(probing.toString().endsWith("exploration=0.02, probes}"), probing.toString());
    assertEquals(P2cSettings.DEFAULT_EXPLORATION, d.exploration());
    assertEquals(0.02, d.exploration());
    P2cSettings e = P2cSettings.builder().exploration(P2cSettings.MAX_EXPLORATION).build();
    assertEquals(0.05, e.exploration());
    assertEquals(e, e.toBuilder().build());
    assertTrue(!e.equals(d));
    IllegalArgumentException bad = assertThrows(IllegalArgumentException.class,
        () -> P2cSettings.builder().exploration(-0.01));
    assertEquals("exploration must be in [0, 0.05] but was -0.01", bad.getMessage());
    assertEquals(s, ProviderPool.builder().tier(p("a")).p2c(s).build().p2c());
    assertEquals(d, ProviderPool.builder().tier(p("a")).build().p2c());
  }

  @Test
  void rateLimitsMustBeAtLeastOne() {
    assertEquals("requestsPerMinute must be >= 1 but was 0 (provider 'a')",
        iae(() -> Provider.builder("a").requestsPerMinute(0)));
    assertEquals("tokensPerMinute must be >= 1 but was -3 (provider 'a')",
        iae(() -> Provider.builder("a").tokensPerMinute(-3)));
    Provider p = Provider.builder("a").baseUrl("http://127.0.0.1:9/v1").requestsPerMinute(500).tokensPerMinute(90_000)
        .build();
    assertEquals(java.util.OptionalInt.of(500), p.toBuilder().build().requestsPerMinute());
    assertEquals(java.util.OptionalLong.of(90_000), p.toBuilder().build().tokensPerMinute());
    assertTrue(p.toString().contains("requestsPerMinute=500, tokensPerMinute=90000"), p.toString());
    Provider none = Provider.builder("b").baseUrl("http://127.0.0.1:9/v1").build();
    assertEquals(java.util.OptionalInt.empty(), none.requestsPerMinute());
    assertEquals(java.util.OptionalLong.empty(), none.tokensPerMinute());
    assertFalse(none.toString().contains("PerMinute"), none.toString());
  }

  @Test
  void concurrencyMustBeAtLeastOne() {
    assertEquals("concurrency must be >= 1 but was 0 (provider 'a')", iae(() -> Provider.builder("a").concurrency(0)));
    assertEquals("concurrency must be >= 1 but was -3 (provider 'a')", iae(() -> Provider.builder("a").concurrency(-3)));
    Provider p = Provider.builder("a").baseUrl("http://127.0.0.1:9/v1").concurrency(16).build();
    assertEquals(16, p.concurrency());
    assertEquals(16, p.toBuilder().build().concurrency());
    assertTrue(p.toString().contains("concurrency=16"), p.toString());
    assertEquals(Provider.DEFAULT_CONCURRENCY, Provider.builder("b").baseUrl("http://127.0.0.1:9/v1").build().concurrency());
  }

  @Test
  void toStringNeverShowsTheKey() {
    Provider p = Provider.builder("a").baseUrl("https://api.example.com/v1").apiKey("sk-very-secret-123").build();
    assertFalse(p.toString().contains("sk-very-secret-123"), p.toString());
    assertTrue(p.toString().contains("****"));
    ProviderPool pool = ProviderPool.builder().tier(p).build();
    assertFalse(pool.toString().contains("sk-very-secret-123"));
    assertFalse(pool.snapshot().toString().contains("sk-very-secret-123"));
  }

  @Test
  void baseUrlIsNormalised() {
    assertEquals("https://api.openai.com/v1", Provider.builder("a").baseUrl("https://api.openai.com/v1/").build().baseUrl().toString());
    assertEquals("http://llmpool.invalid/v1/", ProviderPool.builder().tier(p("a")).build().baseUrl().toString());
  }
}
