package io.github.llmpool.reliability;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.llmpool.AttemptsExhaustedException;
import io.github.llmpool.FakeTicker;
import io.github.llmpool.Fixtures;
import io.github.llmpool.PoolEvent;
import io.github.llmpool.Provider;
import io.github.llmpool.ProviderPool;
import io.github.llmpool.RetryPolicy;
import io.github.llmpool.Strategy;
import io.github.llmpool.TokenUsage;
import io.github.llmpool.Upstreams;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Function;
import mockwebserver3.MockResponse;
import mockwebserver3.MockWebServer;
import mockwebserver3.SocketEffect;
import okhttp3.Cache;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import okhttp3.Response;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * No configured credential value is reachable from anything the caller gets back: the
 * {@link Response} (its request and tags, its network, cache and prior responses and theirs), the
 * exception a call ends with (message, attempts, cause, suppressed), every {@link PoolEvent},
 * every {@link TokenUsage} and {@code pool.snapshot()}. Each case runs on real loopback servers and
 * walks those objects with {@link SecretWalk}; the upstreams that misbehave echo the credential they
 * received back in a malformed status line, a reason phrase, a header or a chunk extension.
 */
class SecretReachabilityTest {
  private static String key(String prefix) {
    return prefix + UUID.randomUUID().toString().replace("-", "");
  }

  private static final String KEY_A = key("sk-proj-A"); // Authorization: Bearer
  private static final String KEY_B = key("azure-B"); // api-key
  private static final String KEY_C = key("anthropic-C"); // x-api-key
  private static final String KEY_EXTRA = key("goog-extra"); // an extra header
  private static final String KEY_OLD = key("sk-rotated-out"); // replaced by update()

  /** Every key, and the last 12 characters of each (a cut key is still a leak). */
  private static final List<String> SECRETS;

  static {
    List<String> s = new ArrayList<>();
    for (String k : List.of(KEY_A, KEY_B, KEY_C, KEY_EXTRA, KEY_OLD)) {
      s.add(k);
      s.add(k.substring(k.length() - 12));
    }
    SECRETS = List.copyOf(s);
  }

  private final Upstreams up = new Upstreams();
  private final List<RawUpstream> raw = new ArrayList<>();
  private final FakeTicker ticker = new FakeTicker();
  private final List<PoolEvent> events = new CopyOnWriteArrayList<>();
  private final List<TokenUsage> usages = new CopyOnWriteArrayList<>();

  @AfterEach
  void close() {
    up.close();
    raw.forEach(RawUpstream::close);
  }

  private ProviderPool.Builder pool() {
    return ProviderPool.builder().ticker(ticker).strategy(Strategy.ROUND_ROBIN).onEvent(events::add)
        .onUsage(usages::add);
  }

  private static Provider bearer(String name, String baseUrl) {
    return Provider.builder(name).baseUrl(baseUrl).apiKey(KEY_A).build();
  }

  private static Provider azure(String name, String baseUrl) {
    return Provider.builder(name).baseUrl(baseUrl).apiKey(KEY_B).apiKeyHeader("api-key")
        .header("x-goog-api-key", KEY_EXTRA).build();
  }

  private static Provider anthropic(String name, String baseUrl) {
    return Provider.builder(name).baseUrl(baseUrl).apiKey(KEY_C).apiKeyHeader("x-api-key").build();
  }

  private OkHttpClient guarded(ProviderPool pool) {
    return up.client(pool, new OkHttpClient.Builder().addNetworkInterceptor(pool.redirectGuard()));
  }

  private RawUpstream raw(Function<Map<String, String>, String> script) {
    RawUpstream r = new RawUpstream(script);
    raw.add(r);
    return r;
  }

  /** The credential the raw upstream received, whichever header carried it. */
  private static String credential(Map<String, String> headers) {
    for (String h : List.of("authorization", "api-key", "x-api-key")) {
      if (headers.containsKey(h)) {
        return headers.get(h);
      }
    }
    return "none";
  }

  /** Executes, reads the body (checked as text too) and returns the response object. */
  private static Response exchange(OkHttpClient client, Request request, SecretWalk walk) throws IOException {
    try (Response r = client.newCall(request).execute()) {
      walk.text("response body", r.body().string());
      return r;
    }
  }

  /** Walks what the caller got plus every event, usage record and the snapshot; fails on any key. */
  private void assertNoSecretReachable(String what, ProviderPool pool, SecretWalk walk, Object... caller) {
    for (int i = 0; i < caller.length; i++) {
      walk.walk(caller[i] instanceof Throwable ? "exception" + i : "response" + i, caller[i]);
    }
    for (int i = 0; i < events.size(); i++) {
      walk.walk("event" + i, events.get(i));
    }
    for (int i = 0; i < usages.size(); i++) {
      walk.walk("usage" + i, usages.get(i));
    }
    walk.walk("pool.snapshot()", pool.snapshot());
    walk.assertClean(what);
    assertEquals(0, walk.cut(), what + ": the walk hit its depth bound, so it did not see everything");
    assertTrue(walk.visited() > 10 * caller.length, what + ": the walk saw only " + walk.visited() + " objects");
  }

  private static SecretWalk walk() {
    return SecretWalk.lookingFor(SECRETS);
  }

  // ------------------------------------------------------------------ responses

  @Test
  void successHandsBackNoKey() throws Exception {
    MockWebServer s = up.startChat();
    ProviderPool pool = pool().tier(azure("azure", Upstreams.baseUrl(s)), bearer("openai", Upstreams.baseUrl(s)))
        .build();
    OkHttpClient client = guarded(pool);
    SecretWalk walk = walk();
    Response first = exchange(client, Upstreams.chat(pool), walk);
    Response second = exchange(client, Upstreams.chat(pool), walk);
    assertEquals(200, first.code());
    assertEquals(200, second.code());
    assertNotNull(first.networkResponse());
    assertNoSecretReachable("a success", pool, walk, first, second);
    assertEquals(2, usages.size());
  }

  @Test
  void failoverAfter429And503HandsBackNoKey() throws Exception {
    MockWebServer limited = up.start(r -> Fixtures.http("openai-429-rate-limit.http"));
    MockWebServer broken = up.start(r -> Fixtures.http("openai-503.http"));
    MockWebServer ok = up.startChat();
    ProviderPool pool = pool().retry(RetryPolicy.builder().maxAttempts(3).build())
        .tier(bearer("limited", Upstreams.baseUrl(limited)))
        .tier(azure("broken", Upstreams.baseUrl(broken)))
        .tier(anthropic("ok", Upstreams.baseUrl(ok))).build();
    SecretWalk walk = walk();
    Response r = exchange(guarded(pool), Upstreams.chat(pool), walk);
    assertEquals(200, r.code());
    assertEquals(List.of(1, 1, 1), List.of(up.count(limited), up.count(broken), up.count(ok)));
    assertTrue(events.stream().anyMatch(e -> e instanceof PoolEvent.FailedOver), events::toString);
    assertNoSecretReachable("a failover", pool, walk, r);
    assertEquals(3, usages.size());
  }

  @Test
  void exhaustedAfterUpstreamErrorsHandsBackTheLastResponseWithoutAKey() throws Exception {
    MockWebServer limited = up.start(r -> Fixtures.http("openai-429-rate-limit.http"));
    MockWebServer broken = up.start(r -> Fixtures.http("openai-503.http"));
    ProviderPool pool = pool().retry(RetryPolicy.builder().maxAttempts(2).build())
        .tier(azure("limited", Upstreams.baseUrl(limited))).tier(bearer("broken", Upstreams.baseUrl(broken))).build();
    SecretWalk walk = walk();
    Response r = exchange(guarded(pool), Upstreams.chat(pool), walk);
    assertEquals(503, r.code());
    assertEquals("false", r.header("x-should-retry"));
    assertNoSecretReachable("an exhausted call ending in a response", pool, walk, r);
  }

  @Test
  void sameHostRedirectHandsBackNoKeyInThePriorResponse() throws Exception {
    MockWebServer s = up.start(r -> r.getTarget().startsWith("/v1/moved")
        ? Fixtures.json("openai-chat.json")
        : new MockResponse.Builder().code(307).addHeader("Location", "/v1/moved").build());
    ProviderPool pool = pool().tier(azure("azure", Upstreams.baseUrl(s))).tier(bearer("openai", Upstreams.baseUrl(s)))
        .strategy(Strategy.WEIGHTED).build();
    SecretWalk walk = walk();
    Response r = exchange(guarded(pool), Upstreams.chat(pool), walk);
    assertEquals(200, r.code());
    assertNotNull(r.priorResponse(), "the redirect was followed");
    assertEquals(307, r.priorResponse().code());
    assertNotNull(r.priorResponse().networkResponse());
    assertEquals(2, s.getRequestCount());
    s.takeRequest(5, TimeUnit.SECONDS);
    assertEquals(KEY_B, s.takeRequest(5, TimeUnit.SECONDS).getHeaders().get("api-key"), "the hop kept its key");
    assertNoSecretReachable("a same-host redirect", pool, walk, r);
  }

  @Test
  void crossHostRedirectThroughTheGuardHandsBackNoKey() throws Exception {
    MockWebServer elsewhere = up.startChat();
    MockWebServer s = up.start(r -> new MockResponse.Builder().code(308)
        .addHeader("Location", "http://localhost:" + elsewhere.getPort() + "/v1/chat/completions").build());
    ProviderPool pool = pool().tier(azure("azure", Upstreams.baseUrl(s))).build();
    SecretWalk walk = walk();
    Response r = exchange(guarded(pool), Upstreams.chat(pool), walk);
    assertEquals(200, r.code());
    assertEquals("localhost", r.request().url().host());
    assertEquals(308, r.priorResponse().code());
    assertNull(elsewhere.takeRequest(5, TimeUnit.SECONDS).getHeaders().get("api-key"), "the guard works");
    assertNoSecretReachable("a cross-host redirect", pool, walk, r);
  }

  /** OkHttp itself retries a 408 inside one attempt; the 408 stays on the chain as the prior response. */
  @Test
  void okHttpsOwnRetryOfA408HandsBackNoKeyInThePriorResponse() throws Exception {
    AtomicInteger calls = new AtomicInteger();
    MockWebServer s = up.start(r -> calls.getAndIncrement() == 0
        ? new MockResponse.Builder().code(408).body("{\"error\":{\"message\":\"timeout\"}}").build()
        : Fixtures.json("openai-chat.json"));
    ProviderPool pool = pool().tier(bearer("openai", Upstreams.baseUrl(s))).build();
    SecretWalk walk = walk();
    Response r = exchange(up.client(pool), Upstreams.chat(pool), walk);
    assertEquals(200, r.code());
    assertEquals(408, r.priorResponse().code());
    assertNoSecretReachable("OkHttp's 408 retry", pool, walk, r);
  }

  /** A client with a cache: the cached response names the request it answered, with its Vary headers. */
  @Test
  void cachedResponseHandsBackNoKey(@TempDir Path dir) throws Exception {
    MockWebServer s = up.start(r -> new MockResponse.Builder().addHeader("content-type", "application/json")
        .addHeader("Cache-Control", "max-age=600").addHeader("Vary", "api-key, x-goog-api-key")
        .body("{\"object\":\"list\",\"data\":[]}").build());
    ProviderPool pool = pool().tier(azure("azure", Upstreams.baseUrl(s))).build();
    OkHttpClient client = up.client(pool, new OkHttpClient.Builder().cache(new Cache(dir.toFile(), 1 << 20))
        .addNetworkInterceptor(pool.redirectGuard()));
    Request models = new Request.Builder().url(pool.baseUrl().resolve("models").toString()).build();
    SecretWalk walk = walk();
    Response first = exchange(client, models, walk);
    Response cached = exchange(client, models, walk);
    assertEquals(1, s.getRequestCount(), "the second call was served from the cache");
    assertNotNull(cached.cacheResponse());
    assertNoSecretReachable("a cached response", pool, walk, first, cached);
  }

  // ------------------------------------------------------------------ upstreams that echo the key

  /** {@code HTTP/1.1 2OO <the credential>}: OkHttp's ProtocolException quotes the status line. */
  private static String malformedStatusLine(Map<String, String> headers) {
    return "HTTP/1.1 2OO " + credential(headers) + "\r\nContent-Length: 0\r\n\r\n";
  }

  @Test
  void malformedStatusLineEchoingTheKeyLeavesNoKeyInTheException() throws Exception {
    RawUpstream bearerEcho = raw(SecretReachabilityTest::malformedStatusLine);
    RawUpstream azureEcho = raw(SecretReachabilityTest::malformedStatusLine);
    ProviderPool pool = pool().retry(RetryPolicy.builder().maxAttempts(2).build())
        .tier(bearer("openai", bearerEcho.baseUrl())).tier(azure("azure", azureEcho.baseUrl())).build();
    SecretWalk walk = walk();
    AttemptsExhaustedException e = assertThrows(AttemptsExhaustedException.class,
        () -> exchange(guarded(pool), Upstreams.chat(pool), walk));
    assertEquals(1, bearerEcho.requests());
    assertEquals(1, azureEcho.requests());
    assertEquals(2, e.attempts().size());
    assertNotNull(e.getCause());
    assertEquals(1, e.getSuppressed().length);
    // What happened is still said: the exception's class, OkHttp's text, where it was thrown.
    for (Throwable t : List.of(e.getCause(), e.getSuppressed()[0])) {
      assertTrue(t.toString().startsWith("java.net.ProtocolException: Unexpected status line: HTTP/1.1 2OO "),
          t.toString().replace(KEY_A, "<A>").replace(KEY_B, "<B>"));
      assertTrue(t.getStackTrace().length > 0);
      assertTrue(t.getStackTrace()[0].getClassName().startsWith("okhttp3."), t.getStackTrace()[0].toString());
    }
    for (var a : e.attempts()) {
      assertTrue(a.error().orElseThrow().startsWith("ProtocolException: Unexpected status line: HTTP/1.1 2OO "), a.provider());
    }
    assertTrue(e.getMessage().contains("Unexpected status line"), "the message lists the attempts");
    assertNoSecretReachable("a malformed status line", pool, walk, e);
  }

  @Test
  void exhaustedCallEndingInAnExceptionCarriesNoKey() throws Exception {
    MockWebServer reset = up.start(r -> new MockResponse.Builder().onResponseStart(new SocketEffect.CloseSocket())
        .build());
    RawUpstream echo = raw(SecretReachabilityTest::malformedStatusLine);
    ProviderPool pool = pool().retry(RetryPolicy.builder().maxAttempts(3).build())
        .tier(anthropic("reset", Upstreams.baseUrl(reset)))
        .tier(azure("echo", echo.baseUrl()))
        .tier(bearer("dead", deadUrl())).build();
    SecretWalk walk = walk();
    AttemptsExhaustedException e = assertThrows(AttemptsExhaustedException.class,
        () -> exchange(guarded(pool), Upstreams.chat(pool), walk));
    assertEquals(List.of("reset", "echo", "dead"), e.attempts().stream().map(a -> a.provider()).toList());
    assertEquals(2, e.getSuppressed().length);
    assertTrue(events.stream().anyMatch(ev -> ev instanceof PoolEvent.Exhausted), events::toString);
    assertNoSecretReachable("an exhausted call", pool, walk, e);
  }

  /** A well-formed status line whose reason phrase is the credential, and a header that echoes it. */
  @Test
  void reasonPhraseAndHeaderEchoingTheKeyAreNotHandedBack() throws Exception {
    String chat = Fixtures.text("openai-chat.json");
    RawUpstream echo = raw(h -> "HTTP/1.1 200 " + credential(h) + "\r\nContent-Type: application/json\r\n"
        + "X-Echo: " + credential(h) + "\r\nX-Extra-Echo: " + h.get("x-goog-api-key") + "\r\nContent-Length: "
        + chat.length() + "\r\n\r\n" + chat);
    ProviderPool pool = pool().tier(azure("azure", echo.baseUrl())).tier(bearer("openai", echo.baseUrl())).build();
    SecretWalk walk = walk();
    Response r = exchange(guarded(pool), Upstreams.chat(pool), walk);
    assertEquals(200, r.code());
    assertNotNull(r.header("X-Echo"), "the header is still there, without the key");
    assertNoSecretReachable("an echoed reason phrase", pool, walk, r);
    assertEquals(1, usages.size());
    assertTrue(usages.get(0).reported(), "the body passed unchanged");
  }

  /** A chunk extension that echoes the credential: the caller's read fails with OkHttp's ProtocolException. */
  @Test
  void bodyReadFailureEchoingTheKeyCarriesNoKey() throws Exception {
    RawUpstream echo = raw(h -> "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n"
        + "\r\n1\r\n{\r\n5 " + credential(h) + "\r\n");
    ProviderPool pool = pool().tier(azure("azure", echo.baseUrl())).build();
    SecretWalk walk = walk();
    AtomicReference<Response> got = new AtomicReference<>();
    IOException e = assertThrows(IOException.class, () -> {
      try (Response r = guarded(pool).newCall(Upstreams.chat(pool)).execute()) {
        got.set(r);
        r.body().string();
      }
    });
    assertEquals(200, got.get().code());
    assertTrue(e.toString().startsWith("java.net.ProtocolException: expected chunk size"), e.getClass().getName());
    assertNoSecretReachable("a failed body read", pool, walk, e, got.get());
    assertEquals(TokenUsage.End.FAILED, usages.get(0).end());
  }

  /** A key replaced by {@code update()} is still a key: an upstream that remembers it cannot surface it. */
  @Test
  void aKeyReplacedByAnUpdateIsStillKeptOutOfExceptions() throws Exception {
    AtomicReference<String> firstSeen = new AtomicReference<>();
    String chat = Fixtures.text("openai-chat.json");
    RawUpstream echo = raw(h -> firstSeen.compareAndSet(null, credential(h))
        ? "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: " + chat.length() + "\r\n\r\n" + chat
        : "HTTP/1.1 2OO " + firstSeen.get() + "\r\n\r\n");
    ProviderPool pool = pool().retry(RetryPolicy.builder().maxAttempts(1).build())
        .tier(Provider.builder("p").baseUrl(echo.baseUrl()).apiKey(KEY_OLD).build()).build();
    OkHttpClient client = up.client(pool);
    SecretWalk walk = walk();
    assertEquals(200, exchange(client, Upstreams.chat(pool), walk).code());
    assertEquals("Bearer " + KEY_OLD, firstSeen.get());
    pool.update(List.of(List.of(bearer("p", echo.baseUrl()))));
    AttemptsExhaustedException e = assertThrows(AttemptsExhaustedException.class,
        () -> exchange(client, Upstreams.chat(pool), walk));
    assertInstanceOf(java.net.ProtocolException.class, e.getCause());
    assertNoSecretReachable("a rotated-out key", pool, walk, e);
  }

  // ------------------------------------------------------------------ logs

  /**
   * Runs {@link SessionLogScenario} in a child JVM whose slf4j-simple logs at TRACE to a file (the
   * level and target are fixed at SLF4J's first use, long past in this JVM): a key function that
   * rejects a malformed session id with {@code UUID.fromString}, one that throws an {@code Error}
   * quoting it, a usage listener that throws quoting the request's model. The log names each
   * failure by class and origin, and holds neither the session id nor the model.
   */
  @Test
  void aSessionIdNeverReachesTheLog(@TempDir Path dir) throws Exception {
    String session = "user-42-session-" + UUID.randomUUID().toString().substring(24); // <= 36 chars: quoted
    String model = "model-marker-" + UUID.randomUUID();
    Path log = dir.resolve("slf4j.log");
    List<String> cmd = List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-Xmx128m", "-XX:TieredStopAtLevel=1",
        "-Dorg.slf4j.simpleLogger.defaultLogLevel=trace",
        "-Dorg.slf4j.simpleLogger.logFile=" + log,
        "-cp", System.getProperty("java.class.path"),
        SessionLogScenario.class.getName(), session, model);
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(dir.resolve("out.txt").toFile())
        .start();
    boolean ended = p.waitFor(60, TimeUnit.SECONDS);
    if (!ended) {
      p.destroyForcibly();
    }
    String out = java.nio.file.Files.readString(dir.resolve("out.txt"));
    String logged = java.nio.file.Files.readString(log);
    String shown = logged.replace(session, "<SESSION>").replace(model, "<MODEL>");
    assertTrue(ended, "the scenario did not end in 60 s: " + out);
    assertEquals(0, p.exitValue(), "the scenario failed:\n" + out);
    assertFalse(logged.contains(session), "the log holds the session id:\n" + shown);
    assertFalse(logged.contains("user-42-session"), "the log holds part of the session id:\n" + shown);
    assertFalse(logged.contains(model), "the log holds the request's model:\n" + shown);
    assertFalse(logged.contains("Invalid UUID string"), "the log holds an exception's message:\n" + shown);
    assertTrue(logged.contains("affinity key function threw java.lang.IllegalArgumentException at java.util.UUID."),
        shown);
    assertTrue(logged.contains("affinity key function threw java.lang.AssertionError at "
        + SessionLogScenario.class.getName()), shown);
    assertTrue(logged.contains("UsageListener threw java.lang.IllegalStateException at "), shown);
    assertFalse(out.contains(session) || out.contains(model), out);
    assertEquals(List.of("status 200", "status 200"), out.lines().filter(l -> l.startsWith("status ")).toList(),
        "both calls were routed without affinity:\n" + out);
    assertEquals(List.of(), out.lines().filter(l -> l.startsWith("finding ")).toList());
  }

  private static String deadUrl() throws IOException {
    try (java.net.ServerSocket s = new java.net.ServerSocket(0)) {
      return "http://127.0.0.1:" + s.getLocalPort() + "/v1";
    }
  }
}
