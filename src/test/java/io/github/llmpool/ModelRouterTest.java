package io.github.llmpool;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import mockwebserver3.MockResponse;
import mockwebserver3.MockWebServer;
import mockwebserver3.RecordedRequest;
import okhttp3.ConnectionPool;
import okhttp3.Dispatcher;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import okhttp3.RequestBody;
import okhttp3.Response;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

/** One router in front of several pools: the alias (header first, then body model) picks the pool. */
class ModelRouterTest {
  private static final String TIER = "X-Model-Tier";

  private final Upstreams up = new Upstreams();
  private final List<OkHttpClient> clients = new ArrayList<>();
  private MockWebServer fast;
  private MockWebServer smart;
  private MockWebServer other;
  private ProviderPool fastPool;
  private ProviderPool smartPool;
  private ProviderPool otherPool;

  @BeforeEach
  void start() {
    fast = up.startChat();
    smart = up.startChat();
    other = up.startChat();
    fastPool = ProviderPool.builder()
        .tier(Provider.builder("fast-1").baseUrl(Upstreams.baseUrl(fast)).model("gpt-4o-mini").build()).build();
    smartPool = ProviderPool.builder()
        .tier(Provider.builder("smart-1").baseUrl(Upstreams.baseUrl(smart)).model("gpt-4o").build()).build();
    otherPool = ProviderPool.builder().tier(Provider.builder("other").baseUrl(Upstreams.baseUrl(other)).build()).build();
  }

  @AfterEach
  void close() {
    for (OkHttpClient c : clients) {
      c.dispatcher().executorService().shutdown();
      c.connectionPool().evictAll();
    }
    up.close();
  }

  private OkHttpClient client(ModelRouter router) {
    Dispatcher d = new Dispatcher();
    d.setMaxRequestsPerHost(64);
    OkHttpClient c = new OkHttpClient.Builder().addInterceptor(router.interceptor()).dispatcher(d)
        .connectionPool(new ConnectionPool(4, 1, TimeUnit.MINUTES)).build();
    clients.add(c);
    return c;
  }

  private static Request chat(ModelRouter router, String model, String tier) {
    String body = model == null ? "{\"messages\":[]}" : "{\"model\":\"" + model + "\",\"messages\":[]}";
    Request.Builder b = new Request.Builder().url(router.baseUrl().resolve("chat/completions").toString())
        .post(RequestBody.create(body, Upstreams.JSON));
    if (tier != null) {
      b.header(TIER, tier);
    }
    return b.build();
  }

  private static RecordedRequest take(MockWebServer s) throws InterruptedException {
    RecordedRequest r = s.takeRequest(5, TimeUnit.SECONDS);
    if (r == null) {
      throw new AssertionError("no request reached " + s.getPort());
    }
    return r;
  }

  private ModelRouter.Builder router() {
    return ModelRouter.builder().route("fast", fastPool).route("smart", smartPool);
  }

  @Test
  void bodyModelAliasPicksThePoolAndItsProviderGetsItsOwnModel() throws Exception {
    ModelRouter router = router().build();
    OkHttpClient c = client(router);
    assertEquals("200", Upstreams.call(c, chat(router, "smart", null))[0]);
    assertEquals("{\"model\":\"gpt-4o\",\"messages\":[]}", take(smart).getBody().utf8());
    assertEquals("200", Upstreams.call(c, chat(router, "fast", null))[0]);
    assertEquals("{\"model\":\"gpt-4o-mini\",\"messages\":[]}", take(fast).getBody().utf8());
    assertEquals(1, up.count(fast));
    assertEquals(1, up.count(smart));
    assertEquals(1, smartPool.snapshot().provider("smart-1").orElseThrow().successes());
  }

  @Test
  void headerAliasPicksThePoolAndIsNotForwarded() throws Exception {
    ModelRouter router = router().header(TIER).build();
    assertEquals("200", Upstreams.call(client(router), chat(router, null, "smart"))[0]);
    RecordedRequest r = take(smart);
    assertNull(r.getHeaders().get(TIER));
    assertEquals("{\"messages\":[],\"model\":\"gpt-4o\"}", r.getBody().utf8());
  }

  @Test
  void headerWinsOverTheBodyModel() throws Exception {
    ModelRouter router = router().header(TIER).build();
    OkHttpClient c = client(router);
    Upstreams.call(c, chat(router, "smart", "fast"));
    assertEquals(1, up.count(fast));
    assertEquals(0, up.count(smart));
    Upstreams.call(c, chat(router, "smart", " ")); // a blank header names nothing: the body decides
    assertEquals(1, up.count(smart));
  }

  @Test
  void unknownAliasIsAnswered404WithoutAnyUpstreamCall() throws Exception {
    ModelRouter router = router().defaultPool(otherPool).build();
    try (Response r = client(router).newCall(chat(router, "turbo", null)).execute()) {
      assertEquals(404, r.code());
      assertEquals("false", r.header("x-should-retry"));
      assertEquals("application/json; charset=utf-8", r.header("Content-Type"));
      assertEquals("{\"error\":{\"message\":\"unknown model alias 'turbo' (from the request's model); known aliases: "
          + "fast, smart\",\"type\":\"invalid_request_error\",\"param\":\"model\",\"code\":\"model_not_found\"}}",
          r.body().string());
    }
    assertEquals(0, up.count(fast) + up.count(smart) + up.count(other));
  }

  @Test
  void unknownHeaderAliasNamesTheHeader() throws Exception {
    ModelRouter router = router().header(TIER).build();
    try (Response r = client(router).newCall(chat(router, "fast", "cheap\"est")).execute()) {
      assertEquals(404, r.code());
      assertEquals("{\"error\":{\"message\":\"unknown model alias 'cheap\\\"est' (from header X-Model-Tier); known "
          + "aliases: fast, smart\",\"type\":\"invalid_request_error\",\"param\":\"X-Model-Tier\","
          + "\"code\":\"model_not_found\"}}", r.body().string());
    }
    assertEquals(0, up.count(fast) + up.count(smart));
  }

  @Test
  void unknownAliasGoesToTheDefaultPoolWhenConfigured() throws Exception {
    ModelRouter router = router().defaultPool(otherPool).unknownAlias(ModelRouter.UnknownAlias.DEFAULT_POOL).build();
    assertEquals("200", Upstreams.call(client(router), chat(router, "gpt-4.1", null))[0]);
    assertEquals("{\"model\":\"gpt-4.1\",\"messages\":[]}", take(other).getBody().utf8()); // model unchanged
  }

  @Test
  void requestWithoutAliasGoesToTheDefaultPool() throws Exception {
    ModelRouter router = router().defaultPool(fastPool).build();
    OkHttpClient c = client(router);
    assertEquals("200", Upstreams.call(c, chat(router, null, null))[0]);
    assertEquals(1, up.count(fast));
    Request models = new Request.Builder().url(router.baseUrl().resolve("models").toString()).build();
    assertEquals("200", Upstreams.call(c, models)[0]);
    assertEquals(2, up.count(fast));
  }

  @Test
  void requestWithoutAliasAndNoDefaultIsAnswered400() throws Exception {
    ModelRouter router = router().header(TIER).build();
    try (Response r = client(router).newCall(chat(router, null, null)).execute()) {
      assertEquals(400, r.code());
      assertEquals("{\"error\":{\"message\":\"the request names no model alias (set the body's model or header "
          + "X-Model-Tier); known aliases: fast, smart\",\"type\":\"invalid_request_error\",\"param\":\"model\","
          + "\"code\":null}}", r.body().string());
    }
    assertEquals(0, up.count(fast) + up.count(smart));
  }

  @Test
  void chosenPoolFailsOverAsItsOwnInterceptorWould() throws Exception {
    MockWebServer down = up.start(r -> new MockResponse.Builder().code(503).build());
    List<TokenUsage> usage = new ArrayList<>();
    ProviderPool pool = ProviderPool.builder().strategy(Strategy.WEIGHTED).random(new ScriptedRandom(1, 0))
        .onUsage(usage::add)
        .tier(Provider.builder("down").baseUrl(Upstreams.baseUrl(down)).model("m").build(),
            Provider.builder("up").baseUrl(Upstreams.baseUrl(smart)).model("m").build())
        .build();
    ModelRouter router = ModelRouter.builder().route("smart", pool).build();
    assertEquals("200", Upstreams.call(client(router), chat(router, "smart", null))[0]);
    assertEquals(1, up.count(down));
    assertEquals(1, up.count(smart));
    assertEquals(1, pool.snapshot().provider("down").orElseThrow().failures());
    assertEquals(1, pool.snapshot().provider("up").orElseThrow().successes());
    assertEquals(List.of("down", "up"), usage.stream().map(TokenUsage::provider).toList()); // one record per attempt
  }

  @Test
  void otherHostsPassThroughUntouched() throws Exception {
    ModelRouter router = router().build();
    Request direct = new Request.Builder().url("http://127.0.0.1:" + other.getPort() + "/v1/models").build();
    assertEquals("200", Upstreams.call(client(router), direct)[0]);
    assertEquals("/v1/models", take(other).getTarget());
  }

  @Test
  void routerHasItsOwnVirtualHost() throws Exception {
    ModelRouter router = router().virtualHost("Models.LLMPool.invalid").build();
    assertEquals("http://models.llmpool.invalid/v1/", router.baseUrl().toString());
    assertEquals("200", Upstreams.call(client(router), chat(router, "fast", null))[0]);
    assertEquals(1, up.count(fast));
  }

  @Test
  void accessorsDescribeTheRoutes() {
    ModelRouter router = router().header(TIER).defaultPool(fastPool).build();
    assertEquals(List.of("fast", "smart"), List.copyOf(router.routes().keySet()));
    assertEquals(smartPool, router.routes().get("smart"));
    assertEquals(fastPool, router.defaultPool().orElseThrow());
    assertEquals(TIER, router.header().orElseThrow());
    assertEquals(ModelRouter.UnknownAlias.REJECT, router.unknownAlias());
    assertEquals("ModelRouter{http://llmpool.invalid/v1/, aliases=[fast, smart], header=X-Model-Tier, default=set, "
        + "unknownAlias=REJECT}", router.toString());
  }

  // ------------------------------------------------------------------ validation

  private static String iae(Executable e) {
    return assertThrows(IllegalArgumentException.class, e).getMessage();
  }

  @Test
  void routerWithoutRoutesIsRefused() {
    assertEquals("routes must hold at least one alias but the router has none", iae(() -> ModelRouter.builder().build()));
  }

  @Test
  void duplicateAliasIsRefused() {
    assertEquals("alias must be unique but 'fast' is routed twice", iae(() -> router().route("fast", smartPool)));
  }

  @Test
  void blankAliasIsRefused() {
    assertEquals("alias must not be blank but was ' '", iae(() -> ModelRouter.builder().route(" ", fastPool)));
  }

  @Test
  void badHeaderIsRefused() {
    assertEquals("header must be a header name but was 'X Tier'", iae(() -> ModelRouter.builder().header("X Tier")));
  }

  @Test
  void badVirtualHostIsRefused() {
    assertEquals("virtualHost must be a host name but was 'a_b'", iae(() -> ModelRouter.builder().virtualHost("a_b")));
  }

  @Test
  void defaultPoolPolicyWithoutDefaultPoolIsRefused() {
    assertEquals("unknownAlias DEFAULT_POOL needs a defaultPool but none was set",
        iae(() -> router().unknownAlias(ModelRouter.UnknownAlias.DEFAULT_POOL).build()));
  }

  @Test
  void routedProviderWithoutModelOverrideIsRefused() throws IOException {
    assertEquals("route 'local': provider 'other' has no model override and would receive the model 'local'; give it "
        + "Provider.Builder.model(...) or call requireModelOverrides(false)",
        iae(() -> router().route("local", otherPool).build()));
    ModelRouter relaxed = router().route("gpt-4.1", otherPool).requireModelOverrides(false).build();
    assertEquals(otherPool, relaxed.routes().get("gpt-4.1"));
  }
}
