package io.github.llmpool.spring.web;

import static io.github.llmpool.spring.web.OpenAiFakes.provider;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.llmpool.ProviderPool;
import io.github.llmpool.TokenUsage;
import io.github.llmpool.testing.FakeLlmServer;
import io.github.llmpool.testing.Fault;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.ai.chat.model.ChatResponse;
import org.springframework.ai.chat.prompt.Prompt;
import org.springframework.ai.openai.OpenAiChatModel;
import org.springframework.ai.openai.OpenAiChatOptions;
import org.springframework.ai.openai.api.OpenAiApi;
import org.springframework.ai.retry.NonTransientAiException;
import org.springframework.ai.retry.TransientAiException;
import org.springframework.retry.support.RetryTemplate;
import org.springframework.web.client.RestClient;
import org.springframework.web.reactive.function.client.WebClient;

/**
 * The real Spring AI 1.1.2 {@code OpenAiChatModel} over a pool through this module's factory
 * ({@code RestClient}: calls) and connector ({@code WebClient}: streams), against two fake
 * OpenAI providers on loopback.
 */
class SpringAiOpenAiTest {
  private FakeLlmServer a;
  private FakeLlmServer b;
  private BlockingQueue<TokenUsage> usages;
  private ProviderPool pool;

  @BeforeEach
  void setUp() {
    a = OpenAiFakes.openAi("a");
    b = OpenAiFakes.openAi("b");
    usages = new LinkedBlockingQueue<>();
    pool = ProviderPool.builder().tier(provider(a)).tier(provider(b)).onUsage(usages::add).build();
  }

  @AfterEach
  void tearDown() {
    a.close();
    b.close();
  }

  /** The documented wiring (docs/integrations/spring-ai.md). */
  static OpenAiApi api(ProviderPool pool, String baseUrl) {
    return OpenAiApi.builder()
        .baseUrl(baseUrl)
        .apiKey(LlmPoolSpring.PLACEHOLDER_API_KEY)
        .restClientBuilder(RestClient.builder().requestFactory(LlmPoolSpring.requestFactory(pool)))
        .webClientBuilder(WebClient.builder().clientConnector(LlmPoolSpring.connector(pool)))
        .build();
  }

  static OpenAiChatModel model(ProviderPool pool, RetryTemplate retry) {
    return OpenAiChatModel.builder()
        .openAiApi(api(pool, LlmPoolSpring.baseUrl(pool)))
        .defaultOptions(OpenAiChatOptions.builder().model("gpt-4o-mini").build())
        .retryTemplate(retry)
        .build();
  }

  /** No Spring AI retries: the pool already retried on another provider. */
  static final RetryTemplate NO_RETRY = RetryTemplate.builder().maxAttempts(1).build();

  private TokenUsage nextUsageOf(String provider) throws InterruptedException {
    while (true) {
      TokenUsage u = usages.poll(10, TimeUnit.SECONDS);
      assertNotNull(u, "onUsage was not called within 10 s");
      if (u.provider().equals(provider)) {
        return u;
      }
    }
  }

  @Test
  void theBaseUrlIsTheRootBecauseOpenAiApiAppendsV1() {
    assertEquals("http://llmpool.invalid", LlmPoolSpring.baseUrl(pool));
    assertEquals("http://llmpool.invalid/v1/", pool.baseUrl().toString());
    ProviderPool named = ProviderPool.builder().virtualHost("llm.internal.invalid").tier(provider(a)).build();
    assertEquals("http://llm.internal.invalid", LlmPoolSpring.baseUrl(named));

    // The trap: pool.baseUrl() makes OpenAiApi ask for /v1/v1/chat/completions, which providers answer 404.
    OpenAiChatModel wrong = OpenAiChatModel.builder().openAiApi(api(pool, pool.baseUrl().toString()))
        .defaultOptions(OpenAiChatOptions.builder().model("gpt-4o-mini").build()).retryTemplate(NO_RETRY).build();
    assertThrows(NonTransientAiException.class, () -> wrong.call(new Prompt("Say hello")));
    String sent = a.lastRequest().path();
    assertTrue(sent.matches("/v1/+v1/chat/completions"), sent);
  }

  @Test
  void callGoesThroughThePoolWithTheProvidersKeyAndModelAndExactUsage() throws Exception {
    ChatResponse response = model(pool, NO_RETRY).call(new Prompt("Say hello"));

    assertEquals("agentgateway works", response.getResult().getOutput().getText());
    assertEquals(80, response.getMetadata().getUsage().getTotalTokens());
    assertEquals(1, a.requestCount());
    assertEquals(0, b.requestCount());
    assertEquals("/v1/chat/completions", a.lastRequest().path());
    assertEquals("Bearer key-a", a.lastRequest().headers().get("Authorization"), "the placeholder key was replaced");
    assertEquals("model-a", a.lastRequest().json().path("model").asText());
    TokenUsage u = nextUsageOf("a");
    assertEquals(23, u.tokens().prompt());
    assertEquals(57, u.tokens().completion());
    assertEquals(80, u.totalTokens());
  }

  @Test
  void streamGoesThroughWebClientWithEveryChunkAndTheUsageChunk() throws Exception {
    OpenAiFakes.streamAnswer(a);
    OpenAiChatOptions options = OpenAiChatOptions.builder().model("gpt-4o-mini").streamUsage(true).build();

    List<ChatResponse> chunks = model(pool, NO_RETRY).stream(new Prompt("Say hello", options))
        .collectList().block(Duration.ofSeconds(30));

    assertNotNull(chunks);
    StringBuilder text = new StringBuilder();
    chunks.forEach(c -> {
      if (c.getResult() != null && c.getResult().getOutput().getText() != null) {
        text.append(c.getResult().getOutput().getText());
      }
    });
    assertEquals("pool ok", text.toString());
    assertEquals(21, chunks.get(chunks.size() - 1).getMetadata().getUsage().getTotalTokens(), "Spring AI saw the usage chunk");
    assertTrue(a.lastRequest().json().path("stream").asBoolean());
    assertTrue(a.lastRequest().json().path("stream_options").path("include_usage").asBoolean());
    assertEquals("Bearer key-a", a.lastRequest().headers().get("Authorization"));
    TokenUsage u = nextUsageOf("a");
    assertTrue(u.streamed());
    assertEquals(19, u.tokens().prompt());
    assertEquals(2, u.tokens().completion());
    assertEquals(21, u.totalTokens());
  }

  @Test
  void a429IsFailedOverInsideThePoolSpringAiSeesOneSuccessTheProvidersTwoRequests() throws Exception {
    a.failAlways(Fault.rateLimited());

    ChatResponse response = model(pool, NO_RETRY).call(new Prompt("Say hello"));

    assertEquals("agentgateway works", response.getResult().getOutput().getText());
    assertEquals(1, a.requestCount());
    assertEquals(1, b.requestCount());
    assertEquals("model-b", b.lastRequest().json().path("model").asText());
    assertEquals(80, nextUsageOf("b").totalTokens());
  }

  @Test
  void a429FailoverInAStream() throws Exception {
    a.failAlways(Fault.rateLimited());
    OpenAiFakes.streamAnswer(b);
    OpenAiChatOptions options = OpenAiChatOptions.builder().model("gpt-4o-mini").streamUsage(true).build();

    List<ChatResponse> chunks = model(pool, NO_RETRY).stream(new Prompt("Say hello", options))
        .collectList().block(Duration.ofSeconds(30));

    assertEquals(21, chunks.get(chunks.size() - 1).getMetadata().getUsage().getTotalTokens());
    assertEquals(1, a.requestCount());
    assertEquals(1, b.requestCount());
    assertEquals(21, nextUsageOf("b").totalTokens());
  }

  @Test
  void springAiRetriesMultiplyWhatThePoolGaveUpOnUnlessTurnedOff() {
    // Both providers overloaded: the pool tries each once, then gives up with the last 503.
    a.failAlways(Fault.fixture("openai-503.http"));
    b.failAlways(Fault.fixture("openai-503.http"));

    // Spring AI's RetryTemplate retries a 5xx (TransientAiException) as a new request to the pool.
    RetryTemplate threeAttempts = RetryTemplate.builder().maxAttempts(3).fixedBackoff(Duration.ofMillis(1))
        .retryOn(TransientAiException.class).build();
    assertThrows(TransientAiException.class, () -> model(pool, threeAttempts).call(new Prompt("Say hello")));
    int withSpringAiRetries = a.requestCount() + b.requestCount();
    assertTrue(withSpringAiRetries > 2, "Spring AI's retries sent more requests: " + withSpringAiRetries);

    // maxAttempts(1): one logical request, the pool's own attempts are all the providers get.
    ProviderPool fresh = ProviderPool.builder().tier(provider(a)).tier(provider(b)).build();
    int before = a.requestCount() + b.requestCount();
    assertThrows(TransientAiException.class, () -> model(fresh, NO_RETRY).call(new Prompt("Say hello")));
    assertEquals(2, a.requestCount() + b.requestCount() - before, "exactly the pool's two attempts");
  }
}
