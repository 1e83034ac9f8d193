package io.github.llmpool.samples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.langchain4j.data.message.UserMessage;
import dev.langchain4j.model.chat.request.ChatRequest;
import dev.langchain4j.model.chat.response.ChatResponse;
import io.github.llmpool.ProviderPool;
import io.github.llmpool.ProviderSnapshot;
import io.github.llmpool.TokenUsage;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import io.github.llmpool.langchain4j.LlmPoolHttpClientBuilder;
import io.github.llmpool.langchain4j.LlmPoolLangChain4j;
import io.github.llmpool.langchain4j.PoolGaveUpException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The LangChain4j sample: OpenAiChatModel and OpenAiStreamingChatModel over llmpool-langchain4j. */
class LangChain4jSampleTest {

  private FakeProviders fakes;
  private BlockingQueue<TokenUsage> usages;
  private ProviderPool pool;
  private LlmPoolHttpClientBuilder http;

  @BeforeEach
  void setUp() {
    fakes = FakeProviders.start("a", "b");
    usages = new LinkedBlockingQueue<>();
    pool = LangChain4jSample.pool(fakes, usages::add);
    http = LlmPoolLangChain4j.httpClientBuilder(pool);
  }

  @AfterEach
  void tearDown() {
    http.close();
    fakes.close();
  }

  private TokenUsage nextUsage() throws InterruptedException {
    TokenUsage u = usages.poll(10, TimeUnit.SECONDS);
    assertNotNull(u, "onUsage was not called within 10 s");
    return u;
  }

  private static String answerer(String text) {
    assertTrue(text.startsWith("hello from "), text);
    return text.substring("hello from ".length());
  }

  @Test
  void chatModelGoesThroughThePool() throws Exception {
    ChatResponse response = LangChain4jSample.chatModel(pool, http)
        .chat(ChatRequest.builder().messages(UserMessage.from("Say hello")).build());

    String provider = answerer(response.aiMessage().text());
    assertEquals("model-" + provider, response.modelName(), "the pool rewrote the body's model");
    assertEquals("Bearer key-" + provider, fakes.get(provider).lastAuthorization());
    TokenUsage u = nextUsage();
    assertEquals(provider, u.provider());
    assertEquals(200, u.status());
    assertEquals(response.tokenUsage().inputTokenCount().longValue(), u.tokens().prompt());
    assertEquals(response.tokenUsage().outputTokenCount().longValue(), u.tokens().completion());
    assertEquals(response.tokenUsage().totalTokenCount().longValue(), u.totalTokens());
  }

  @Test
  void streamingChatModelGoesThroughThePool() throws Exception {
    LangChain4jSample.Streamed streamed =
        LangChain4jSample.stream(LangChain4jSample.streamingModel(pool, http), "Say hello, streaming");

    String text = streamed.response().aiMessage().text();
    String provider = answerer(text);
    assertEquals(text, String.join("", streamed.parts()), "partial responses add up to the answer");
    assertTrue(streamed.parts().size() >= 3, "streamed in pieces: " + streamed.parts());
    TokenUsage u = nextUsage();
    assertEquals(provider, u.provider());
    assertTrue(u.streamed());
    assertEquals(streamed.response().tokenUsage().totalTokenCount().longValue(), u.totalTokens());
    assertEquals(3, u.tokens().completion());
  }

  @Test
  void a429ProviderIsFailedOver() throws Exception {
    fakes.get("a").rateLimitAll(true);

    for (int i = 0; i < 4; i++) {
      ChatResponse chat = LangChain4jSample.chatModel(pool, http).chat(
          ChatRequest.builder().messages(UserMessage.from("Say hello " + i)).build());
      assertEquals("hello from b", chat.aiMessage().text());
    }
    LangChain4jSample.Streamed streamed =
        LangChain4jSample.stream(LangChain4jSample.streamingModel(pool, http), "Say hello, streaming");
    assertEquals("hello from b", streamed.response().aiMessage().text());

    long poolToA = pool.snapshot().provider("a").map(ProviderSnapshot::requests).orElseThrow();
    long poolToB = pool.snapshot().provider("b").map(ProviderSnapshot::requests).orElseThrow();
    assertEquals(poolToA, fakes.get("a").requestCount(), "a received exactly the attempts the pool sent it");
    assertEquals(5, fakes.get("b").requestCount());
    assertEquals(5, poolToB);
  }

  /** Every provider rate-limited: the pool tries each once and gives up; LangChain4j (default maxRetries) adds nothing. */
  @Test
  void whenThePoolGivesUpLangChain4jDoesNotRetry() {
    fakes.get("a").rateLimitAll(true);
    fakes.get("b").rateLimitAll(true);

    PoolGaveUpException e = org.junit.jupiter.api.Assertions.assertThrows(PoolGaveUpException.class,
        () -> LangChain4jSample.chatModel(pool, http).chat("Say hello"));
    assertEquals(429, e.statusCode());
    assertEquals(1, fakes.get("a").requestCount());
    assertEquals(1, fakes.get("b").requestCount());
  }
}
