package io.github.llmpool.spring.boot;

import static org.assertj.core.api.Assertions.assertThat;

import com.openai.client.OpenAIClient;
import io.github.llmpool.ProviderPool;
import io.github.llmpool.TokenUsage;
import io.github.llmpool.openai.LlmPoolOpenAI;
import io.github.llmpool.spring.boot.ai.LlmPoolSpringAiAutoConfiguration;
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

  static String[] tiers(FakeOpenAi first, FakeOpenAi second) {
    return new String[] {
        "llmpool.pools.main.tiers[0].providers[0].name=" + first.name,
        "llmpool.pools.main.tiers[0].providers[0].base-url=" + first.baseUrl(),
        "llmpool.pools.main.tiers[0].providers[0].api-key=" + first.key,
        "llmpool.pools.main.tiers[0].providers[0].model=gpt-4o-mini",
        "llmpool.pools.main.tiers[1].providers[0].name=" + second.name,
        "llmpool.pools.main.tiers[1].providers[0].base-url=" + second.baseUrl(),
        "llmpool.pools.main.tiers[1].providers[0].api-key=" + second.key,
        "llmpool.pools.main.tiers[1].providers[0].model=llama-3.1-8b"};
  }

  @Test
  void chatClientCallGoesThroughThePoolWithTheProvidersKeyAndModel() throws Exception {
    try (FakeOpenAi a = FakeOpenAi.start("a"); FakeOpenAi b = FakeOpenAi.start("b")) {
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

            assertThat(a.requests()).isEqualTo(1);
            assertThat(b.requests()).isZero();
            assertThat(a.last().getHeaders().get("Authorization")).isEqualTo("Bearer " + a.key);
            assertThat(a.last().getUrl().encodedPath()).isEqualTo("/v1/chat/completions");
            assertThat(FakeOpenAi.body(a.last()).path("model").asText()).isEqualTo("gpt-4o-mini");
            assertThat(FakeOpenAi.body(a.last()).path("temperature").asDouble()).isEqualTo(0.3);
            assertThat(a.last().getHeaders().toString()).doesNotContain(LlmPoolOpenAI.PLACEHOLDER_API_KEY);
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
    try (FakeOpenAi a = FakeOpenAi.start("a"); FakeOpenAi b = FakeOpenAi.start("b")) {
      runner.withPropertyValues(tiers(a, b)).run(context -> {
        ChatClient chat = context.getBean(ChatClient.Builder.class).build();
        List<String> parts = chat.prompt().user("Say hello").stream().content().collectList()
            .block(Duration.ofSeconds(20));
        assertThat(String.join("", parts)).isEqualTo("pool ok");
        assertThat(a.requests()).isEqualTo(1);
        assertThat(FakeOpenAi.body(a.last()).path("stream").asBoolean()).isTrue();
        assertThat(a.last().getHeaders().get("Authorization")).isEqualTo("Bearer " + a.key);
        assertThat(usage).hasSize(1);
        assertThat(usage.get(0).streamed()).isTrue();
        assertThat(usage.get(0).totalTokens()).isEqualTo(21);
      });
    }
  }

  @Test
  void a429IsFailedOverInsideThePoolAndSpringAiSeesOneSuccess() throws Exception {
    try (FakeOpenAi a = FakeOpenAi.start("a"); FakeOpenAi b = FakeOpenAi.start("b")) {
      a.answer(r -> Fixtures.http("openai-429-rate-limit.http"));
      // The pool's clock stands still: a's eviction (Retry-After: 2) lasts for the whole test, however slow the machine.
      runner.withPropertyValues(tiers(a, b))
          .withBean("frozenClock", LlmPoolCustomizer.class, () -> (name, builder) -> builder.ticker(() -> 0L))
          .run(context -> {
        ChatModel model = context.getBean(ChatModel.class);
        assertThat(model.call("Say hello")).isEqualTo("agentgateway works");
        assertThat(a.requests()).isEqualTo(1);
        assertThat(b.requests()).isEqualTo(1); // no SDK or Spring AI retry on top of the pool's failover
        assertThat(FakeOpenAi.body(b.last()).path("model").asText()).isEqualTo("llama-3.1-8b");
        assertThat(b.last().getHeaders().get("Authorization")).isEqualTo("Bearer " + b.key);
        ProviderPool pool = context.getBean(ProviderPool.class);
        assertThat(pool.snapshot().provider("a").orElseThrow().status().name()).isEqualTo("EVICTED");
        assertThat(usage).extracting(TokenUsage::provider).containsExactly("a", "b");
        assertThat(usage.get(1).totalTokens()).isEqualTo(80);

        // Streaming fails over too: a is still evicted, b answers.
        String streamed = String.join("", context.getBean(ChatClient.Builder.class).build().prompt().user("again")
            .stream().content().collectList().block(Duration.ofSeconds(20)));
        assertThat(streamed).isEqualTo("pool ok");
        assertThat(a.requests()).isEqualTo(1);
        assertThat(b.requests()).isEqualTo(2);
      });
    }
  }

  @Test
  void severalPoolsNeedASelectionAndTheSelectedOneIsUsed() throws Exception {
    try (FakeOpenAi a = FakeOpenAi.start("a"); FakeOpenAi b = FakeOpenAi.start("b")) {
      String[] two = {
          "llmpool.pools.one.providers[0].name=a", "llmpool.pools.one.providers[0].base-url=" + a.baseUrl(),
          "llmpool.pools.one.providers[0].api-key=" + a.key,
          "llmpool.pools.two.providers[0].name=b", "llmpool.pools.two.providers[0].base-url=" + b.baseUrl(),
          "llmpool.pools.two.providers[0].api-key=" + b.key};
      runner.withPropertyValues(two).run(context -> assertThat(context).getFailure()
          .hasStackTraceContaining("llmpool.spring-ai.pool is not set and there are several ProviderPool beans"));
      runner.withPropertyValues(two).withPropertyValues("llmpool.spring-ai.pool=two").run(context -> {
        assertThat(context.getBean(ChatModel.class).call("hi")).isEqualTo("agentgateway works");
        assertThat(a.requests()).isZero();
        assertThat(b.requests()).isEqualTo(1);
      });
    }
  }

  @Test
  void anOpenAiClientOfYourOwnStaysThePlainInjectionCandidate() throws Exception {
    try (FakeOpenAi a = FakeOpenAi.start("a"); FakeOpenAi b = FakeOpenAi.start("b");
        FakeOpenAi own = FakeOpenAi.start("own")) {
      OpenAIClient yours = LlmPoolOpenAI.client(ProviderPool.builder()
          .tier(io.github.llmpool.Provider.builder("own").baseUrl(own.baseUrl()).apiKey(own.key).build()).build());
      runner.withPropertyValues(tiers(a, b)).withBean(OpenAIClient.class, () -> yours).run(context -> {
        assertThat(context).hasNotFailed();
        assertThat(context.getBean(OpenAIClient.class)).isSameAs(yours);
        assertThat(context.getBean("llmpoolOpenAiClient")).isNotSameAs(yours);
        assertThat(context.getBean(ChatModel.class).call("hi")).isEqualTo("agentgateway works");
        assertThat(a.requests()).isEqualTo(1);
        assertThat(own.requests()).isZero();
      });
      yours.close();
    }
  }

  @Test
  void offSwitchLeavesSpringAisOwnModel() throws Exception {
    try (FakeOpenAi a = FakeOpenAi.start("a"); FakeOpenAi b = FakeOpenAi.start("b")) {
      runner.withPropertyValues(tiers(a, b)).withPropertyValues("llmpool.spring-ai.enabled=false",
              "spring.ai.openai.api-key=" + a.key, "spring.ai.openai.base-url=" + a.baseUrl())
          .run(context -> {
            assertThat(context).hasNotFailed().doesNotHaveBean("llmpoolOpenAiClient");
            assertThat(context.getBean(ChatModel.class).call("hi")).isEqualTo("agentgateway works");
            assertThat(usage).as("not through the pool").isEmpty();
            assertThat(a.requests()).isEqualTo(1);
          });
    }
  }
}
