package io.github.llmpool.langchain4j;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.langchain4j.exception.HttpException;
import dev.langchain4j.exception.InternalServerException;
import dev.langchain4j.exception.InvalidRequestException;
import dev.langchain4j.exception.NonRetriableException;
import dev.langchain4j.exception.RateLimitException;
import dev.langchain4j.exception.RetriableException;
import dev.langchain4j.exception.TimeoutException;
import dev.langchain4j.http.client.HttpClient;
import dev.langchain4j.http.client.HttpClientBuilder;
import dev.langchain4j.http.client.HttpRequest;
import dev.langchain4j.http.client.SuccessfulHttpResponse;
import dev.langchain4j.http.client.sse.ServerSentEventListener;
import dev.langchain4j.http.client.sse.ServerSentEventParser;
import dev.langchain4j.model.chat.response.ChatResponse;
import dev.langchain4j.model.chat.response.PartialResponse;
import dev.langchain4j.model.chat.response.PartialResponseContext;
import dev.langchain4j.model.chat.response.StreamingChatResponseHandler;
import dev.langchain4j.model.openai.OpenAiChatModel;
import dev.langchain4j.model.openai.OpenAiStreamingChatModel;
import io.github.llmpool.ModelRouter;
import io.github.llmpool.Outcome;
import io.github.llmpool.Provider;
import io.github.llmpool.ProviderPool;
import io.github.llmpool.ProviderSnapshot;
import io.github.llmpool.TokenUsage;
import io.github.llmpool.testing.FakeLlmServer;
import io.github.llmpool.testing.Fault;
import io.github.llmpool.testing.ReceivedRequest;
import io.github.llmpool.testing.WireFixtures;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import mockwebserver3.MockResponse;
import mockwebserver3.MockResponseBody;
import okhttp3.Interceptor;
import okhttp3.OkHttpClient;
import okio.BufferedSink;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * LangChain4j 1.19.0's real {@code OpenAiChatModel} and {@code OpenAiStreamingChatModel} over a
 * pool, against fake OpenAI providers (real HTTP servers on loopback answering with recorded
 * OpenAI shapes).
 */
class LlmPoolLangChain4jTest {
  /** A maxRetries value meaning: leave LangChain4j's default (2). */
  private static final int DEFAULT = -1;
  private static final String PLACEHOLDER = "sk-placeholder-never-sent";

  private FakeLlmServer a;
  private FakeLlmServer b;
  private final BlockingQueue<TokenUsage> usages = new LinkedBlockingQueue<>();
  private final List<LlmPoolHttpClientBuilder> builders = new ArrayList<>();
  /** Released at tear-down: fakes that hold an answer wait for it (bounded). */
  private final CountDownLatch teardown = new CountDownLatch(1);

  @BeforeEach
  void start() {
    a = openAi("a");
    b = openAi("b");
  }

  @AfterEach
  void stop() {
    teardown.countDown();
    builders.forEach(LlmPoolHttpClientBuilder::close);
    a.close();
    b.close();
  }

  /**
   * A fake OpenAI provider (llmpool-testing's {@link FakeLlmServer}) answering as the recorded
   * shapes these tests were written against: 401 without {@code Authorization: Bearer key-NAME}, a
   * chat completion "agentgateway works" with 23 + 57 = 80 tokens.
   */
  static FakeLlmServer openAi(String name) {
    return FakeLlmServer.start(name).requireApiKey(true).reply("agentgateway works").usage(23, 57);
  }

  /** The recorded stream's answer: "pool ok", 19 + 2 = 21 tokens in the final usage chunk. */
  static void streamAnswer(FakeLlmServer... fakes) {
    for (FakeLlmServer fake : fakes) {
      fake.reply("pool ok").usage(19, 2);
    }
  }

  private static Provider provider(FakeLlmServer fake) {
    return Provider.builder(fake.name()).baseUrl(fake.baseUrl()).apiKey(fake.apiKey()).model("model-" + fake.name()).build();
  }

  /** a in tier 0, b in tier 1: a is always tried first, b is the failover. */
  private ProviderPool tiered() {
    return ProviderPool.builder().tier(provider(a)).tier(provider(b)).onUsage(usages::add).build();
  }

  private ProviderPool oneTier() {
    return ProviderPool.builder().tier(provider(a), provider(b)).onUsage(usages::add).build();
  }

  private LlmPoolHttpClientBuilder http(ProviderPool pool) {
    return keep(LlmPoolLangChain4j.httpClientBuilder(pool));
  }

  private LlmPoolHttpClientBuilder keep(LlmPoolHttpClientBuilder builder) {
    builders.add(builder);
    return builder;
  }

  private OpenAiChatModel chatModel(ProviderPool pool, int maxRetries) {
    return chatModel(http(pool), LlmPoolLangChain4j.baseUrl(pool), maxRetries);
  }

  private static OpenAiChatModel chatModel(HttpClientBuilder http, String baseUrl, int maxRetries) {
    OpenAiChatModel.OpenAiChatModelBuilder b = OpenAiChatModel.builder()
        .httpClientBuilder(http)
        .baseUrl(baseUrl)
        .modelName("gpt-4o-mini");
    if (maxRetries != DEFAULT) {
      b.maxRetries(maxRetries);
    }
    return b.build();
  }

  private OpenAiStreamingChatModel streamingModel(ProviderPool pool) {
    return OpenAiStreamingChatModel.builder()
        .httpClientBuilder(http(pool))
        .baseUrl(LlmPoolLangChain4j.baseUrl(pool))
        .modelName("gpt-4o-mini")
        .build();
  }

  /** What one streamed call gave its handler. */
  record Streamed(List<String> parts, CompletableFuture<ChatResponse> done, AtomicInteger ends) {
    ChatResponse response() throws Exception {
      return done.get(10, TimeUnit.SECONDS);
    }

    Throwable error() throws Exception {
      try {
        ChatResponse r = done.get(10, TimeUnit.SECONDS);
        throw new AssertionError("expected an error, got " + r);
      } catch (ExecutionException e) {
        return e.getCause();
      }
    }
  }

  private static Streamed stream(OpenAiStreamingChatModel model, String prompt) {
    return stream(model, prompt, (p, c) -> {});
  }

  interface OnPartial {
    void accept(PartialResponse partial, PartialResponseContext context);
  }

  private static Streamed stream(OpenAiStreamingChatModel model, String prompt, OnPartial onPartial) {
    List<String> parts = new CopyOnWriteArrayList<>();
    CompletableFuture<ChatResponse> done = new CompletableFuture<>();
    AtomicInteger ends = new AtomicInteger();
    model.chat(prompt, new StreamingChatResponseHandler() {
      @Override
      public void onPartialResponse(PartialResponse partial, PartialResponseContext context) {
        parts.add(partial.text());
        onPartial.accept(partial, context);
      }

      @Override
      public void onCompleteResponse(ChatResponse response) {
        ends.incrementAndGet();
        if (!done.complete(response)) {
          throw new AssertionError("a second end: " + response);
        }
      }

      @Override
      public void onError(Throwable error) {
        ends.incrementAndGet();
        if (!done.completeExceptionally(error)) {
          throw new AssertionError("a second end", error);
        }
      }
    });
    return new Streamed(parts, done, ends);
  }

  private TokenUsage nextUsage() throws InterruptedException {
    TokenUsage u = usages.poll(10, TimeUnit.SECONDS);
    assertNotNull(u, "onUsage was not called within 10 s");
    return u;
  }

  private static long poolRequests(ProviderPool pool, String provider) {
    return pool.snapshot().provider(provider).map(ProviderSnapshot::requests).orElseThrow();
  }

  // ---------------------------------------------------------------------------------------------
  // Chat, streaming, usage, keys

  @Test
  void chatGoesThroughThePoolWithTheProvidersKeyAndExactUsage() throws Exception {
    ProviderPool pool = tiered();
    ChatResponse response = chatModel(pool, DEFAULT).chat(
        dev.langchain4j.model.chat.request.ChatRequest.builder()
            .messages(dev.langchain4j.data.message.UserMessage.from("Say hello")).build());

    assertEquals("agentgateway works", response.aiMessage().text());
    assertEquals(1, a.requestCount());
    assertEquals(0, b.requestCount());
    ReceivedRequest sent = a.lastRequest();
    assertEquals("/v1/chat/completions", sent.path(), "base URL http://llmpool.invalid/v1/ mapped onto the provider's /v1");
    assertEquals("Bearer key-a", sent.headers().get("Authorization"), "the provider's own key");
    assertEquals("model-a", sent.json().path("model").asText(), "the pool rewrote the model");
    assertEquals(23, response.tokenUsage().inputTokenCount());
    assertEquals(57, response.tokenUsage().outputTokenCount());

    TokenUsage u = nextUsage();
    assertEquals("a", u.provider());
    assertEquals(200, u.status());
    assertFalse(u.streamed());
    assertEquals(23, u.tokens().prompt());
    assertEquals(57, u.tokens().completion());
    assertEquals(80, u.totalTokens());
  }

  @Test
  void streamingGoesThroughThePoolWithUsageFromTheFinalChunk() throws Exception {
    streamAnswer(a);
    ProviderPool pool = tiered();
    Streamed s = stream(streamingModel(pool), "Say hello");
    ChatResponse response = s.response();

    assertEquals("pool ok", response.aiMessage().text());
    assertEquals("pool ok", String.join("", s.parts()), "streamed in pieces: " + s.parts());
    assertTrue(s.parts().size() >= 2, "more than one piece: " + s.parts());
    assertEquals(19, response.tokenUsage().inputTokenCount());
    assertEquals(2, response.tokenUsage().outputTokenCount());
    ReceivedRequest sent = a.lastRequest();
    assertTrue(sent.json().path("stream").asBoolean());
    assertTrue(sent.json().path("stream_options").path("include_usage").asBoolean(),
        "LangChain4j asks for the usage chunk");
    assertEquals("Bearer key-a", sent.headers().get("Authorization"));

    TokenUsage u = nextUsage();
    assertEquals("a", u.provider());
    assertTrue(u.streamed());
    assertTrue(u.complete(), "the stream ended with its terminal event");
    assertEquals(19, u.tokens().prompt());
    assertEquals(2, u.tokens().completion());
    assertEquals(21, u.totalTokens());
  }

  @Test
  void aPlaceholderKeyGivenToTheModelNeverReachesAProvider() throws Exception {
    ProviderPool pool = oneTier();
    OpenAiChatModel model = OpenAiChatModel.builder()
        .httpClientBuilder(http(pool))
        .baseUrl(LlmPoolLangChain4j.baseUrl(pool))
        .apiKey(PLACEHOLDER)
        .modelName("gpt-4o-mini")
        .build();
    for (int i = 0; i < 4; i++) {
      assertEquals("agentgateway works", model.chat("Say hello " + i));
    }
    OpenAiStreamingChatModel streaming = OpenAiStreamingChatModel.builder()
        .httpClientBuilder(http(pool))
        .baseUrl(LlmPoolLangChain4j.baseUrl(pool))
        .apiKey(PLACEHOLDER)
        .modelName("gpt-4o-mini")
        .build();
    streamAnswer(a, b);
    assertEquals("pool ok", stream(streaming, "Say hello").response().aiMessage().text());

    assertEquals(5, a.requestCount() + b.requestCount());
    for (FakeLlmServer fake : List.of(a, b)) {
      for (ReceivedRequest r : fake.requests()) {
        assertEquals("Bearer " + fake.apiKey(), r.headers().get("Authorization"), "the provider's own key");
        assertFalse(r.headers().toString().contains(PLACEHOLDER), "placeholder on the wire: " + r.headers());
        assertFalse(r.json().toString().contains(PLACEHOLDER));
      }
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Failover and give-up: no retries on top of the pool

  @ParameterizedTest(name = "maxRetries {0} (-1: LangChain4j's default)")
  @ValueSource(ints = {DEFAULT, 0, 2})
  void a429IsFailedOverInsideThePoolAndLangChain4jSeesOneSuccess(int maxRetries) throws Exception {
    a.failAlways(Fault.rateLimited());
    ProviderPool pool = tiered();
    String text = chatModel(pool, maxRetries).chat("Say hello");

    assertEquals("agentgateway works", text);
    assertEquals(1, a.requestCount(), "a's 429");
    assertEquals(1, b.requestCount(), "b's success");
    TokenUsage first = nextUsage();
    assertEquals("a", first.provider(), "onUsage hears of every attempt");
    assertEquals(429, first.status());
    TokenUsage u = nextUsage();
    assertEquals("b", u.provider());
    assertEquals(200, u.status());
    assertEquals(80, u.totalTokens());
  }

  @Test
  void a429IsFailedOverInsideThePoolWhileStreaming() throws Exception {
    streamAnswer(b);
    a.failAlways(Fault.rateLimited());
    ProviderPool pool = tiered();
    Streamed s = stream(streamingModel(pool), "Say hello");

    assertEquals("pool ok", s.response().aiMessage().text());
    assertEquals(1, a.requestCount());
    assertEquals(1, b.requestCount());
    assertEquals(429, nextUsage().status(), "a's attempt");
    TokenUsage u = nextUsage();
    assertEquals("b", u.provider());
    assertTrue(u.streamed());
    assertEquals(19, u.tokens().prompt());
    assertEquals(2, u.tokens().completion());
    assertEquals(21, u.totalTokens());
  }

  /**
   * Every provider answers 429: the pool tries both (2 upstream requests) and gives up. LangChain4j
   * then sees a PoolGaveUpException (non-retriable) and makes no request of its own, whatever its
   * maxRetries; the 429's status, body and headers are on the exception.
   */
  @ParameterizedTest(name = "maxRetries {0} (-1: LangChain4j's default)")
  @ValueSource(ints = {DEFAULT, 0, 1, 5})
  void whenEveryProviderAnswers429TheUpstreamRequestsAreThePoolsOwn(int maxRetries) {
    a.failAlways(Fault.rateLimited());
    b.failAlways(Fault.rateLimited());
    // What the pool alone makes of one such request: a raw OkHttp call through an identical pool.
    ProviderPool alone = tiered();
    try (okhttp3.Response raw = alone.newHttpClient().newCall(new okhttp3.Request.Builder()
        .url(alone.baseUrl().resolve("chat/completions").toString())
        .post(okhttp3.RequestBody.create("{\"model\":\"m\",\"messages\":[]}", okhttp3.MediaType.get("application/json")))
        .build()).execute()) {
      assertEquals(429, raw.code());
    } catch (IOException ex) {
      throw new AssertionError(ex);
    }
    int poolAlone = a.requestCount() + b.requestCount();
    assertEquals(2, poolAlone, "the pool alone tries each provider once");

    ProviderPool pool = tiered();
    OpenAiChatModel model = chatModel(pool, maxRetries);

    PoolGaveUpException e = assertThrows(PoolGaveUpException.class, () -> model.chat("Say hello"));

    assertEquals(poolAlone, a.requestCount() + b.requestCount() - poolAlone, "LangChain4j added no request");
    assertEquals(2, a.requestCount());
    assertEquals(2, b.requestCount());
    assertEquals(poolRequests(pool, "a") + poolRequests(pool, "b"), a.requestCount() + b.requestCount() - poolAlone,
        "exactly the attempts the pool sent");
    assertInstanceOf(NonRetriableException.class, e);
    assertEquals(429, e.statusCode());
    assertTrue(e.body().contains("rate_limit_exceeded"), e.body());
    assertEquals("2", e.header("Retry-After").orElseThrow());
    assertEquals("false", e.header("x-should-retry").orElseThrow());
    assertTrue(e.getMessage().contains("429"), e.getMessage());
    assertNull(e.getCause(), "no HttpException below it for LangChain4j's mapper to find");
  }

  @ParameterizedTest(name = "maxRetries {0} (-1: LangChain4j's default)")
  @ValueSource(ints = {DEFAULT, 3})
  void whenEveryProviderAnswers503TheUpstreamRequestsAreThePoolsOwn(int maxRetries) {
    a.failAlways(Fault.fixture("openai-503.http"));
    b.failAlways(Fault.fixture("openai-503.http"));
    ProviderPool pool = tiered();
    OpenAiChatModel model = chatModel(pool, maxRetries);

    PoolGaveUpException e = assertThrows(PoolGaveUpException.class, () -> model.chat("Say hello"));
    assertEquals(503, e.statusCode());
    assertTrue(e.body().contains("server_error"), e.body());
    assertEquals(2, a.requestCount() + b.requestCount());
  }

  @Test
  void whenEveryProviderFailsWhileStreamingTheUpstreamRequestsAreThePoolsOwn() throws Exception {
    a.failAlways(Fault.rateLimited());
    b.failAlways(Fault.rateLimited());
    ProviderPool pool = tiered();
    Throwable error = stream(streamingModel(pool), "Say hello").error();

    PoolGaveUpException e = assertInstanceOf(PoolGaveUpException.class, error);
    assertEquals(429, e.statusCode());
    assertTrue(e.body().contains("rate_limit_exceeded"), e.body());
    assertEquals(1, a.requestCount());
    assertEquals(1, b.requestCount());
  }

  /** No provider answers at all (connection refused): the pool's own exception is the cause. */
  @Test
  void whenNoProviderAnswersThePoolsExceptionIsTheCause() {
    a.close();
    b.close();
    ProviderPool pool = tiered();
    PoolGaveUpException e = assertThrows(PoolGaveUpException.class, () -> chatModel(pool, DEFAULT).chat("Say hello"));
    assertEquals(-1, e.statusCode());
    assertInstanceOf(io.github.llmpool.LlmPoolException.class, e.getCause());
    assertEquals(2, e.attempts().size(), "both providers tried once, by the pool: " + e.attempts());
    assertEquals(2, poolRequests(pool, "a") + poolRequests(pool, "b"));
  }

  /**
   * The control: the same pool and model, through a client that surfaces the pool's final 429 as
   * a plain HttpException (what the samples' prototype adapter did). LangChain4j's default
   * maxRetries (2) maps it to a retriable RateLimitException and sends the request again, twice:
   * 4 upstream requests where the pool's 2 were all there was to try (what issue #15 saw).
   */
  @Test
  void controlAPlainHttpExceptionIsRetriedByLangChain4j() {
    a.failAlways(Fault.rateLimited());
    b.failAlways(Fault.rateLimited());
    // Reactive: the fakes' 429s also say 0 requests left, and quota routing never fails open to a provider that
    // says so (it refuses at once); this control is about LangChain4j retrying a plain exception on top.
    ProviderPool pool = ProviderPool.builder().quotaRouting(false).tier(provider(a)).tier(provider(b))
        .onUsage(usages::add).build();
    HttpClientBuilder plain = new PlainHttpExceptions(http(pool));
    OpenAiChatModel model = chatModel(plain, LlmPoolLangChain4j.baseUrl(pool), DEFAULT);

    RuntimeException e = assertThrows(RuntimeException.class, () -> model.chat("Say hello"));

    assertInstanceOf(RateLimitException.class, e);
    assertInstanceOf(RetriableException.class, e);
    // The pool's 2, then one per LangChain4j retry: both providers are still evicted (the 429's
    // retry-after: 2 outlasts LangChain4j's 0.5 s + 0.75 s back-off), so the pool fails open to one.
    assertEquals(4, a.requestCount() + b.requestCount(), "LangChain4j retried on top of the pool");
  }

  /** A pool that fails fast when every provider is evicted: its NoProviderAvailableException, no request, no retry. */
  @Test
  void aFailFastPoolWithEveryProviderEvictedIsNotRetried() {
    a.failAlways(Fault.rateLimited());
    b.failAlways(Fault.rateLimited());
    ProviderPool pool = ProviderPool.builder().tier(provider(a)).tier(provider(b))
        .whenAllEvicted(io.github.llmpool.AllEvictedPolicy.FAIL_FAST).build();
    OpenAiChatModel model = chatModel(pool, DEFAULT);
    assertEquals(429, assertThrows(PoolGaveUpException.class, () -> model.chat("first")).statusCode());
    assertEquals(2, a.requestCount() + b.requestCount(), "both evicted now (retry-after: 2)");

    PoolGaveUpException e = assertThrows(PoolGaveUpException.class, () -> model.chat("second"));
    assertInstanceOf(io.github.llmpool.NoProviderAvailableException.class, e.getCause());
    assertEquals(-1, e.statusCode());
    assertEquals(2, a.requestCount() + b.requestCount(), "nothing sent, and LangChain4j did not ask again");
  }

  /** A 4xx LangChain4j does not retry anyway stays LangChain4j's own exception. */
  @Test
  void a400StaysLangChain4jsInvalidRequestException() {
    a.failAlways(Fault.fixture("openai-400.http"));
    ProviderPool pool = tiered();
    InvalidRequestException e = assertThrows(InvalidRequestException.class, () -> chatModel(pool, DEFAULT).chat("Say hello"));
    HttpException http = assertInstanceOf(HttpException.class, e.getCause());
    assertEquals(400, http.statusCode());
    assertTrue(http.getMessage().contains("invalid_request_error"), http.getMessage());
    assertEquals(1, a.requestCount(), "the caller's fault: no failover, no retry");
    assertEquals(0, b.requestCount());
  }

  // ---------------------------------------------------------------------------------------------
  // Concurrency

  /**
   * 32 streamed calls are at the providers at once: each provider holds its answer until all 32
   * requests have arrived. With OkHttp's default dispatcher (5 per host) only 5 would ever arrive.
   */
  @Test
  void thirtyTwoConcurrentStreamsAreAtTheProvidersAtOnce() throws Exception {
    int n = 32;
    CountDownLatch allArrived = new CountDownLatch(n);
    AtomicInteger inFlight = new AtomicInteger();
    AtomicInteger maxInFlight = new AtomicInteger();
    java.util.function.Function<ReceivedRequest, MockResponse> hold = r -> {
      maxInFlight.accumulateAndGet(inFlight.incrementAndGet(), Math::max);
      allArrived.countDown();
      try {
        allArrived.await(10, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      inFlight.decrementAndGet();
      return WireFixtures.response("openai-chat-stream-usage.sse").build();
    };
    a.answerWith(hold);
    b.answerWith(hold);
    ProviderPool pool = oneTier();
    OpenAiStreamingChatModel model = streamingModel(pool);

    List<Streamed> calls = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      calls.add(stream(model, "Say hello " + i));
    }
    assertTrue(allArrived.await(10, TimeUnit.SECONDS), "only " + (n - allArrived.getCount()) + " of " + n + " arrived");
    for (Streamed s : calls) {
      assertEquals("pool ok", s.response().aiMessage().text());
    }
    assertEquals(n, maxInFlight.get());
    assertEquals(n, a.requestCount() + b.requestCount());
    for (int i = 0; i < n; i++) {
      assertEquals(21, nextUsage().totalTokens());
    }
  }

  /** The limit is the builder's: with maxRequestsPerHost(5), 5 calls reach the providers and 11 wait. */
  @Test
  void theDispatcherLimitIsTheBuildersAndQueuesThePastIt() throws Exception {
    CountDownLatch fiveArrived = new CountDownLatch(5);
    CountDownLatch release = new CountDownLatch(1);
    java.util.function.Function<ReceivedRequest, MockResponse> hold = r -> {
      fiveArrived.countDown();
      try {
        release.await(10, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      return WireFixtures.response("openai-chat-stream-usage.sse").build();
    };
    a.answerWith(hold);
    b.answerWith(hold);
    ProviderPool pool = oneTier();
    LlmPoolHttpClientBuilder http = keep(LlmPoolLangChain4j.httpClientBuilder(pool).maxRequestsPerHost(5));
    OpenAiStreamingChatModel model = OpenAiStreamingChatModel.builder()
        .httpClientBuilder(http).baseUrl(LlmPoolLangChain4j.baseUrl(pool)).modelName("m").build();

    List<Streamed> calls = new ArrayList<>();
    for (int i = 0; i < 16; i++) {
      calls.add(stream(model, "Say hello " + i));
    }
    assertTrue(fiveArrived.await(10, TimeUnit.SECONDS));
    okhttp3.Dispatcher d = http.okHttpClient().dispatcher();
    assertEquals(5, d.runningCallsCount());
    assertEquals(11, d.queuedCallsCount());
    assertEquals(5, a.requestCount() + b.requestCount());
    release.countDown();
    for (Streamed s : calls) {
      assertEquals("pool ok", s.response().aiMessage().text());
    }
    assertEquals(16, a.requestCount() + b.requestCount());
  }

  @Test
  void theDefaultLimitIs64PerHostAndInAll() {
    LlmPoolHttpClientBuilder http = http(oneTier());
    okhttp3.Dispatcher d = http.okHttpClient().dispatcher();
    assertEquals(64, LlmPoolLangChain4j.DEFAULT_MAX_REQUESTS_PER_HOST);
    assertEquals(64, d.getMaxRequestsPerHost());
    assertEquals(64, d.getMaxRequests());
    assertSame(d, http.build().okHttpClient().dispatcher(), "every client built shares the dispatcher");
  }

  // ---------------------------------------------------------------------------------------------
  // Timeouts

  @Test
  void theModelsTimeoutsBecomeOkHttpsTimeouts() {
    ProviderPool pool = oneTier();
    LlmPoolHttpClientBuilder http = http(pool);
    OpenAiChatModel.builder().httpClientBuilder(http).baseUrl(LlmPoolLangChain4j.baseUrl(pool))
        .modelName("m").timeout(Duration.ofMillis(1234)).build();
    assertEquals(Duration.ofMillis(1234), http.connectTimeout(), "set by the model's constructor");
    assertEquals(Duration.ofMillis(1234), http.readTimeout());
    LlmPoolHttpClient client = http.build();
    assertEquals(1234, client.okHttpClient().connectTimeoutMillis());
    assertEquals(1234, client.okHttpClient().readTimeoutMillis());

    LlmPoolHttpClientBuilder defaults = http(pool);
    OpenAiStreamingChatModel.builder().httpClientBuilder(defaults).baseUrl(LlmPoolLangChain4j.baseUrl(pool))
        .modelName("m").build();
    LlmPoolHttpClient d = defaults.build();
    assertEquals(15_000, d.okHttpClient().connectTimeoutMillis(), "LangChain4j's OpenAI default connect timeout");
    assertEquals(60_000, d.okHttpClient().readTimeoutMillis(), "LangChain4j's OpenAI default read timeout");
  }

  private MockResponse holdUntilTeardown(MockResponse answer) {
    try {
      teardown.await(10, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    return answer;
  }

  /**
   * The model's read timeout (300 ms) holds: a provider that does not answer is given up on after
   * it, by the pool, which fails over to the next provider; LangChain4j sees the success.
   */
  @Test
  void aProviderSlowerThanTheReadTimeoutIsFailedOver() {
    a.answerWith(r -> holdUntilTeardown(WireFixtures.response("openai-chat.json").build()));
    ProviderPool pool = tiered();
    OpenAiChatModel model = OpenAiChatModel.builder().httpClientBuilder(http(pool)).baseUrl(LlmPoolLangChain4j.baseUrl(pool))
        .modelName("m").timeout(Duration.ofMillis(300)).build();
    long start = System.nanoTime();
    assertEquals("agentgateway works", model.chat("Say hello"));
    long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
    assertTrue(ms >= 300 && ms < 5_000, "answered after a's 300 ms timeout, not after its 10 s hold: " + ms + " ms");
    assertEquals(1, a.requestCount());
    assertEquals(1, b.requestCount());
  }

  /** Every provider slower than the read timeout: the pool gives up, and LangChain4j does not retry. */
  @Test
  void whenEveryProviderTimesOutThePoolGivesUpOnceAndLangChain4jDoesNotRetry() {
    a.answerWith(r -> holdUntilTeardown(WireFixtures.response("openai-chat.json").build()));
    b.answerWith(r -> holdUntilTeardown(WireFixtures.response("openai-chat.json").build()));
    ProviderPool pool = tiered();
    OpenAiChatModel model = OpenAiChatModel.builder().httpClientBuilder(http(pool)).baseUrl(LlmPoolLangChain4j.baseUrl(pool))
        .modelName("m").timeout(Duration.ofMillis(300)).build(); // LangChain4j's default maxRetries
    long start = System.nanoTime();
    PoolGaveUpException e = assertThrows(PoolGaveUpException.class, () -> model.chat("Say hello"));
    long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
    assertTrue(ms >= 600 && ms < 5_000, "two 300 ms timeouts: " + ms + " ms");
    assertEquals(-1, e.statusCode());
    assertEquals(List.of(Outcome.TIMEOUT, Outcome.TIMEOUT), e.attempts().stream().map(x -> x.outcome()).toList());
    assertEquals(1, a.requestCount());
    assertEquals(1, b.requestCount());
  }

  /**
   * A stream that stalls after its headers and first event: the pool cannot fail over (the answer
   * reached the caller), and the read timeout ends it with LangChain4j's TimeoutException.
   */
  @Test
  void aStreamThatStallsEndsWithLangChain4jsTimeoutException() throws Exception {
    String first = WireFixtures.text("openai-chat-stream-usage.sse").split("\n\n")[0] + "\n\n";
    a.answerWith(r -> new MockResponse.Builder().code(200).addHeader("content-type", "text/event-stream")
        .body(new MockResponseBody() {
          @Override
          public long getContentLength() {
            return -1;
          }

          @Override
          public void writeTo(BufferedSink sink) throws IOException {
            sink.writeUtf8(first);
            sink.flush();
            holdUntilTeardown(null);
          }
        }).build());
    ProviderPool pool = tiered();
    LlmPoolHttpClientBuilder http = http(pool);
    OpenAiStreamingChatModel model = OpenAiStreamingChatModel.builder().httpClientBuilder(http)
        .baseUrl(LlmPoolLangChain4j.baseUrl(pool)).modelName("m").timeout(Duration.ofMillis(300)).build();
    CountDownLatch callEnded = new CountDownLatch(1);
    http.okHttpClient().dispatcher().setIdleCallback(callEnded::countDown);
    long start = System.nanoTime();
    Streamed s = stream(model, "Say hello");
    Throwable error = s.error();
    long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
    assertInstanceOf(TimeoutException.class, error);
    assertTrue(ms >= 300 && ms < 5_000, ms + " ms");
    assertTrue(callEnded.await(10, TimeUnit.SECONDS));
    assertEquals(1, s.ends().get(), "onError only: no completed response after the error");
    assertEquals(1, a.requestCount());
    assertEquals(0, b.requestCount());
  }

  // ---------------------------------------------------------------------------------------------
  // Cancelling a stream

  @Test
  void aStreamCancelledThroughLangChain4jsHandleEndsWithoutErrorOrCompletion() throws Exception {
    String sse = WireFixtures.text("openai-chat-stream-usage.sse");
    String firstTwo = String.join("\n\n", java.util.Arrays.copyOf(sse.split("\n\n"), 2)) + "\n\n";
    a.answerWith(r -> new MockResponse.Builder().code(200).addHeader("content-type", "text/event-stream")
        .body(new MockResponseBody() {
          @Override
          public long getContentLength() {
            return -1;
          }

          @Override
          public void writeTo(BufferedSink sink) throws IOException {
            sink.writeUtf8(firstTwo);
            sink.flush();
            holdUntilTeardown(null);
          }
        }).build());
    ProviderPool pool = tiered();
    OpenAiStreamingChatModel model = streamingModel(pool);
    // The dispatcher turns idle when the call's callback has returned: after the listener's end.
    CountDownLatch callEnded = new CountDownLatch(1);
    builders.get(0).okHttpClient().dispatcher().setIdleCallback(callEnded::countDown);
    Streamed s = stream(model, "Say hello", (partial, context) -> context.streamingHandle().cancel());

    assertTrue(callEnded.await(10, TimeUnit.SECONDS), "the cancelled stream's call ended");
    assertFalse(s.done().isDone(), "no onError and no onCompleteResponse after a cancel: " + s.done());
    assertEquals(List.of("pool"), s.parts());
  }

  // ---------------------------------------------------------------------------------------------
  // Router, custom OkHttp, builder checks, close

  @Test
  void aModelRouterPicksThePoolByTheModelsName() throws Exception {
    ProviderPool poolA = ProviderPool.builder().tier(provider(a)).onUsage(usages::add).build();
    ProviderPool poolB = ProviderPool.builder().tier(provider(b)).onUsage(usages::add).build();
    ModelRouter router = ModelRouter.builder().route("fast", poolA).route("smart", poolB).build();
    LlmPoolHttpClientBuilder http = keep(LlmPoolLangChain4j.httpClientBuilder(router));
    OpenAiChatModel smart = OpenAiChatModel.builder().httpClientBuilder(http)
        .baseUrl(LlmPoolLangChain4j.baseUrl(router)).modelName("smart").build();

    assertEquals("agentgateway works", smart.chat("Say hello"));
    assertEquals(0, a.requestCount());
    assertEquals(1, b.requestCount());
    assertEquals("model-b", b.lastRequest().json().path("model").asText());
    assertEquals("Bearer key-b", b.lastRequest().headers().get("Authorization"));
    assertEquals(router.baseUrl().toString(), LlmPoolLangChain4j.baseUrl(router));

    // An alias no route names: the router's own 404 (x-should-retry: false) stays LangChain4j's
    // ModelNotFoundException, and reaches no provider.
    OpenAiChatModel unknown = OpenAiChatModel.builder().httpClientBuilder(http)
        .baseUrl(LlmPoolLangChain4j.baseUrl(router)).modelName("nope").build();
    assertThrows(dev.langchain4j.exception.ModelNotFoundException.class, () -> unknown.chat("Say hello"));
    assertEquals(1, a.requestCount() + b.requestCount());
    assertEquals(64, http.okHttpClient().dispatcher().getMaxRequestsPerHost());
  }

  @Test
  void yourOwnOkHttpBuilderIsCopiedNotChanged() throws Exception {
    List<String> seen = new CopyOnWriteArrayList<>();
    Interceptor mine = chain -> {
      seen.add(chain.request().url().host());
      return chain.proceed(chain.request());
    };
    OkHttpClient.Builder own = new OkHttpClient.Builder().addInterceptor(mine).writeTimeout(Duration.ofSeconds(7));
    ProviderPool pool = tiered();
    LlmPoolHttpClientBuilder http = keep(LlmPoolLangChain4j.httpClientBuilder(pool).okHttp(own));
    assertEquals("agentgateway works", chatModel(http, LlmPoolLangChain4j.baseUrl(pool), DEFAULT).chat("Say hello"));

    assertEquals(List.of("llmpool.invalid"), seen, "your interceptor runs before the pool's");
    assertEquals(List.of(mine), own.interceptors(), "your builder is left as it was");
    assertTrue(own.networkInterceptors().isEmpty());
    OkHttpClient built = http.okHttpClient();
    assertEquals(7_000, built.writeTimeoutMillis());
    assertEquals(List.of(mine, pool.interceptor()), built.interceptors());
    assertEquals(List.of(pool.redirectGuard()), built.networkInterceptors());
  }

  @Test
  void badSettingsAreRefusedNamingTheSetting() {
    LlmPoolHttpClientBuilder http = http(oneTier());
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> http.maxRequestsPerHost(0));
    assertTrue(e.getMessage().contains("maxRequestsPerHost") && e.getMessage().contains("0"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> http.readTimeout(Duration.ofSeconds(-1)));
    assertTrue(e.getMessage().contains("readTimeout") && e.getMessage().contains("PT-1S"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> http.connectTimeout(Duration.ofSeconds(-2)));
    assertTrue(e.getMessage().contains("connectTimeout"), e.getMessage());
    http.build();
    IllegalStateException s = assertThrows(IllegalStateException.class, () -> http.maxRequestsPerHost(8));
    assertTrue(s.getMessage().contains("maxRequestsPerHost"), s.getMessage());
    assertThrows(IllegalStateException.class, () -> http.okHttp(new OkHttpClient.Builder()));
    assertThrows(NullPointerException.class, () -> LlmPoolLangChain4j.httpClientBuilder((ProviderPool) null));
  }

  /**
   * Not registered with LangChain4j's ServiceLoader: with this artifact on the class path, a model
   * built without httpClientBuilder(...) still gets LangChain4j's JDK client (two registered
   * factories would make LangChain4j refuse to build it: "Conflict: multiple HTTP clients").
   */
  @Test
  void notRegisteredWithLangChain4jsServiceLoader() {
    assertEquals("dev.langchain4j.http.client.jdk.JdkHttpClientBuilder",
        dev.langchain4j.http.client.HttpClientBuilderLoader.loadHttpClientBuilder().getClass().getName());
    java.nio.file.Path classes = java.nio.file.Path.of(System.getProperty("llmpool.classesDir", "target/classes"));
    assertTrue(java.nio.file.Files.isDirectory(classes.resolve("io/github/llmpool/langchain4j")), classes.toString());
    assertFalse(java.nio.file.Files.exists(classes.resolve("META-INF/services")), "the artifact registers no service");
    OpenAiChatModel plain = OpenAiChatModel.builder().baseUrl(a.baseUrl()).apiKey(a.apiKey()).modelName("m").build();
    assertEquals("agentgateway works", plain.chat("Say hello"), "LangChain4j's own client, straight to a");
  }

  @Test
  void closeShutsTheDispatcherDown() {
    LlmPoolHttpClientBuilder http = http(oneTier());
    OkHttpClient ok = http.build().okHttpClient();
    assertFalse(ok.dispatcher().executorService().isShutdown());
    http.close();
    assertTrue(ok.dispatcher().executorService().isShutdown());
  }

  @Test
  void noKeyInToStringsOrExceptions() {
    a.failAlways(Fault.rateLimited());
    b.failAlways(Fault.rateLimited());
    ProviderPool pool = tiered();
    LlmPoolHttpClientBuilder http = http(pool);
    PoolGaveUpException e = assertThrows(PoolGaveUpException.class,
        () -> chatModel(http, LlmPoolLangChain4j.baseUrl(pool), DEFAULT).chat("Say hello"));
    List<String> texts = List.of(http.toString(), http.build().toString(), e.toString(), e.headers().toString(), e.body());
    for (String t : texts) {
      assertFalse(t.contains("key-a") || t.contains("key-b"), t);
    }
  }

  // ---------------------------------------------------------------------------------------------

  /** Test-only: surfaces the pool's give-up as a plain HttpException, as the prototype adapter did. */
  private static final class PlainHttpExceptions implements HttpClientBuilder {
    private final LlmPoolHttpClientBuilder delegate;

    PlainHttpExceptions(LlmPoolHttpClientBuilder delegate) {
      this.delegate = delegate;
    }

    @Override
    public Duration connectTimeout() {
      return delegate.connectTimeout();
    }

    @Override
    public HttpClientBuilder connectTimeout(Duration timeout) {
      delegate.connectTimeout(timeout);
      return this;
    }

    @Override
    public Duration readTimeout() {
      return delegate.readTimeout();
    }

    @Override
    public HttpClientBuilder readTimeout(Duration timeout) {
      delegate.readTimeout(timeout);
      return this;
    }

    @Override
    public HttpClient build() {
      LlmPoolHttpClient client = delegate.build();
      return new HttpClient() {
        @Override
        public SuccessfulHttpResponse execute(HttpRequest request) {
          try {
            return client.execute(request);
          } catch (PoolGaveUpException e) {
            if (e.statusCode() < 0) {
              throw e;
            }
            throw new HttpException(e.statusCode(), e.body());
          }
        }

        @Override
        public void execute(HttpRequest request, ServerSentEventParser parser, ServerSentEventListener listener) {
          client.execute(request, parser, listener);
        }
      };
    }
  }

}
