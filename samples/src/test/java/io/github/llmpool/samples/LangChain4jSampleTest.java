package io.github.llmpool.samples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.langchain4j.data.message.UserMessage;
import dev.langchain4j.model.chat.request.ChatRequest;
import dev.langchain4j.model.chat.response.ChatResponse;
import io.github.llmpool.ProviderPool;
import io.github.llmpool.ProviderSnapshot;
import io.github.llmpool.TokenUsage;
import io.github.llmpool.langchain4j.LlmPoolHttpClientBuilder;
import io.github.llmpool.langchain4j.LlmPoolLangChain4j;
import io.github.llmpool.langchain4j.PoolGaveUpException;
import io.github.llmpool.testing.FakeLlmServer;
import io.github.llmpool.testing.Fault;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The LangChain4j sample: OpenAiChatModel and OpenAiStreamingChatModel over llmpool-langchain4j. */
class LangChain4jSampleTest {

  private FakeLlmServer a;
  private FakeLlmServer b;
  private BlockingQueue<TokenUsage> usages;
  private ProviderPool pool;
  private LlmPoolHttpClientBuilder http;

  @BeforeEach
  void setUp() {
    a = FakeLlmServer.start("a");
    b = FakeLlmServer.start("b");
    usages = new LinkedBlockingQueue<>();
    pool = LangChain4jSample.pool(a, b, usages::add);
    http = LlmPoolLangChain4j.httpClientBuilder(pool);
  }

  @AfterEach
  void tearDown() {
    http.close();
    a.close();
    b.close();
  }

  /** The fake that answered as {@code name}. */
  private FakeLlmServer fake(String name) {
    switch (name) {
      case "a": return a;
      case "b": return b;
      default: throw new AssertionError("no fake provider named '" + name + "'");
    }
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
    assertEquals("Bearer key-" + provider, fake(provider).lastRequest().authorization(), "the pool signed it with the key of the provider that answered");
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
    a.failAlways(Fault.rateLimited());

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
    assertEquals(poolToA, a.requestCount(), "a received exactly the attempts the pool sent it");
    assertEquals(a.requestCount(), a.faultCount(), "a answered every one of them 429");
    assertEquals(5, b.requestCount());
    assertEquals(5, poolToB);
  }

  /** Every provider rate-limited: the pool tries each once and gives up; LangChain4j (default maxRetries) adds nothing. */
  @Test
  void whenThePoolGivesUpLangChain4jDoesNotRetry() {
    a.failAlways(Fault.rateLimited());
    b.failAlways(Fault.rateLimited());

    PoolGaveUpException e = assertThrows(PoolGaveUpException.class,
        () -> LangChain4jSample.chatModel(pool, http).chat("Say hello"));
    assertEquals(429, e.statusCode());
    assertEquals(1, a.requestCount());
    assertEquals(1, b.requestCount());
  }
}
