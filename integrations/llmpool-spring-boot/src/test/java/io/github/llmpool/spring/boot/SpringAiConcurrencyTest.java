package io.github.llmpool.spring.boot;

import static org.assertj.core.api.Assertions.assertThat;

import io.github.llmpool.ProviderPool;
import io.github.llmpool.spring.boot.ai.LlmPoolSpringAiAutoConfiguration;
import io.github.llmpool.testing.FakeLlmServer;
import io.github.llmpool.testing.WireFixtures;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.springframework.ai.chat.model.ChatModel;
import org.springframework.ai.chat.model.ChatResponse;
import org.springframework.ai.chat.prompt.Prompt;
import org.springframework.ai.model.openai.autoconfigure.OpenAiChatAutoConfiguration;
import org.springframework.ai.model.tool.autoconfigure.ToolCallingAutoConfiguration;
import org.springframework.ai.openai.OpenAiChatModel;
import org.springframework.ai.openai.OpenAiChatOptions;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import reactor.core.publisher.Flux;

/**
 * No silent concurrency cap on Spring AI's streams: {@code OpenAiChatModel.stream()} runs on the
 * SDK's async client, whose OkHttp dispatcher decides how many streams are at the provider at once,
 * and every call names the pool's one virtual host. The provider here holds every answer until
 * {@code STREAMS} requests are in, so it sees how many arrive together. Both ways into the pool
 * carry them: the auto-configured one ({@code LlmPoolOpenAI}'s 64 per host) and Spring AI's own
 * transport with the interceptor added by {@code httpClientBuilderCustomizer} (Spring AI 2.0.1 raises
 * its dispatcher's per-host limit to its overall limit, 64).
 */
class SpringAiConcurrencyTest {
  static final int STREAMS = 16;

  /** Starts {@code STREAMS} streams at once; returns how many requests reached the provider together. */
  static int concurrentArrivals(ChatModel model, FakeLlmServer provider, long waitSeconds) throws Exception {
    CountDownLatch all = new CountDownLatch(STREAMS);
    AtomicInteger arrived = new AtomicInteger();
    AtomicInteger maxTogether = new AtomicInteger();
    provider.answerWith(r -> {
      maxTogether.accumulateAndGet(arrived.incrementAndGet(), Math::max);
      all.countDown();
      try {
        all.await(waitSeconds, TimeUnit.SECONDS); // held until all are in, or the wait ends
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      arrived.decrementAndGet();
      return WireFixtures.response("openai-chat-stream-usage.sse").build();
    });
    List<Flux<ChatResponse>> streams = new ArrayList<>();
    for (int i = 0; i < STREAMS; i++) {
      streams.add(model.stream(new Prompt("stream " + i)));
    }
    List<ChatResponse> chunks = Flux.merge(Flux.fromIterable(streams), STREAMS)
        .collectList().block(Duration.ofSeconds(waitSeconds * 4 + 20));
    assertThat(chunks).isNotEmpty();
    assertThat(provider.requestCount()).isEqualTo(STREAMS);
    return maxTogether.get();
  }

  @Test
  void theAutoConfiguredModelCarries16StreamsAtOnce() throws Exception {
    try (FakeLlmServer a = OpenAiFakes.openAi("a")) {
      new ApplicationContextRunner()
          .withConfiguration(AutoConfigurations.of(LlmPoolAutoConfiguration.class,
              LlmPoolSpringAiAutoConfiguration.class, ToolCallingAutoConfiguration.class,
              OpenAiChatAutoConfiguration.class))
          .withPropertyValues("llmpool.pools.main.providers[0].name=a",
              "llmpool.pools.main.providers[0].base-url=" + a.baseUrl(),
              "llmpool.pools.main.providers[0].api-key=" + a.apiKey())
          .run(context -> assertThat(concurrentArrivals(context.getBean(ChatModel.class), a, 20))
              .isEqualTo(STREAMS));
    }
  }

  @Test
  void springAisOwnTransportWithThePoolsInterceptorCarries16StreamsAtOnceToo() throws Exception {
    try (FakeLlmServer a = OpenAiFakes.openAi("a")) {
      ProviderPool pool = ProviderPool.builder()
          .tier(io.github.llmpool.Provider.builder("a").baseUrl(a.baseUrl()).apiKey(a.apiKey()).build()).build();
      OpenAiChatModel model = OpenAiChatModel.builder()
          .options(OpenAiChatOptions.builder().baseUrl(pool.baseUrl().toString()).apiKey("unused").maxRetries(0)
              .model("gpt-4o-mini").build())
          .httpClientBuilderCustomizer(b -> b.interceptor(pool.interceptor()))
          .build();
      assertThat(concurrentArrivals(model, a, 20)).isEqualTo(STREAMS);
    }
  }
}
