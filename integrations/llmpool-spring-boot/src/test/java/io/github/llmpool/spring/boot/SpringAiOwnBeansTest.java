package io.github.llmpool.spring.boot;

import static org.assertj.core.api.Assertions.assertThat;

import com.openai.client.OpenAIClient;
import io.github.llmpool.ProviderPool;
import io.github.llmpool.TokenUsage;
import io.github.llmpool.openai.LlmPoolOpenAI;
import io.github.llmpool.spring.boot.ai.LlmPoolSpringAiAutoConfiguration;
import io.github.llmpool.testing.FakeLlmServer;
import io.github.llmpool.testing.WireFixtures;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;
import org.springframework.ai.chat.model.ChatModel;
import org.springframework.ai.embedding.EmbeddingModel;
import org.springframework.ai.model.openai.autoconfigure.OpenAiChatAutoConfiguration;
import org.springframework.ai.model.openai.autoconfigure.OpenAiEmbeddingAutoConfiguration;
import org.springframework.ai.model.tool.autoconfigure.ToolCallingAutoConfiguration;
import org.springframework.ai.openai.OpenAiChatModel;
import org.springframework.ai.openai.OpenAiChatOptions;
import org.springframework.ai.openai.OpenAiEmbeddingModel;
import org.springframework.ai.openai.OpenAiEmbeddingOptions;
import org.springframework.beans.factory.annotation.Qualifier;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/** The bean definitions docs/integrations/spring-boot.md gives, against Spring AI 2.0.1's real classes. */
class SpringAiOwnBeansTest {

  final List<TokenUsage> usage = new CopyOnWriteArrayList<>();

  final ApplicationContextRunner runner = new ApplicationContextRunner()
      .withConfiguration(AutoConfigurations.of(LlmPoolAutoConfiguration.class, LlmPoolSpringAiAutoConfiguration.class,
          ToolCallingAutoConfiguration.class, OpenAiChatAutoConfiguration.class, OpenAiEmbeddingAutoConfiguration.class))
      .withBean(LlmPoolCustomizer.class, () -> (name, b) -> b.onUsage(usage::add));

  /** An embedding model through a pool of its own (providers without {@code model}). */
  @Configuration(proxyBeanMethods = false)
  static class EmbeddingThroughAPool {
    @Bean(destroyMethod = "close", defaultCandidate = false)
    OpenAIClient embeddingClient(@Qualifier("embed") ProviderPool pool) {
      return LlmPoolOpenAI.client(pool);
    }

    @Bean
    OpenAiEmbeddingModel openAiEmbeddingModel(@Qualifier("embeddingClient") OpenAIClient client) {
      return OpenAiEmbeddingModel.builder().openAiClient(client)
          .options(OpenAiEmbeddingOptions.builder().model("text-embedding-3-small").build()).build();
    }
  }

  /** The chat model wired by hand (what the auto-configuration does). */
  @Configuration(proxyBeanMethods = false)
  static class ChatModelByHand {
    @Bean
    OpenAiChatModel openAiChatModel(ProviderPool pool) {
      OpenAIClient client = LlmPoolOpenAI.client(pool);   // base URL, placeholder key, retries off
      return OpenAiChatModel.builder()
          .openAiClient(client)
          .openAiClientAsync(client.async())              // streaming runs on the async client
          .options(OpenAiChatOptions.builder().model("gpt-4o-mini").build())
          .build();
    }
  }

  @Test
  void anEmbeddingModelThroughItsOwnPool() throws Exception {
    try (FakeLlmServer chat = OpenAiFakes.openAi("c"); FakeLlmServer embed = OpenAiFakes.openAi("e")) {
      // After the key check (requireApiKey): the recorded embeddings at /v1/embeddings only.
      embed.answerWith(r -> r.path().equals("/v1/embeddings")
          ? WireFixtures.response("embeddings.json").build() : WireFixtures.response("openai-404-unknown-url.http").build());
      runner.withUserConfiguration(EmbeddingThroughAPool.class).withPropertyValues(
              "llmpool.primary=chat",
              "llmpool.pools.chat.providers[0].name=c", "llmpool.pools.chat.providers[0].base-url=" + chat.baseUrl(),
              "llmpool.pools.chat.providers[0].api-key=" + chat.apiKey(),
              "llmpool.pools.chat.providers[0].model=gpt-4o-mini",
              "llmpool.pools.embed.providers[0].name=e", "llmpool.pools.embed.providers[0].base-url=" + embed.baseUrl(),
              "llmpool.pools.embed.providers[0].api-key=" + embed.apiKey())
          .run(context -> {
            assertThat(context).hasNotFailed();
            assertThat(context.getBeansOfType(EmbeddingModel.class)).containsOnlyKeys("openAiEmbeddingModel");
            float[] vector = context.getBean(EmbeddingModel.class).embed("hello");
            assertThat(vector).containsExactly(0.0023064255f, -0.009327292f, -0.0028842222f);
            assertThat(embed.lastRequest().json().path("model").asText()).isEqualTo("text-embedding-3-small");
            assertThat(context.getBean(ChatModel.class).call("hi")).isEqualTo("agentgateway works");
            assertThat(chat.requestCount()).isEqualTo(1);
            assertThat(embed.requestCount()).isEqualTo(1);
            assertThat(usage).extracting(TokenUsage::provider).containsExactlyInAnyOrder("e", "c");
            assertThat(usage).filteredOn(u -> u.provider().equals("e")).extracting(TokenUsage::totalTokens)
                .containsExactly(8L);
          });
    }
  }

  @Test
  void theChatModelWiredByHand() throws Exception {
    try (FakeLlmServer a = OpenAiFakes.openAi("a")) {
      runner.withUserConfiguration(ChatModelByHand.class).withPropertyValues(
              "llmpool.pools.main.providers[0].name=a", "llmpool.pools.main.providers[0].base-url=" + a.baseUrl(),
              "llmpool.pools.main.providers[0].api-key=" + a.apiKey(), "spring.ai.model.embedding=none")
          .run(context -> {
            assertThat(context).hasNotFailed().doesNotHaveBean("llmpoolOpenAiClient");
            assertThat(context.getBean(ChatModel.class).call("hi")).isEqualTo("agentgateway works");
            assertThat(a.lastRequest().json().path("model").asText()).isEqualTo("gpt-4o-mini");
            assertThat(a.lastRequest().headers().get("Authorization")).isEqualTo("Bearer " + a.apiKey());
            assertThat(usage).hasSize(1);
          });
    }
  }
}
