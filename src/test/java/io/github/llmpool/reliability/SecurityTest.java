package io.github.llmpool.reliability;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.llmpool.AllEvictedPolicy;
import io.github.llmpool.AttemptsExhaustedException;
import io.github.llmpool.FakeTicker;
import io.github.llmpool.Fixtures;
import io.github.llmpool.LlmPoolException;
import io.github.llmpool.ProviderSnapshot;
import io.github.llmpool.NoProviderAvailableException;
import io.github.llmpool.PoolEvent;
import io.github.llmpool.Provider;
import io.github.llmpool.ProviderPool;
import io.github.llmpool.RetryPolicy;
import io.github.llmpool.Strategy;
import io.github.llmpool.TokenUsage;
import io.github.llmpool.TruncatedStreamException;
import io.github.llmpool.Upstreams;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import mockwebserver3.MockResponse;
import mockwebserver3.MockWebServer;
import mockwebserver3.RecordedRequest;
import mockwebserver3.SocketEffect;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import okhttp3.RequestBody;
import okhttp3.Response;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * No key goes where it does not belong: not into any log line (captured at TRACE in a child JVM,
 * see {@link SecurityLogScenario}), {@code toString}, event, usage record or exception message;
 * not to another provider on failover; not to another host on a redirect; not over plain http to
 * a remote host. The caller's own credentials are never forwarded, and bodies are never logged.
 */
class SecurityTest {
  private static final String KEY_A = "sk-proj-A" + UUID.randomUUID().toString().replace("-", "");
  private static final String KEY_B = "azure-B" + UUID.randomUUID().toString().replace("-", "");
  private static final String KEY_C = "anthropic-C" + UUID.randomUUID().toString().replace("-", "");
  private static final String KEY_EXTRA = "goog-extra" + UUID.randomUUID().toString().replace("-", "");
  private static final String CALLER_KEY = "caller-key" + UUID.randomUUID().toString().replace("-", "");
  private static final List<String> SECRETS = List.of(KEY_A, KEY_B, KEY_C, KEY_EXTRA, CALLER_KEY);

  private final Upstreams up = new Upstreams();

  @AfterEach
  void close() {
    up.close();
  }

  private static void assertNoSecret(String where, String text) {
    for (String s : SECRETS) {
      assertFalse(text.contains(s), () -> where + " contains a key: " + text);
      assertFalse(text.contains(s.substring(s.length() - 12)), () -> where + " contains the end of a key: " + text);
    }
  }

  private static String stackTrace(Throwable t) {
    StringWriter w = new StringWriter();
    t.printStackTrace(new PrintWriter(w));
    return w.toString();
  }

  private static String deadUrl() throws IOException {
    int port;
    try (ServerSocket s = new ServerSocket(0)) {
      port = s.getLocalPort();
    }
    return "http://127.0.0.1:" + port + "/v1";
  }

  /**
   * The request line, every header in clear (OkHttp's {@code Headers.toString()} masks
   * {@code Authorization}) and the body of a recorded request.
   */
  static String everything(RecordedRequest r) {
    StringBuilder sb = new StringBuilder(r.getRequestLine()).append('\n');
    for (int i = 0; i < r.getHeaders().size(); i++) {
      sb.append(r.getHeaders().name(i)).append(": ").append(r.getHeaders().value(i)).append('\n');
    }
    return sb.append(r.getBody() == null ? "" : r.getBody().utf8()).toString();
  }

  // ------------------------------------------------------------------ toString, events, records, exceptions

  @Test
  void noKeyInToStringOfProvidersPoolSnapshotOrInterceptors() {
    Provider a = Provider.builder("a").baseUrl("https://api.openai.com/v1").apiKey(KEY_A).build();
    Provider b = Provider.builder("b").baseUrl("https://x.openai.azure.com/openai/v1").apiKey(KEY_B)
        .apiKeyHeader("api-key").header("x-goog-api-key", KEY_EXTRA).build();
    Provider c = Provider.builder("c").baseUrl("http://localhost:8090/v1").apiKey(KEY_C).apiKeyHeader("x-api-key")
        .build();
    ProviderPool pool = ProviderPool.builder().tier(a, b).tier(c).build();
    List<Object> shown = List.of(a, b, c, a.withWeight(5), b.toBuilder().weight(3).build(), pool, pool.tiers(),
        pool.snapshot(), pool.snapshot().providers(), pool.interceptor(), pool.redirectGuard(), b.headers().keySet());
    for (Object o : shown) {
      assertNoSecret(o.getClass().getSimpleName() + ".toString()", String.valueOf(o));
    }
    assertTrue(a.toString().contains("apiKey=****"), a.toString());
    assertTrue(b.toString().contains("headers=[x-goog-api-key]"), b.toString());
  }

  @Test
  void noKeyInEventsUsageRecordsOrExceptionsAfterFailures() throws Exception {
    FakeTicker ticker = new FakeTicker();
    List<PoolEvent> events = new CopyOnWriteArrayList<>();
    List<TokenUsage> usages = new CopyOnWriteArrayList<>();
    MockWebServer limited = up.start(r -> Fixtures.http("openai-429-rate-limit.http"));
    MockWebServer broken = up.start(r -> Fixtures.http("openai-503.http"));
    MockWebServer reset = up.start(r -> new MockResponse.Builder().onResponseStart(new SocketEffect.CloseSocket())
        .build());
    MockWebServer cut = up.start(r -> new MockResponse.Builder().addHeader("content-type", "text/event-stream")
        .body("data: {\"choices\":[{\"delta\":{\"content\":\"x\"},\"finish_reason\":null}]}\n\n").build());
    ProviderPool pool = ProviderPool.builder().ticker(ticker).strategy(Strategy.ROUND_ROBIN)
        .retry(RetryPolicy.builder().maxAttempts(5).build())
        .onEvent(events::add).onUsage(usages::add)
        .tier(Provider.builder("a").baseUrl(Upstreams.baseUrl(limited)).apiKey(KEY_A).build())
        .tier(Provider.builder("b").baseUrl(Upstreams.baseUrl(broken)).apiKey(KEY_B).apiKeyHeader("api-key")
            .header("x-goog-api-key", KEY_EXTRA).build())
        .tier(Provider.builder("c").baseUrl(Upstreams.baseUrl(reset)).apiKey(KEY_C).apiKeyHeader("x-api-key").build())
        .tier(Provider.builder("d").baseUrl(deadUrl()).apiKey(KEY_C).build())
        .build();
    OkHttpClient client = up.client(pool);
    Request withCallerKey = Upstreams.chat(pool).newBuilder().header("Authorization", "Bearer " + CALLER_KEY).build();
    List<Throwable> thrown = new ArrayList<>();
    thrown.add(assertThrows(AttemptsExhaustedException.class, () -> Upstreams.call(client, withCallerKey)));
    // Every provider is evicted now; fail fast names them all.
    ProviderPool failFast = ProviderPool.builder().ticker(ticker).whenAllEvicted(AllEvictedPolicy.FAIL_FAST)
        .onEvent(events::add).onUsage(usages::add)
        .tier(Provider.builder("a").baseUrl(Upstreams.baseUrl(limited)).apiKey(KEY_A).build()).build();
    OkHttpClient ff = up.client(failFast);
    assertEquals("429", Upstreams.call(ff, Upstreams.chat(failFast))[0]);
    thrown.add(assertThrows(NoProviderAvailableException.class, () -> Upstreams.call(ff, Upstreams.chat(failFast))));
    // A truncated stream.
    ProviderPool streams = ProviderPool.builder().onEvent(events::add).onUsage(usages::add)
        .tier(Provider.builder("s").baseUrl(Upstreams.baseUrl(cut)).apiKey(KEY_A).build()).build();
    thrown.add(assertThrows(TruncatedStreamException.class,
        () -> Upstreams.call(up.client(streams), Upstreams.post(streams, "chat/completions", "{\"stream\":true}"))));

    assertTrue(events.size() >= 6, events::toString);
    assertFalse(usages.isEmpty());
    for (PoolEvent e : events) {
      assertNoSecret("event", e.toString());
    }
    for (TokenUsage u : usages) {
      assertNoSecret("usage record", u.toString());
    }
    for (Throwable t : thrown) {
      assertNoSecret(t.getClass().getSimpleName(), t.getMessage());
      assertNoSecret(t.getClass().getSimpleName() + " stack trace", stackTrace(t));
    }
    AttemptsExhaustedException x = (AttemptsExhaustedException) thrown.get(0);
    assertEquals(List.of("a", "b", "c", "d"), x.attempts().stream().map(at -> at.provider()).toList());
    for (ProviderPool p : List.of(pool, failFast, streams)) {
      assertNoSecret("snapshot", p.snapshot().toString());
      assertNoSecret("pool", p.toString());
    }
  }

  // ------------------------------------------------------------------ credentials on the wire

  @Test
  void inboundCredentialsAreNeverForwarded() throws Exception {
    MockWebServer signed = up.startChat();
    MockWebServer unsigned = up.startChat();
    ProviderPool pool = ProviderPool.builder().strategy(Strategy.ROUND_ROBIN)
        .tier(Provider.builder("signed").baseUrl(Upstreams.baseUrl(signed)).apiKey(KEY_A).build())
        .tier(Provider.builder("unsigned").baseUrl(Upstreams.baseUrl(unsigned)).build())
        .build();
    Request inbound = Upstreams.chat(pool).newBuilder()
        .header("Authorization", "Bearer " + CALLER_KEY)
        .header("api-key", CALLER_KEY)
        .header("x-api-key", CALLER_KEY)
        .header("x-goog-api-key", CALLER_KEY)
        .build();
    OkHttpClient client = up.client(pool);
    assertEquals("200", Upstreams.call(client, inbound)[0]);
    RecordedRequest r = signed.takeRequest(5, TimeUnit.SECONDS);
    assertEquals("Bearer " + KEY_A, r.getHeaders().get("Authorization"));
    assertFalse(everything(r).contains(CALLER_KEY), everything(r));
    assertNull(r.getHeaders().get("api-key"));
    assertNull(r.getHeaders().get("x-api-key"));
    assertNull(r.getHeaders().get("x-goog-api-key"));

    // A provider without a key gets no credential at all, not the caller's.
    pool.update(List.of(List.of(Provider.builder("unsigned").baseUrl(Upstreams.baseUrl(unsigned)).build())));
    assertEquals("200", Upstreams.call(client, inbound)[0]);
    RecordedRequest u = unsigned.takeRequest(5, TimeUnit.SECONDS);
    assertNull(u.getHeaders().get("Authorization"));
    assertFalse(everything(u).contains(CALLER_KEY), everything(u));
  }

  @ParameterizedTest(name = "first provider''s key in {0}")
  @ValueSource(strings = {"Authorization", "api-key", "x-api-key"})
  void failoverNeverCarriesOneProvidersKeyToAnother(String firstHeader) throws Exception {
    MockWebServer first = up.start(r -> Fixtures.http("openai-429-rate-limit.http"));
    MockWebServer second = up.start(r -> Fixtures.http("anthropic-529.http"));
    MockWebServer third = up.start(r -> new MockResponse.Builder().onResponseStart(new SocketEffect.CloseSocket())
        .build());
    MockWebServer last = up.startChat();
    String secondHeader = firstHeader.equals("Authorization") ? "api-key" : "Authorization";
    ProviderPool pool = ProviderPool.builder().strategy(Strategy.ROUND_ROBIN)
        .retry(RetryPolicy.builder().maxAttempts(4).build())
        .tier(Provider.builder("first").baseUrl(Upstreams.baseUrl(first)).apiKey(KEY_A).apiKeyHeader(firstHeader)
            .header("x-goog-api-key", KEY_EXTRA).build())
        .tier(Provider.builder("second").baseUrl(Upstreams.baseUrl(second)).apiKey(KEY_B).apiKeyHeader(secondHeader)
            .build())
        .tier(Provider.builder("third").baseUrl(Upstreams.baseUrl(third)).apiKey(KEY_C).apiKeyHeader("x-api-key")
            .build())
        .tier(Provider.builder("last").baseUrl(Upstreams.baseUrl(last)).build())
        .build();
    assertEquals("200", Upstreams.call(up.client(pool), Upstreams.chat(pool))[0]);
    String toFirst = everything(first.takeRequest(5, TimeUnit.SECONDS));
    String toSecond = everything(second.takeRequest(5, TimeUnit.SECONDS));
    String toThird = everything(third.takeRequest(5, TimeUnit.SECONDS));
    String toLast = everything(last.takeRequest(5, TimeUnit.SECONDS));
    assertTrue(toFirst.contains(KEY_A) && toFirst.contains(KEY_EXTRA), toFirst);
    assertTrue(toSecond.contains(KEY_B), toSecond);
    assertTrue(toThird.contains(KEY_C), toThird);
    for (String k : List.of(KEY_B, KEY_C)) {
      assertFalse(toFirst.contains(k), toFirst);
    }
    for (String k : List.of(KEY_A, KEY_EXTRA, KEY_C)) {
      assertFalse(toSecond.contains(k), toSecond);
    }
    for (String k : List.of(KEY_A, KEY_EXTRA, KEY_B)) {
      assertFalse(toThird.contains(k), toThird);
    }
    for (String k : SECRETS) {
      assertFalse(toLast.contains(k), toLast);
    }
    assertFalse(toLast.toLowerCase(java.util.Locale.ROOT).contains("authorization:"), toLast); // keyless provider
  }

  // ------------------------------------------------------------------ redirects

  /** A provider on 127.0.0.1 that redirects to the same server under another host name, localhost. */
  private MockWebServer[] redirecting(int code) {
    MockWebServer elsewhere = up.startChat();
    MockWebServer provider = up.start(r -> new MockResponse.Builder().code(code)
        .addHeader("Location", "http://localhost:" + elsewhere.getPort() + "/v1/chat/completions").build());
    return new MockWebServer[] {provider, elsewhere};
  }

  @ParameterizedTest(name = "HTTP {0}")
  @ValueSource(ints = {302, 307, 308})
  void bearerKeyDoesNotFollowACrossHostRedirect(int code) throws Exception {
    MockWebServer[] s = redirecting(code);
    ProviderPool pool = ProviderPool.builder()
        .tier(Provider.builder("p").baseUrl(Upstreams.baseUrl(s[0])).apiKey(KEY_A).build()).build();
    assertEquals("200", Upstreams.call(up.client(pool), Upstreams.chat(pool))[0]); // no guard: OkHttp strips it
    assertEquals("Bearer " + KEY_A, s[0].takeRequest(5, TimeUnit.SECONDS).getHeaders().get("Authorization"));
    String redirected = everything(s[1].takeRequest(5, TimeUnit.SECONDS));
    assertFalse(redirected.contains(KEY_A), redirected);
  }

  @ParameterizedTest(name = "HTTP {0}")
  @ValueSource(ints = {302, 307, 308})
  void apiKeyAndExtraHeadersDoNotFollowACrossHostRedirectThroughTheGuard(int code) throws Exception {
    MockWebServer[] s = redirecting(code);
    ProviderPool pool = ProviderPool.builder().tier(Provider.builder("azure").baseUrl(Upstreams.baseUrl(s[0]))
        .apiKey(KEY_B).apiKeyHeader("api-key").header("x-goog-api-key", KEY_EXTRA).build()).build();
    OkHttpClient client = up.client(pool, new OkHttpClient.Builder().addNetworkInterceptor(pool.redirectGuard()));
    assertEquals("200", Upstreams.call(client, Upstreams.chat(pool))[0]);
    assertEquals(KEY_B, s[0].takeRequest(5, TimeUnit.SECONDS).getHeaders().get("api-key"));
    String redirected = everything(s[1].takeRequest(5, TimeUnit.SECONDS));
    assertFalse(redirected.contains(KEY_B), redirected);
    assertFalse(redirected.contains(KEY_EXTRA), redirected);
  }

  @Test
  void withoutFollowingRedirectsTheCallerGetsTheRedirectAndNothingReachesTheOtherHost() throws Exception {
    MockWebServer[] s = redirecting(307);
    ProviderPool pool = ProviderPool.builder().tier(Provider.builder("azure").baseUrl(Upstreams.baseUrl(s[0]))
        .apiKey(KEY_B).apiKeyHeader("api-key").build()).build();
    OkHttpClient client = up.client(pool, new OkHttpClient.Builder().followRedirects(false));
    assertEquals("307", Upstreams.call(client, Upstreams.chat(pool))[0]);
    assertEquals(0, up.count(s[1]));
  }

  // A default client (followRedirects on, no pool.redirectGuard()) would let an api-key style key
  // follow a cross-host redirect: OkHttp strips only Authorization, and an application interceptor
  // cannot turn redirects off for a call. That setup is documented as unsafe and the pool warns about
  // it once (RedirectGuardTest.poolWarnsOnceWhenAClientFollowsRedirectsWithoutTheGuard).

  // ------------------------------------------------------------------ the caller's view of the response

  /**
   * The response handed to the caller carries the rewritten request, credential included, and
   * OkHttp's {@code Request.toString()} masks only {@code Authorization}, {@code Cookie},
   * {@code Proxy-Authorization} and {@code Set-Cookie}: logging {@code response.request()} (a
   * common debugging line) prints an {@code api-key} style key.
   */
  @Test
  void theResponseHandedToTheCallerDoesNotCarryTheProvidersKey() throws Exception {
    MockWebServer s = up.startChat();
    ProviderPool pool = ProviderPool.builder().tier(Provider.builder("azure").baseUrl(Upstreams.baseUrl(s))
        .apiKey(KEY_B).apiKeyHeader("api-key").header("x-goog-api-key", KEY_EXTRA).build()).build();
    try (Response r = up.client(pool).newCall(Upstreams.chat(pool)).execute()) {
      assertNoSecret("response.request()", r.request().toString());
      assertNoSecret("response.request().headers()", r.request().headers().toString());
      assertNoSecret("response", r.toString());
    }
  }

  @Test
  void authorizationStyleKeyIsMaskedInTheCallersView() throws Exception {
    MockWebServer s = up.startChat();
    ProviderPool pool = ProviderPool.builder().tier(Provider.builder("openai").baseUrl(Upstreams.baseUrl(s))
        .apiKey(KEY_A).build()).build();
    try (Response r = up.client(pool).newCall(Upstreams.chat(pool)).execute()) {
      assertNoSecret("response.request()", r.request().toString()); // OkHttp masks Authorization
      assertNoSecret("response", r.toString());
    }
  }

  // ------------------------------------------------------------------ plaintext

  @Test
  void aKeyOverPlainHttpToARemoteHostIsRefused() {
    for (String url : List.of("http://api.example.com/v1", "http://10.0.0.7:8080/v1", "http://192.168.1.20/v1",
        "http://[2001:db8::1]/v1", "HTTP://API.EXAMPLE.COM/v1", "http://127.0.0.1.nip.io/v1", "http://0.0.0.0/v1")) {
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
          () -> Provider.builder("remote").baseUrl(url).apiKey(KEY_A).build(), url);
      assertEquals("baseUrl of provider 'remote' is plain http to a non-loopback host ("
          + java.net.URI.create(url).getHost() + ") and would send the API key in clear text; use https or"
          + " allowPlaintextKey(true)", e.getMessage(), url);
      assertNoSecret("refusal", e.getMessage());
    }
    // Loopback, https, no key, or an explicit opt-in are accepted.
    for (String url : List.of("http://localhost:8090/v1", "http://127.0.0.1:8090/v1", "http://127.1.2.3/v1",
        "http://[::1]:8090/v1", "https://api.example.com/v1")) {
      assertNotNull(Provider.builder("ok").baseUrl(url).apiKey(KEY_A).build(), url);
    }
    assertNotNull(Provider.builder("nokey").baseUrl("http://api.example.com/v1").build());
    assertNotNull(Provider.builder("optin").baseUrl("http://api.example.com/v1").apiKey(KEY_A)
        .allowPlaintextKey(true).build());
  }

  /**
   * {@code toBuilder()} sets {@code allowPlaintextKey(true)} whatever the original said, so a
   * provider built safely over https can be copied to plain http to a remote host without the
   * refusal.
   */
  @Test
  void copyingAProviderToPlainHttpToARemoteHostIsRefusedToo() {
    Provider safe = Provider.builder("p").baseUrl("https://api.example.com/v1").apiKey(KEY_A).build();
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> safe.toBuilder().baseUrl("http://api.example.com/v1").build());
    assertTrue(e.getMessage().contains("would send the API key in clear text"), e.getMessage());
    // A provider that opted in keeps its opt-in through a copy.
    Provider optedIn = Provider.builder("q").baseUrl("http://10.0.0.7/v1").apiKey(KEY_A).allowPlaintextKey(true)
        .build();
    assertNotNull(optedIn.withWeight(3));
  }

  // ------------------------------------------------------------------ keys that cannot be sent

  /**
   * A key read from a file or a secret mount often ends with a newline. {@code apiKey(...)} only
   * refuses a blank key, so the provider builds; every request to it then fails inside OkHttp's
   * header validation with an {@code IllegalArgumentException} whose message quotes the header
   * value ({@code "Unexpected char 0x0a at 40 in api-key value: <the key>"}; OkHttp masks only
   * {@code Authorization}, {@code Cookie}, {@code Proxy-Authorization}, {@code Set-Cookie}). The
   * exception is no {@code IOException}: it escapes the failover loop to the caller (and its logs),
   * and a healthy provider next to the broken one is never tried. The same goes for a secret extra
   * header. Either fix passes: refusing such a value at build time without showing it, or failing
   * over at request time with no key in any message.
   */
  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"api-key", "x-api-key", "Authorization", "extra header"})
  void aKeyWithATrailingNewlineNeverShowsAndNeverBlocksTraffic(String header) throws Exception {
    Provider broken;
    try {
      Provider.Builder b = Provider.builder("broken").baseUrl("http://127.0.0.1:1/v1");
      if (header.equals("extra header")) {
        b.header("x-goog-api-key", KEY_EXTRA + "\n");
      } else {
        b.apiKey(KEY_B + "\n").apiKeyHeader(header);
      }
      broken = b.build();
    } catch (IllegalArgumentException refused) {
      assertNoSecret("refusal", refused.getMessage());
      return; // refused at build time, without showing the value: fixed
    }
    MockWebServer healthy = up.startChat();
    MockWebServer target = up.startChat();
    ProviderPool pool = ProviderPool.builder().strategy(Strategy.ROUND_ROBIN)
        .tier(broken.toBuilder().baseUrl(Upstreams.baseUrl(target)).build())
        .tier(Provider.builder("healthy").baseUrl(Upstreams.baseUrl(healthy)).build()).build();
    try {
      assertEquals("200", Upstreams.call(up.client(pool), Upstreams.chat(pool))[0], "no failover to the healthy one");
    } catch (Exception e) {
      assertNoSecret("the caller's exception", e.getMessage() + "\n" + stackTrace(e));
      throw e;
    }
    assertEquals(0, up.count(target));
    assertEquals(0, pool.snapshot().inFlight());
  }

  // ------------------------------------------------------------------ configuration files

  private static String config(String provider) {
    return "{\"tiers\": [{\"providers\": [" + provider + "]}]}";
  }

  @Test
  void configurationErrorsNeverShowAKeyOrASecretHeader() {
    java.util.Map<String, String> env = java.util.Map.of("KEY", KEY_A, "EXTRA", KEY_EXTRA, "BLANK", "  ");
    List<String> bad = List.of(
        // a literal key is refused
        "{\"name\": \"p\", \"baseUrl\": \"https://a.example.com/v1\", \"apiKey\": \"" + KEY_A + "\"}",
        // a key where a string belongs, in an array or object
        "{\"name\": \"p\", \"baseUrl\": \"https://a.example.com/v1\", \"apiKey\": [\"" + KEY_A + "\"]}",
        "{\"name\": \"p\", \"baseUrl\": \"https://a.example.com/v1\", \"apiKey\": {\"v\": \"" + KEY_A + "\"}}",
        // an unquoted key: the JSON parser's own message would quote the token
        "{\"name\": \"p\", \"baseUrl\": \"https://a.example.com/v1\", \"apiKey\": " + KEY_A + "}",
        // a resolved key, then another error on the same provider
        "{\"name\": \"p\", \"baseUrl\": \"http://a.example.com/v1\", \"apiKey\": \"${KEY}\"}",
        "{\"name\": \"p\", \"baseUrl\": \"https://a.example.com/v1\", \"apiKey\": \"${KEY}\", \"weight\": -1}",
        "{\"name\": \"p\", \"baseUrl\": \"https://a.example.com/v1\", \"apiKey\": \"${KEY}\", \"apiKeyHeader\": \"a b\"}",
        "{\"name\": \"p\", \"baseUrl\": \"https://a.example.com/v1\", \"apiKey\": \"${KEY}\", \"unknown\": 1}",
        "{\"name\": \"p\", \"baseUrl\": \"https://a.example.com/v1\", \"apiKey\": \"${BLANK}\"}",
        // secret header values, literal or resolved
        "{\"name\": \"p\", \"baseUrl\": \"https://a.example.com/v1\", \"headers\": {\"bad name\": \"" + KEY_EXTRA + "\"}}",
        "{\"name\": \"p\", \"baseUrl\": \"https://a.example.com/v1\", \"headers\": {\"x-goog-api-key\": [\"" + KEY_EXTRA + "\"]}}",
        "{\"name\": \"p\", \"baseUrl\": \"https://a.example.com/v1\", \"headers\": {\"x-goog-api-key\": \"${EXTRA}\", \"x\": 1}}",
        "{\"name\": \"p\", \"baseUrl\": \"https://a.example.com/v1\", \"apiKey\": \"${KEY}\"}, "
            + "{\"name\": \"p\", \"baseUrl\": \"https://b.example.com/v1\", \"apiKey\": \"${KEY}\"}");
    for (String provider : bad) {
      String json = config(provider);
      Exception e = assertThrows(Exception.class, () -> io.github.llmpool.config.PoolConfig.read(new java.io.ByteArrayInputStream(json.getBytes(StandardCharsets.UTF_8)), env::get), json);
      assertNoSecret("config error for " + provider, e.getMessage());
      assertNoSecret("config error stack trace", stackTrace(e));
    }
    // A valid configuration shows no key either.
    io.github.llmpool.config.PoolConfig ok = assertDoesNotThrowConfig(config(
        "{\"name\": \"p\", \"baseUrl\": \"https://a.example.com/v1\", \"apiKey\": \"${KEY}\", \"apiKeyHeader\":"
            + " \"api-key\", \"headers\": {\"x-goog-api-key\": \"${EXTRA}\"}}"), env);
    assertNoSecret("PoolConfig", ok.toString());
    assertNoSecret("pool from config", ok.toPoolBuilder().build().toString());
  }

  private static io.github.llmpool.config.PoolConfig assertDoesNotThrowConfig(String json, java.util.Map<String, String> env) {
    try {
      return io.github.llmpool.config.PoolConfig.read(new java.io.ByteArrayInputStream(json.getBytes(StandardCharsets.UTF_8)), env::get);
    } catch (IOException e) {
      throw new AssertionError(e);
    }
  }

  // ------------------------------------------------------------------ logs

  /**
   * Runs {@link SecurityLogScenario} in a child JVM whose SLF4J (slf4j-simple) logs at TRACE to a
   * file: the level and the target must be set before SLF4J's first use, which in the test JVM has
   * happened long before (at WARN, from the pom). The scenario drives every path that logs
   * (evictions, probes, restorations, fail-open, failover, exhaustion, reconfiguration, throwing
   * listeners, truncated streams, redirects) with unique keys, an inbound caller key and unique
   * body markers, and writes every toString, event, record and exception it sees to a second file.
   * Neither file may contain a key or a body marker; the log must show DEBUG lines (so the capture
   * really ran at the lowest levels the library uses).
   */
  @Test
  void logsAtTraceCarryNoKeyAndNoBody(@TempDir Path dir) throws Exception {
    Path log = dir.resolve("slf4j.log");
    Path surface = dir.resolve("surface.txt");
    String requestMarker = "REQUEST-MARKER-" + UUID.randomUUID();
    String responseMarker = "RESPONSE-MARKER-" + UUID.randomUUID();
    List<String> cmd = new ArrayList<>(List.of(
        Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-Xmx256m", "-XX:TieredStopAtLevel=1",
        "-Dorg.slf4j.simpleLogger.defaultLogLevel=trace",
        "-Dorg.slf4j.simpleLogger.logFile=" + log,
        "-Dorg.slf4j.simpleLogger.showDateTime=true",
        "-cp", System.getProperty("java.class.path"),
        SecurityLogScenario.class.getName(),
        surface.toString(), KEY_A, KEY_B, KEY_C, KEY_EXTRA, CALLER_KEY, requestMarker, responseMarker));
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(dir.resolve("out.txt").toFile())
        .start();
    boolean ended = p.waitFor(60, TimeUnit.SECONDS);
    if (!ended) {
      p.destroyForcibly();
    }
    String out = Files.readString(dir.resolve("out.txt"));
    assertTrue(ended, "the scenario did not end in 60 s: " + out);
    assertEquals(0, p.exitValue(), "the scenario failed:\n" + out);
    String logged = Files.readString(log, StandardCharsets.UTF_8);
    String seen = Files.readString(surface, StandardCharsets.UTF_8);
    for (String[] f : new String[][] {{"log", logged}, {"surface", seen}, {"stdout", out}}) {
      assertNoSecret(f[0], f[1]);
      assertFalse(f[1].contains(requestMarker), f[0] + " contains a request body");
      assertFalse(f[1].contains(responseMarker), f[0] + " contains a response body");
      assertFalse(f[1].contains("REQUEST-MARKER") || f[1].contains("RESPONSE-MARKER"), f[0] + " contains a body");
    }
    // The capture ran at the lowest levels the library logs at, and saw the interesting paths.
    assertTrue(logged.contains("DEBUG io.github.llmpool - llmpool[shared] provider azure probing"), logged);
    assertTrue(logged.contains("WARN io.github.llmpool - llmpool[default] provider"), logged);
    assertTrue(logged.contains("restored"), logged);
    assertTrue(logged.contains("reconfigured"), logged);
    assertTrue(logged.contains("UsageListener threw"), logged);
    assertTrue(logged.contains("WARN io.github.llmpool - llmpool[shared] provider azure evicted for"), logged);
    assertTrue(logged.contains("INFO io.github.llmpool - llmpool[shared] provider azure evicted for"), logged);
    assertTrue(logged.contains("as another instance decided (SERVER_ERROR)"), logged);
    assertTrue(logged.contains("INFO io.github.llmpool - llmpool[shared] provider anthropic drained (0 in flight)"), logged);
    assertTrue(logged.contains("INFO io.github.llmpool - llmpool[shared] pool drained: every request is refused"), logged);
    assertTrue(logged.contains("INFO io.github.llmpool - llmpool[shared] provider azure resumed"), logged);
    assertTrue(seen.contains("start AttemptStart{pool=shared, request=") && seen.contains(", provider=azure") && seen.contains("end AttemptEnd{")
        && seen.contains("shared SharedEviction{pool=shared, provider=azure"), seen);
    assertTrue(seen.contains("pool 'shared' is drained"), seen);
    assertTrue(seen.contains("AttemptsExhaustedException") && seen.contains("NoProviderAvailableException")
        && seen.contains("TruncatedStreamException"), seen);
    System.out.println("SecurityTest: " + logged.lines().count() + " log lines at TRACE and " + seen.lines().count()
        + " lines of toString/events/records/exceptions: no key, no body");
  }

  @Test
  void callerCannotSmuggleItsKeyThroughAnotherSpelling() throws Exception {
    MockWebServer s = up.startChat();
    ProviderPool pool = ProviderPool.builder().tier(Provider.builder("p").baseUrl(Upstreams.baseUrl(s))
        .apiKey(KEY_A).build()).build();
    Request inbound = new Request.Builder().url(pool.baseUrl().resolve("chat/completions").toString())
        .header("AUTHORIZATION", "Bearer " + CALLER_KEY).header("Api-Key", CALLER_KEY)
        .post(RequestBody.create(Upstreams.CHAT, Upstreams.JSON)).build();
    assertEquals("200", Upstreams.call(up.client(pool), inbound)[0]);
    RecordedRequest r = s.takeRequest(5, TimeUnit.SECONDS);
    assertFalse(everything(r).contains(CALLER_KEY), everything(r));
    assertEquals(List.of("Bearer " + KEY_A), r.getHeaders().values("Authorization"));
    assertInstanceOf(String.class, r.getHeaders().get("Authorization"));
  }

  /**
   * A client stack that removes the credential the pool set before it reaches the wire (the OpenAI
   * Java SDK's own OkHttp transport strips {@code Authorization} in a network interceptor whenever
   * the wire host differs from the call's URL): the provider's 401 is a configuration error of the
   * client, not a bad key. The call fails at once with a message naming cause and fix, nothing is
   * evicted, nothing is retried.
   */
  @Test
  void aCredentialRemovedBelowThePoolFailsTheCallAtOnceAndEvictsNothing() throws Exception {
    MockWebServer a = up.start(r -> r.getHeaders().get("Authorization") == null
        ? new MockResponse.Builder().code(401).body("{\"error\":{\"message\":\"Incorrect API key provided\"}}").build()
        : Fixtures.json("openai-chat.json"));
    MockWebServer b = up.start(r -> r.getHeaders().get("Authorization") == null
        ? new MockResponse.Builder().code(401).body("{}").build() : Fixtures.json("openai-chat.json"));
    List<PoolEvent> seen = new java.util.concurrent.CopyOnWriteArrayList<>();
    ProviderPool pool = ProviderPool.builder().onEvent(seen::add)
        .tier(Provider.builder("a").baseUrl(Upstreams.baseUrl(a)).apiKey("sk-aaaaaaaaaaaa").build(),
            Provider.builder("b").baseUrl(Upstreams.baseUrl(b)).apiKey("sk-bbbbbbbbbbbb").build())
        .build();
    // the network interceptor the SDK's transport installs, in effect
    OkHttpClient client = up.client(pool, new OkHttpClient.Builder()
        .addNetworkInterceptor(chain -> chain.proceed(chain.request().newBuilder().removeHeader("Authorization").build())));
    LlmPoolException e = assertThrows(LlmPoolException.class, () -> Upstreams.call(client, Upstreams.chat(pool)));
    assertTrue(e.getMessage().contains("without the Authorization header the pool set"), e.getMessage());
    assertTrue(e.getMessage().contains("not a bad key"), e.getMessage());
    assertEquals(1, e.attempts().size());
    assertEquals(1, up.count(a) + up.count(b), "nothing retried");
    for (ProviderSnapshot p : pool.snapshot().providers()) {
      assertEquals(ProviderSnapshot.Status.AVAILABLE, p.status(), p::toString);
      assertEquals(0, p.inFlight());
    }
    assertEquals(List.of(), seen.stream().filter(x -> x instanceof PoolEvent.Evicted).toList());
    // the same pool through a client that keeps the header works
    assertEquals("200", Upstreams.call(up.client(pool), Upstreams.chat(pool))[0]);
  }
}
