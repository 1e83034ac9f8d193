package io.github.llmpool.config;

import io.github.llmpool.ProviderPool;

import io.github.llmpool.config.PoolConfig;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Every malformed file is refused with the JSONPath of the fault and the bad value (never a secret). */
class ConfigErrorsTest {
  private static final Map<String, String> ENV = Map.of("KEY", "sk-secret-value", "BLANK", " ");
  private static final String A = "{\"name\":\"a\",\"baseUrl\":\"http://127.0.0.1:9/v1\"}";
  private static final String B = "{\"name\":\"b\",\"baseUrl\":\"http://127.0.0.1:9/v1\"}";

  /** The message of the IllegalArgumentException a file raises. */
  private static String error(String json) {
    return assertThrows(IllegalArgumentException.class,
        () -> PoolConfig.read(new ByteArrayInputStream(json.getBytes(StandardCharsets.UTF_8)), ENV::get)).getMessage();
  }

  /** A file with one tier holding these providers, and extra root fields before it. */
  private static String file(String root, String... providers) {
    return "{" + root + (root.isEmpty() ? "" : ",") + "\"tiers\":[{\"providers\":[" + String.join(",", providers) + "]}]}";
  }

  private static String provider(String fields) {
    return "{\"name\":\"a\",\"baseUrl\":\"http://127.0.0.1:9/v1\"," + fields + "}";
  }

  // ------------------------------------------------------------------ providers

  @Test
  void negativeWeight() {
    assertEquals("$.tiers[0].providers[1].weight must be >= 0 but was -1",
        error(file("", A, "{\"name\":\"b\",\"baseUrl\":\"http://127.0.0.1:9/v1\",\"weight\":-1}")));
  }

  @Test
  void concurrencyBelowOne() {
    assertEquals("$.tiers[0].providers[0].concurrency must be >= 1 but was 0", error(file("", provider("\"concurrency\":0"))));
  }

  @Test
  void weightNotAnInteger() {
    assertEquals("$.tiers[0].providers[0].weight must be an integer but was \"ten\"", error(file("", provider("\"weight\":\"ten\""))));
  }

  @Test
  void fractionalWeight() {
    assertEquals("$.tiers[0].providers[0].weight must be an integer but was 1.5", error(file("", provider("\"weight\":1.5"))));
  }

  @Test
  void rateLimitsBelowOneOrNotIntegers() {
    assertEquals("$.tiers[0].providers[0].requestsPerMinute must be >= 1 but was 0",
        error(file("", provider("\"requestsPerMinute\":0"))));
    assertEquals("$.tiers[0].providers[0].tokensPerMinute must be >= 1 but was -5",
        error(file("", provider("\"tokensPerMinute\":-5"))));
    assertTrue(error(file("", provider("\"requestsPerMinute\":1.5"))).startsWith("$.tiers[0].providers[0].requestsPerMinute"));
    assertTrue(error(file("", provider("\"tokensPerMinute\":\"90k\""))).startsWith("$.tiers[0].providers[0].tokensPerMinute"));
  }

  @Test
  void unknownProviderField() {
    assertEquals("$.tiers[0].providers[0].wieght is not a known setting; known: name, baseUrl, apiKey, apiKeyHeader, "
        + "model, weight, concurrency, requestsPerMinute, tokensPerMinute, quotaGroup, headers, includeUsage, allowPlaintextKey, price",
        error(file("", provider("\"wieght\":1"))));
  }

  @Test
  void missingName() {
    assertEquals("$.tiers[0].providers[0].name is required", error(file("", "{\"baseUrl\":\"http://127.0.0.1:9\"}")));
  }

  @Test
  void blankName() {
    assertEquals("$.tiers[0].providers[0].name must not be blank but was ' '",
        error(file("", "{\"name\":\" \",\"baseUrl\":\"http://127.0.0.1:9\"}")));
  }

  @Test
  void missingBaseUrl() {
    assertEquals("$.tiers[0].providers[0].baseUrl is required", error(file("", "{\"name\":\"a\"}")));
  }

  @Test
  void baseUrlWithWrongScheme() {
    assertEquals("$.tiers[0].providers[0].baseUrl must be http or https but was 'ftp://h/v1'",
        error(file("", "{\"name\":\"a\",\"baseUrl\":\"ftp://h/v1\"}")));
  }

  @Test
  void keyOverPlainHttpToARemoteHost() {
    assertEquals("$.tiers[0].providers[0].baseUrl is plain http to a non-loopback host (example.com) and would send "
            + "the API key in clear text; use https or allowPlaintextKey(true)",
        error(file("", "{\"name\":\"a\",\"baseUrl\":\"http://example.com/v1\",\"apiKey\":\"${KEY}\"}")));
  }

  @Test
  void nameNotAString() {
    assertEquals("$.tiers[0].providers[0].name must be a string but was 7", error(file("", "{\"name\":7}")));
  }

  @Test
  void duplicateNamesAcrossTiers() {
    assertEquals("$.tiers[1].providers[0].name must be unique but 'a' appears twice",
        error("{\"tiers\":[{\"providers\":[" + A + "]},{\"providers\":[" + A + "]}]}"));
  }

  @Test
  void includeUsageNotABoolean() {
    assertEquals("$.tiers[0].providers[0].includeUsage must be true or false but was \"yes\"",
        error(file("", provider("\"includeUsage\":\"yes\""))));
  }

  @Test
  void badApiKeyHeader() {
    assertEquals("$.tiers[0].providers[0].apiKeyHeader must be a header name but was 'api key'",
        error(file("", provider("\"apiKeyHeader\":\"api key\""))));
  }

  @Test
  void blankModel() {
    assertEquals("$.tiers[0].providers[0].model must not be blank", error(file("", provider("\"model\":\"\""))));
  }

  @Test
  void headersNotAnObject() {
    assertEquals("$.tiers[0].providers[0].headers must be an object but was [\"x\"]",
        error(file("", provider("\"headers\":[\"x\"]"))));
  }

  @Test
  void headerValueNotAStringIsNotShown() {
    assertEquals("$.tiers[0].providers[0].headers['X-Org'] must be a string (the value is not shown)",
        error(file("", provider("\"headers\":{\"X-Org\":12345}"))));
  }

  @Test
  void badHeaderName() {
    assertEquals("$.tiers[0].providers[0].headers['X Org'] name must be a token but was 'X Org'",
        error(file("", provider("\"headers\":{\"X Org\":\"v\"}"))));
  }

  // ------------------------------------------------------------------ secrets

  @Test
  void literalApiKeyIsRefusedWithoutShowingIt() {
    String m = error(file("", provider("\"apiKey\":\"sk-live-abcdef\"")));
    assertEquals("$.tiers[0].providers[0].apiKey must be an environment variable reference such as "
        + "\"${OPENAI_API_KEY}\", not a literal key (the value is not shown)", m);
  }

  @Test
  void apiKeyNotAStringIsNotShown() {
    assertEquals("$.tiers[0].providers[0].apiKey must be an environment variable reference such as "
        + "\"${OPENAI_API_KEY}\" (the value is not shown)", error(file("", provider("\"apiKey\":12345"))));
  }

  @Test
  void missingEnvironmentVariableIsNamed() {
    assertEquals("$.tiers[0].providers[0].apiKey names environment variable OPENAI_API_KEY, which is not set",
        error(file("", provider("\"apiKey\":\"${OPENAI_API_KEY}\""))));
  }

  @Test
  void blankEnvironmentVariableIsNamedNotShown() {
    assertEquals("$.tiers[0].providers[0].apiKey names environment variable BLANK, which is blank",
        error(file("", provider("\"apiKey\":\"${BLANK}\""))));
  }

  @Test
  void missingEnvironmentVariableInAHeader() {
    assertEquals("$.tiers[0].providers[0].headers['X-Org'] names environment variable ORG, which is not set",
        error(file("", provider("\"headers\":{\"X-Org\":\"${ORG}\"}"))));
  }

  @Test
  void unquotedKeyInBrokenJsonIsNotEchoed() {
    String m = error("{\"tiers\":[{\"providers\":[{\"name\":\"a\",\"apiKey\": sk-live-abcdef}]}]}");
    assertFalse(m.contains("sk-live"), m);
    assertEquals("config is not valid JSON at line 1, column 47: Unrecognized token: was expecting (JSON String, "
        + "Number, Array, Object or token 'null', 'true' or 'false')", m);
  }

  // ------------------------------------------------------------------ tiers

  @Test
  void missingTiers() {
    assertEquals("$.tiers is required", error("{\"strategy\":\"weighted\"}"));
  }

  @Test
  void tiersNotAnArray() {
    assertEquals("$.tiers must be an array but was {}", error("{\"tiers\":{}}"));
  }

  @Test
  void emptyTiers() {
    assertEquals("$.tiers must hold at least one tier but was empty", error("{\"tiers\":[]}"));
  }

  @Test
  void emptyTier() {
    assertEquals("$.tiers[1].providers must hold at least one provider but was empty",
        error("{\"tiers\":[{\"providers\":[" + A + "]},{\"providers\":[]}]}"));
  }

  @Test
  void tierWithoutProviders() {
    assertEquals("$.tiers[0].providers is required", error("{\"tiers\":[{}]}"));
  }

  @Test
  void unknownTierField() {
    assertEquals("$.tiers[0].provider is not a known setting; known: providers", error("{\"tiers\":[{\"provider\":[]}]}"));
  }

  @Test
  void allWeightsZero() {
    assertEquals("$.tiers[0] weights must not all be 0 but were [a=0, b=0]",
        error(file("", provider("\"weight\":0"), "{\"name\":\"b\",\"baseUrl\":\"http://127.0.0.1:9\",\"weight\":0}")));
  }

  // ------------------------------------------------------------------ root and sections

  @Test
  void rootNotAnObject() {
    assertEquals("$ must be an object but was []", error("[]"));
  }

  @Test
  void emptyFile() {
    assertEquals("config is empty", error("  "));
  }

  @Test
  void unknownRootField() {
    assertEquals("$.tier is not a known setting; known: name, virtualHost, strategy, whenAllEvicted, eviction, retry, "
        + "affinity, quota, tiers, p2c, shared, budgets", error(file("\"tier\":1", A)));
  }

  @Test
  void unknownStrategy() {
    assertEquals("$.strategy must be one of POWER_OF_TWO_CHOICES, WEIGHTED, ROUND_ROBIN but was \"fastest\"",
        error(file("\"strategy\":\"fastest\"", A)));
  }

  @Test
  void unknownAllEvictedPolicy() {
    assertEquals("$.whenAllEvicted must be one of FAIL_OPEN, FAIL_FAST but was \"panic\"",
        error(file("\"whenAllEvicted\":\"panic\"", A)));
  }

  @Test
  void badPoolName() {
    assertEquals("$.name must be 1 to 64 letters, digits, '.', '_' or '-', starting with a letter or digit, but was"
        + " 'my pool'", error(file("\"name\":\"my pool\"", A)));
  }

  @Test
  void badVirtualHost() {
    assertEquals("$.virtualHost must be a host name but was 'a b'", error(file("\"virtualHost\":\"a b\"", A)));
  }

  @Test
  void unknownEvictionField() {
    assertEquals("$.eviction.base is not a known setting; known: baseDuration, maxDuration, quotaDuration, jitter, "
        + "rateLimitThreshold, failureThreshold, maxEjectionPercent", error(file("\"eviction\":{\"base\":\"5s\"}", A)));
  }

  @Test
  void malformedDuration() {
    assertEquals("$.eviction.baseDuration must be a duration such as \"5s\", \"500ms\", \"1m30s\" or \"PT5S\" "
        + "but was \"5 seconds\"", error(file("\"eviction\":{\"baseDuration\":\"5 seconds\"}", A)));
  }

  @Test
  void bareNumberDuration() {
    assertEquals("$.eviction.baseDuration must be a duration string such as \"5s\", \"500ms\", \"1m30s\" or \"PT5S\" "
        + "but was 5", error(file("\"eviction\":{\"baseDuration\":5}", A)));
  }

  @Test
  void zeroDuration() {
    assertEquals("$.eviction.quotaDuration must be positive but was PT0S",
        error(file("\"eviction\":{\"quotaDuration\":\"0s\"}", A)));
  }

  @Test
  void maxDurationBelowBase() {
    assertEquals("$.eviction.maxDuration (PT1S) must be >= baseDuration (PT5S)",
        error(file("\"eviction\":{\"maxDuration\":\"1s\"}", A)));
  }

  @Test
  void jitterOutOfRange() {
    assertEquals("$.eviction.jitter must be in [0, 1] but was 2.0", error(file("\"eviction\":{\"jitter\":2}", A)));
  }

  @Test
  void explorationOutOfRange() {
    assertEquals("$.p2c.exploration must be in [0, 0.05] but was 0.5",
        error(file("\"p2c\":{\"exploration\":0.5}", A)));
    assertEquals("$.p2c.latencyDecay must be in [PT0.1S, PT1H] but was PT0.01S",
        error(file("\"p2c\":{\"latencyDecay\":\"10ms\"}", A)));
  }

  @Test
  void probesMustBeABoolean() {
    String e = error(file("\"p2c\":{\"probes\":\"yes\"}", A));
    assertTrue(e.contains("$.p2c.probes") && e.contains("true or false"), e);
  }

  @Test
  void maxAttemptsOutOfRange() {
    assertEquals("$.retry.maxAttempts must be in [1, 100] but was 0", error(file("\"retry\":{\"maxAttempts\":0}", A)));
  }

  @Test
  void budgetWindowOutOfRange() {
    assertEquals("$.retry.budgetWindow must be in [1s, 10m] but was PT0.5S",
        error(file("\"retry\":{\"budgetWindow\":\"500ms\"}", A)));
  }

  @Test
  void retryNotAnObject() {
    assertEquals("$.retry must be an object but was 3", error(file("\"retry\":3", A)));
  }

  @Test
  void unknownAffinityKey() {
    assertEquals("$.affinity.key must be \"user\", \"prompt_cache_key\" or \"header:<name>\" but was \"cookie\"",
        error(file("\"affinity\":{\"key\":\"cookie\"}", A)));
  }

  @Test
  void affinityWithoutKey() {
    assertEquals("$.affinity.key is required", error(file("\"affinity\":{\"maxSize\":5}", A)));
  }

  @Test
  void affinityMaxSizeBelowOne() {
    assertEquals("$.affinity.maxSize must be >= 1 but was 0", error(file("\"affinity\":{\"key\":\"user\",\"maxSize\":0}", A)));
  }

  @Test
  void duplicateField() {
    assertEquals("config is not valid JSON at line 1, column 43: Duplicate field 'name'",
        error(file("", "{\"name\":\"a\",\"name\":\"b\"}")));
  }

  @Test
  void trailingContent() {
    String m = error(file("", A) + " {}");
    assertEquals("config is not valid JSON at line 1, column 76: content after the root object", m);
  }

  @Test
  void nullMeansNotSet() throws Exception {
    PoolConfig c = PoolConfig.read(new ByteArrayInputStream(file("\"strategy\":null", provider("\"model\":null"), B)
        .getBytes(StandardCharsets.UTF_8)), ENV::get);
    assertEquals(ProviderPool.DEFAULT_STRATEGY, c.strategy());
    assertEquals(java.util.Optional.empty(), c.tiers().get(0).get(0).model());
  }
}
