package io.github.llmpool.spring.boot;

import static org.assertj.core.api.Assertions.assertThat;

import com.openai.client.OpenAIClient;
import io.github.llmpool.ProviderPool;
import io.github.llmpool.TokenUsage;
import io.github.llmpool.openai.LlmPoolOpenAI;
import io.github.llmpool.spring.boot.ai.LlmPoolSpringAiAutoConfiguration;
import io.github.llmpool.testing.FakeLlmServer;
import io.github.llmpool.testing.Fault;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;
import org.springframework.ai.chat.client.ChatClient;
import org.springframework.ai.chat.model.ChatModel;
import org.springframework.ai.chat.model.ChatResponse;
import org.springframework.ai.model.chat.client.autoconfigure.ChatClientAutoConfiguration;
import org.springframework.ai.model.openai.autoconfigure.OpenAiChatAutoConfiguration;
import org.springframework.ai.model.tool.autoconfigure.ToolCallingAutoConfiguration;
import org.springframework.ai.openai.OpenAiChatModel;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;

/**
 * Spring AI 2.0.1's real OpenAI chat model and ChatClient, auto-configured next to llmpool, against
 * fake providers on loopback: calls and streams go through the pool, a 429 fails over inside it,
 * usage reaches {@code onUsage}.
 */
class SpringAiOpenAiTest {

  final List<TokenUsage> usage = new CopyOnWriteArrayList<>();

  final ApplicationContextRunner runner = new ApplicationContextRunner()
      .withConfiguration(AutoConfigurations.of(LlmPoolAutoConfiguration.class, LlmPoolSpringAiAutoConfiguration.class,
          ToolCallingAutoConfiguration.class, OpenAiChatAutoConfiguration.class, ChatClientAutoConfiguration.class))
      .withBean(LlmPoolCustomizer.class, () -> (name, b) -> b.onUsage(usage::add));

  static String[] tiers(FakeLlmServer first, FakeLlmServer second) {
    return new String[] {
        "llmpool.pools.main.tiers[0].providers[0].name=" + first.name(),
        "llmpool.pools.main.tiers[0].providers[0].base-url=" + first.baseUrl(),
        "llmpool.pools.main.tiers[0].providers[0].api-key=" + first.apiKey(),
        "llmpool.pools.main.tiers[0].providers[0].model=gpt-4o-mini",
        "llmpool.pools.main.tiers[1].providers[0].name=" + second.name(),
        "llmpool.pools.main.tiers[1].providers[0].base-url=" + second.baseUrl(),
        "llmpool.pools.main.tiers[1].providers[0].api-key=" + second.apiKey(),
        "llmpool.pools.main.tiers[1].providers[0].model=llama-3.1-8b"};
  }

  @Test
  void chatClientCallGoesThroughThePoolWithTheProvidersKeyAndModel() throws Exception {
    try (FakeLlmServer a = OpenAiFakes.openAi("a"); FakeLlmServer b = OpenAiFakes.openAi("b")) {
      runner.withPropertyValues(tiers(a, b)).withPropertyValues("spring.ai.openai.chat.options.temperature=0.3")
          .run(context -> {
            assertThat(context).hasNotFailed();
            OpenAiChatModel model = context.getBean(OpenAiChatModel.class);
            assertThat(context.getBeansOfType(ChatModel.class)).containsOnlyKeys("openAiChatModel");
            assertThat(context.getBean("llmpoolOpenAiClient", OpenAIClient.class)).isNotNull();
            ChatClient chat = context.getBean(ChatClient.Builder.class).build();

            ChatResponse response = chat.prompt().user("Say hello").call().chatResponse();
            assertThat(response.getResult().getOutput().getText()).isEqualTo("agentgateway works");
            assertThat(response.getMetadata().getUsage().getTotalTokens()).isEqualTo(80);

            assertThat(a.requestCount()).isEqualTo(1);
            assertThat(b.requestCount()).isZero();
            assertThat(a.lastRequest().headers().get("Authorization")).isEqualTo("Bearer " + a.apiKey());
            assertThat(a.lastRequest().path()).isEqualTo("/v1/chat/completions");
            assertThat(a.lastRequest().json().path("model").asText()).isEqualTo("gpt-4o-mini");
            assertThat(a.lastRequest().json().path("temperature").asDouble()).isEqualTo(0.3);
            assertThat(a.lastRequest().headers().toString()).doesNotContain(LlmPoolOpenAI.PLACEHOLDER_API_KEY);
            assertThat(usage).hasSize(1);
            assertThat(usage.get(0).provider()).isEqualTo("a");
            assertThat(usage.get(0).tokens().prompt()).isEqualTo(23);
            assertThat(usage.get(0).tokens().completion()).isEqualTo(57);
            assertThat(usage.get(0).totalTokens()).isEqualTo(80);
            assertThat(model).isNotNull();
          });
    }
  }

  @Test
  void chatClientStreamGoesThroughThePoolAndReportsUsage() throws Exception {
    try (FakeLlmServer a = OpenAiFakes.openAi("a"); FakeLlmServer b = OpenAiFakes.openAi("b")) {
      OpenAiFakes.streamAnswer(a);
      runner.withPropertyValues(tiers(a, b)).run(context -> {
        ChatClient chat = context.getBean(ChatClient.Builder.class).build();
        List<String> parts = chat.prompt().user("Say hello").stream().content().collectList()
            .block(Duration.ofSeconds(20));
        assertThat(String.join("", parts)).isEqualTo("pool ok");
        assertThat(a.requestCount()).isEqualTo(1);
        assertThat(a.lastRequest().json().path("stream").asBoolean()).isTrue();
        assertThat(a.lastRequest().headers().get("Authorization")).isEqualTo("Bearer " + a.apiKey());
        assertThat(usage).hasSize(1);
        assertThat(usage.get(0).streamed()).isTrue();
        assertThat(usage.get(0).totalTokens()).isEqualTo(21);
      });
    }
  }

  @Test
  void a429IsFailedOverInsideThePoolAndSpringAiSeesOneSuccess() throws Exception {
    try (FakeLlmServer a = OpenAiFakes.openAi("a"); FakeLlmServer b = OpenAiFakes.openAi("b")) {
      a.failAlways(Fault.rateLimited());
      // The pool's clock stands still: a's eviction (Retry-After: 2) lasts for the whole test, however slow the machine.
      runner.withPropertyValues(tiers(a, b))
          .withBean("frozenClock", LlmPoolCustomizer.class, () -> (name, builder) -> builder.ticker(() -> 0L))
          .run(context -> {
        ChatModel model = context.getBean(ChatModel.class);
        assertThat(model.call("Say hello")).isEqualTo("agentgateway works");
        assertThat(a.requestCount()).isEqualTo(1);
        assertThat(b.requestCount()).isEqualTo(1); // no SDK or Spring AI retry on top of the pool's failover
        assertThat(b.lastRequest().json().path("model").asText()).isEqualTo("llama-3.1-8b");
        assertThat(b.lastRequest().headers().get("Authorization")).isEqualTo("Bearer " + b.apiKey());
        ProviderPool pool = context.getBean(ProviderPool.class);
        assertThat(pool.snapshot().provider("a").orElseThrow().status().name()).isEqualTo("EVICTED");
        assertThat(usage).extracting(TokenUsage::provider).containsExactly("a", "b");
        assertThat(usage.get(1).totalTokens()).isEqualTo(80);

        // Streaming fails over too: a is still evicted, b answers.
        OpenAiFakes.streamAnswer(b);
        String streamed = String.join("", context.getBean(ChatClient.Builder.class).build().prompt().user("again")
            .stream().content().collectList().block(Duration.ofSeconds(20)));
        assertThat(streamed).isEqualTo("pool ok");
        assertThat(a.requestCount()).isEqualTo(1);
        assertThat(b.requestCount()).isEqualTo(2);
      });
    }
  }

  @Test
  void severalPoolsNeedASelectionAndTheSelectedOneIsUsed() throws Exception {
    try (FakeLlmServer a = OpenAiFakes.openAi("a"); FakeLlmServer b = OpenAiFakes.openAi("b")) {
      String[] two = {
          "llmpool.pools.one.providers[0].name=a", "llmpool.pools.one.providers[0].base-url=" + a.baseUrl(),
          "llmpool.pools.one.providers[0].api-key=" + a.apiKey(),
          "llmpool.pools.two.providers[0].name=b", "llmpool.pools.two.providers[0].base-url=" + b.baseUrl(),
          "llmpool.pools.two.providers[0].api-key=" + b.apiKey()};
      runner.withPropertyValues(two).run(context -> assertThat(context).getFailure()
          .hasStackTraceContaining("llmpool.spring-ai.pool is not set and there are several ProviderPool beans"));
      runner.withPropertyValues(two).withPropertyValues("llmpool.spring-ai.pool=two").run(context -> {
        assertThat(context.getBean(ChatModel.class).call("hi")).isEqualTo("agentgateway works");
        assertThat(a.requestCount()).isZero();
        assertThat(b.requestCount()).isEqualTo(1);
      });
    }
  }

  @Test
  void anOpenAiClientOfYourOwnStaysThePlainInjectionCandidate() throws Exception {
    try (FakeLlmServer a = OpenAiFakes.openAi("a"); FakeLlmServer b = OpenAiFakes.openAi("b");
        FakeLlmServer own = OpenAiFakes.openAi("own")) {
      OpenAIClient yours = LlmPoolOpenAI.client(ProviderPool.builder()
          .tier(io.github.llmpool.Provider.builder("own").baseUrl(own.baseUrl()).apiKey(own.apiKey()).build()).build());
      runner.withPropertyValues(tiers(a, b)).withBean(OpenAIClient.class, () -> yours).run(context -> {
        assertThat(context).hasNotFailed();
        assertThat(context.getBean(OpenAIClient.class)).isSameAs(yours);
        assertThat(context.getBean("llmpoolOpenAiClient")).isNotSameAs(yours);
        assertThat(context.getBean(ChatModel.class).call("hi")).isEqualTo("agentgateway works");
        assertThat(a.requestCount()).isEqualTo(1);
        assertThat(own.requestCount()).isZero();
      });
      yours.close();
    }
  }

  @Test
  void offSwitchLeavesSpringAisOwnModel() throws Exception {
    try (FakeLlmServer a = OpenAiFakes.openAi("a"); FakeLlmServer b = OpenAiFakes.openAi("b")) {
      runner.withPropertyValues(tiers(a, b)).withPropertyValues("llmpool.spring-ai.enabled=false",
              "spring.ai.openai.api-key=" + a.apiKey(), "spring.ai.openai.base-url=" + a.baseUrl())
          .run(context -> {
            assertThat(context).hasNotFailed().doesNotHaveBean("llmpoolOpenAiClient");
            assertThat(context.getBean(ChatModel.class).call("hi")).isEqualTo("agentgateway works");
            assertThat(usage).as("not through the pool").isEmpty();
            assertThat(a.requestCount()).isEqualTo(1);
          });
    }
  }
}
