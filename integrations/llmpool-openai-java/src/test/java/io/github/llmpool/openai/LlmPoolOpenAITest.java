package io.github.llmpool.openai;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.openai.client.OpenAIClient;
import com.openai.client.OpenAIClientImpl;
import com.openai.core.http.AsyncStreamResponse;
import com.openai.core.http.StreamResponse;
import com.openai.models.chat.completions.ChatCompletion;
import com.openai.models.chat.completions.ChatCompletionChunk;
import com.openai.models.chat.completions.ChatCompletionCreateParams;
import com.openai.models.chat.completions.ChatCompletionStreamOptions;
import com.openai.models.completions.CompletionUsage;
import io.github.llmpool.ModelRouter;
import io.github.llmpool.Provider;
import io.github.llmpool.ProviderPool;
import io.github.llmpool.TokenUsage;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import io.github.llmpool.testing.FakeLlmServer;
import io.github.llmpool.testing.Fault;
import io.github.llmpool.testing.ReceivedRequest;
import io.github.llmpool.testing.WireFixtures;
import okhttp3.Dispatcher;
import okhttp3.OkHttpClient;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The OpenAI Java SDK (real openai-java-core) built by {@link LlmPoolOpenAI} over a pool of two
 * fake OpenAI providers on loopback, a first tier and a fallback tier: what the SDK gets, what
 * reached each provider, and what the pool's onUsage saw.
 */
class LlmPoolOpenAITest {

  private FakeLlmServer a;
  private FakeLlmServer b;
  private BlockingQueue<TokenUsage> usages;
  private ProviderPool pool;
  private OpenAIClient client;
  private final List<AutoCloseable> toClose = new ArrayList<>();

  @BeforeEach
  void setUp() {
    a = openAi("a");
    b = openAi("b");
    usages = new LinkedBlockingQueue<>();
    pool = ProviderPool.builder()
        .tier(provider(a))
        .tier(provider(b))
        .onUsage(usages::add)
        .build();
    client = LlmPoolOpenAI.client(pool);
  }

  @AfterEach
  void tearDown() throws Exception {
    client.close();
    for (AutoCloseable c : toClose) {
      c.close();
    }
    a.close();
    b.close();
  }

  /**
   * A fake OpenAI provider (llmpool-testing's {@link FakeLlmServer}) answering as api.openai.com
   * does in the recorded shapes these tests were written against: 401 without {@code Authorization:
   * Bearer key-NAME}, a chat completion "agentgateway works" with 23 + 57 = 80 tokens.
   */
  static FakeLlmServer openAi(String name) {
    return FakeLlmServer.start(name).requireApiKey(true).reply("agentgateway works").usage(23, 57);
  }

  /** The recorded stream's answer: "pool ok", 19 + 2 = 21 tokens in the final usage chunk. */
  static void streamAnswer(FakeLlmServer fake) {
    fake.reply("pool ok").usage(19, 2);
  }

  static Provider provider(FakeLlmServer fake) {
    return Provider.builder(fake.name()).baseUrl(fake.baseUrl()).apiKey(fake.apiKey()).model("model-" + fake.name()).build();
  }

  static ChatCompletionCreateParams.Builder chat() {
    return ChatCompletionCreateParams.builder().model("gpt-4o-mini").addUserMessage("Say hello");
  }

  /** The next usage record; onUsage runs when the attempt's body ends, so wait for it (bounded). */
  private TokenUsage nextUsage() throws InterruptedException {
    TokenUsage u = usages.poll(10, TimeUnit.SECONDS);
    assertNotNull(u, "onUsage was not called within 10 s");
    return u;
  }

  /** The next usage record of {@code provider}, skipping others (e.g. a discarded 429's). */
  private TokenUsage nextUsageOf(String provider) throws InterruptedException {
    for (TokenUsage u = nextUsage(); ; u = nextUsage()) {
      if (u.provider().equals(provider)) {
        return u;
      }
    }
  }

  private static void assertTokens(long prompt, long completion, long total, TokenUsage u) {
    assertEquals(prompt, u.tokens().prompt(), "prompt tokens");
    assertEquals(completion, u.tokens().completion(), "completion tokens");
    assertEquals(total, u.totalTokens(), "total tokens");
  }

  @Test
  void chatCompletionGoesThroughThePoolWithTheProvidersKeyAndModel() throws Exception {
    ChatCompletion completion = client.chat().completions().create(chat().build());

    assertEquals("agentgateway works", completion.choices().get(0).message().content().orElseThrow());
    CompletionUsage sdkUsage = completion.usage().orElseThrow();
    assertEquals(80, sdkUsage.totalTokens());

    ReceivedRequest sent = a.lastRequest();
    assertEquals("POST", sent.method());
    assertEquals("/v1/chat/completions", sent.path());
    assertEquals("Bearer key-a", sent.headers().get("Authorization"), "the pool replaced the SDK's placeholder key");
    assertEquals("model-a", sent.json().path("model").asText(), "the pool rewrote model for provider a");
    assertEquals(1, a.requestCount());
    assertEquals(0, b.requestCount());

    TokenUsage u = nextUsage();
    assertEquals("a", u.provider());
    assertTokens(23, 57, 80, u);
  }

  @Test
  void streamingChatCompletionReadsEveryChunkAndOnUsageGetsTheUsageChunk() throws Exception {
    streamAnswer(a);
    StringBuilder text = new StringBuilder();
    AtomicReference<CompletionUsage> sdkUsage = new AtomicReference<>();
    ChatCompletionCreateParams params = chat()
        .streamOptions(ChatCompletionStreamOptions.builder().includeUsage(true).build())
        .build();
    try (StreamResponse<ChatCompletionChunk> stream = client.chat().completions().createStreaming(params)) {
      stream.stream().forEach(chunk -> {
        chunk.choices().forEach(choice -> choice.delta().content().ifPresent(text::append));
        chunk.usage().ifPresent(sdkUsage::set);
      });
    }

    assertEquals("pool ok", text.toString());
    assertEquals(21, sdkUsage.get().totalTokens(), "the SDK saw the final usage chunk");
    assertTrue(a.lastRequest().json().path("stream").asBoolean());
    TokenUsage u = nextUsage();
    assertEquals("a", u.provider());
    assertTokens(19, 2, 21, u);
  }

  @Test
  void a429IsFailedOverInsideThePoolAndTheSdkSeesOneSuccessWithNoExtraRequests() throws Exception {
    a.failAlways(Fault.rateLimited());

    ChatCompletion completion = client.chat().completions().create(chat().build());

    assertEquals("agentgateway works", completion.choices().get(0).message().content().orElseThrow());
    assertEquals(1, a.requestCount(), "a, the first tier, answered 429 once");
    assertEquals(1, b.requestCount(), "b answered 200 once");
    assertEquals("Bearer key-b", b.lastRequest().headers().get("Authorization"));
    assertEquals("model-b", b.lastRequest().json().path("model").asText());
    TokenUsage u = nextUsageOf("b");
    assertTokens(23, 57, 80, u);
    // maxRetries(0): the SDK sent one logical request; the pool's two attempts are all there is.
    assertEquals(2, a.requestCount() + b.requestCount());
  }

  @Test
  void asyncChatCompletion() throws Exception {
    ChatCompletion completion = client.async().chat().completions().create(chat().build()).get(30, TimeUnit.SECONDS);

    assertEquals("agentgateway works", completion.choices().get(0).message().content().orElseThrow());
    assertEquals(1, a.requestCount());
    TokenUsage u = nextUsage();
    assertEquals("a", u.provider());
    assertTokens(23, 57, 80, u);
  }

  @Test
  void asyncStreamingChatCompletion() throws Exception {
    streamAnswer(a);
    StringBuilder text = new StringBuilder();
    AtomicReference<CompletionUsage> sdkUsage = new AtomicReference<>();
    AsyncStreamResponse<ChatCompletionChunk> stream = client.async().chat().completions().createStreaming(chat()
        .streamOptions(ChatCompletionStreamOptions.builder().includeUsage(true).build())
        .build());
    stream.subscribe(chunk -> {
      synchronized (text) {
        chunk.choices().forEach(choice -> choice.delta().content().ifPresent(text::append));
      }
      chunk.usage().ifPresent(sdkUsage::set);
    });
    stream.onCompleteFuture().get(30, TimeUnit.SECONDS);

    synchronized (text) {
      assertEquals("pool ok", text.toString());
    }
    assertEquals(21, sdkUsage.get().totalTokens());
    TokenUsage u = nextUsage();
    assertEquals("a", u.provider());
    assertTokens(19, 2, 21, u);
  }

  @Test
  void manyConcurrentAsyncCallsAreAllInFlightAtOnce() throws Exception {
    // Every call names the pool's one virtual host; OkHttp's default of 5 async calls per host
    // would hold the sixth back. Each answer waits until all calls have reached the provider.
    int calls = 16;
    CountDownLatch allArrived = new CountDownLatch(calls);
    AtomicInteger inFlight = new AtomicInteger();
    AtomicInteger peak = new AtomicInteger();
    a.answerWith(r -> {
      peak.accumulateAndGet(inFlight.incrementAndGet(), Math::max);
      allArrived.countDown();
      try {
        allArrived.await(20, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      inFlight.decrementAndGet();
      return WireFixtures.response("openai-chat.json").build();
    });
    ProviderPool single = ProviderPool.builder().tier(provider(a)).build();
    OpenAIClient concurrent = LlmPoolOpenAI.client(single);
    toClose.add(concurrent::close);

    List<CompletableFuture<ChatCompletion>> futures = new ArrayList<>();
    for (int i = 0; i < calls; i++) {
      futures.add(concurrent.async().chat().completions().create(chat().build()));
    }
    for (CompletableFuture<ChatCompletion> f : futures) {
      assertEquals("agentgateway works", f.get(60, TimeUnit.SECONDS).choices().get(0).message().content().orElseThrow());
    }
    assertEquals(calls, peak.get(), "all calls were at the provider at the same time");
    assertEquals(calls, a.requestCount());
  }

  @Test
  void perHostLimitIsRaisedByDefaultAndConfigurable() {
    LlmPoolHttpClient byDefault = LlmPoolOpenAI.builder(pool).httpClient();
    LlmPoolHttpClient five = LlmPoolOpenAI.builder(pool).maxRequestsPerHost(5).httpClient();
    LlmPoolHttpClient hundred = LlmPoolOpenAI.builder(pool).maxRequestsPerHost(100).httpClient();
    Dispatcher wide = new Dispatcher();
    wide.setMaxRequests(300);
    wide.setMaxRequestsPerHost(200);
    LlmPoolHttpClient userWide = LlmPoolOpenAI.builder(pool).okHttp(new OkHttpClient.Builder().dispatcher(wide)).httpClient();
    toClose.addAll(List.of(byDefault::close, five::close, hundred::close, userWide::close));

    assertEquals(LlmPoolOpenAI.DEFAULT_MAX_REQUESTS_PER_HOST, byDefault.okHttpClient().dispatcher().getMaxRequestsPerHost());
    assertEquals(64, LlmPoolOpenAI.DEFAULT_MAX_REQUESTS_PER_HOST);
    assertEquals(5, five.okHttpClient().dispatcher().getMaxRequestsPerHost());
    assertEquals(100, hundred.okHttpClient().dispatcher().getMaxRequestsPerHost());
    assertTrue(hundred.okHttpClient().dispatcher().getMaxRequests() >= 100);
    assertSame(wide, userWide.okHttpClient().dispatcher(), "a dispatcher of the caller's is used, not replaced");
    assertEquals(200, wide.getMaxRequestsPerHost(), "and only ever raised by default, never lowered");
  }

  @Test
  void aCustomOkHttpBuilderKeepsItsInterceptorsAndTimeoutsAndIsNotChanged() throws Exception {
    AtomicLong readTimeoutSeen = new AtomicLong();
    OkHttpClient.Builder custom = new OkHttpClient.Builder()
        .readTimeout(Duration.ofSeconds(42))
        .addInterceptor(chain -> {
          readTimeoutSeen.set(chain.readTimeoutMillis());
          return chain.proceed(chain.request().newBuilder().header("X-App", "custom").build());
        });
    OpenAIClient customClient = LlmPoolOpenAI.client(pool, custom);
    toClose.add(customClient::close);

    customClient.chat().completions().create(chat().build());

    assertEquals("custom", a.lastRequest().headers().get("X-App"), "the caller's interceptor ran before the pool's");
    assertEquals("Bearer key-a", a.lastRequest().headers().get("Authorization"));
    assertEquals(42_000, readTimeoutSeen.get(), "the builder's timeouts became the SDK's defaults");
    assertEquals(1, custom.interceptors().size(), "the caller's builder was not changed");
    assertTrue(custom.networkInterceptors().isEmpty());

    // A builder that sets no timeouts: OkHttp's own defaults (10 s to read) become the SDK's.
    AtomicLong sdkDefault = new AtomicLong();
    OpenAIClient plain = LlmPoolOpenAI.client(pool, new OkHttpClient.Builder().addInterceptor(chain -> {
      sdkDefault.set(chain.readTimeoutMillis());
      return chain.proceed(chain.request());
    }));
    toClose.add(plain::close);
    plain.chat().completions().create(chat().build());
    assertEquals(10_000, sdkDefault.get(), "OkHttp's own 10 s, since the builder set none");

    // No builder: the SDK's own defaults (1 min to connect, 10 min for the rest), on the client itself.
    LlmPoolHttpClient byDefault = LlmPoolOpenAI.builder(pool).httpClient();
    toClose.add(byDefault::close);
    assertEquals(60_000, byDefault.okHttpClient().connectTimeoutMillis());
    assertEquals(600_000, byDefault.okHttpClient().readTimeoutMillis());
    assertEquals(600_000, byDefault.okHttpClient().callTimeoutMillis());
  }

  @Test
  void clientOptionsAndTheTransportWireAnOpenAIClientImpl() throws Exception {
    LlmPoolOpenAI.Builder builder = LlmPoolOpenAI.builder(pool);
    var options = builder.clientOptions().putHeader("OpenAI-Organization", "org-test");
    OpenAIClient wired = new OpenAIClientImpl(options.build());

    ChatCompletion c = wired.chat().completions().create(chat().build());
    assertEquals("agentgateway works", c.choices().get(0).message().content().orElseThrow());
    assertEquals("org-test", a.lastRequest().headers().get("OpenAI-Organization"));
    assertTokens(23, 57, 80, nextUsage());

    LlmPoolHttpClient owned = LlmPoolOpenAI.builder(pool).httpClient();
    OpenAIClient byHand = new OpenAIClientImpl(com.openai.core.ClientOptions.builder()
        .httpClient(owned)
        .baseUrl(pool.baseUrl().toString())
        .apiKey(LlmPoolOpenAI.PLACEHOLDER_API_KEY)
        .maxRetries(0)
        .build());
    byHand.chat().completions().create(chat().build());
    assertFalse(owned.okHttpClient().dispatcher().executorService().isShutdown());
    byHand.close();
    assertTrue(owned.okHttpClient().dispatcher().executorService().isShutdown(),
        "closing the SDK client closed the transport it owns");
    assertThrows(IllegalStateException.class, () -> owned.execute(
        com.openai.core.http.HttpRequest.builder().method(com.openai.core.http.HttpMethod.GET)
            .baseUrl(pool.baseUrl().toString()).addPathSegment("models").build()));

    LlmPoolHttpClient borrowed = LlmPoolOpenAI.builder(pool).okHttp(new OkHttpClient.Builder()).httpClient();
    borrowed.close();
    assertFalse(borrowed.okHttpClient().dispatcher().executorService().isShutdown(),
        "a transport over the caller's builder leaves the dispatcher alone");
    wired.close();
  }

  @Test
  void aModelRouterWorksLikeAPool() throws Exception {
    ModelRouter router = ModelRouter.builder().route("fast", pool).build();
    OpenAIClient routed = LlmPoolOpenAI.client(router);
    toClose.add(routed::close);

    ChatCompletion c = routed.chat().completions().create(ChatCompletionCreateParams.builder()
        .model("fast").addUserMessage("Say hello").build());

    assertEquals("agentgateway works", c.choices().get(0).message().content().orElseThrow());
    assertEquals("model-a", a.lastRequest().json().path("model").asText());
    assertEquals("Bearer key-a", a.lastRequest().headers().get("Authorization"));
    assertTokens(23, 57, 80, nextUsage());
  }

  @Test
  void placeholderKeyNeverReachesAProvider() throws Exception {
    client.chat().completions().create(chat().build());
    client.async().chat().completions().create(chat().build()).get(30, TimeUnit.SECONDS);
    assertEquals(2, a.requestCount());
    for (ReceivedRequest r : a.requests()) {
      assertEquals(List.of("Bearer key-a"), r.headers().values("Authorization"));
      assertFalse(r.headers().toString().contains(LlmPoolOpenAI.PLACEHOLDER_API_KEY));
    }
  }
}
