package io.github.llmpool.spring.web;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.llmpool.Provider;
import io.github.llmpool.ProviderPool;
import io.github.llmpool.testing.FakeLlmServer;
import io.github.llmpool.testing.Fault;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.ai.chat.model.ChatResponse;
import org.springframework.ai.chat.prompt.Prompt;
import org.springframework.ai.model.openai.autoconfigure.OpenAiChatAutoConfiguration;
import org.springframework.ai.model.tool.autoconfigure.ToolCallingAutoConfiguration;
import org.springframework.ai.openai.OpenAiChatModel;
import org.springframework.ai.openai.OpenAiChatOptions;
import org.springframework.ai.retry.TransientAiException;
import org.springframework.ai.retry.autoconfigure.SpringAiRetryAutoConfiguration;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.autoconfigure.http.HttpMessageConvertersAutoConfiguration;
import org.springframework.boot.autoconfigure.http.codec.CodecsAutoConfiguration;
import org.springframework.boot.autoconfigure.web.client.RestClientAutoConfiguration;
import org.springframework.boot.autoconfigure.web.reactive.function.client.WebClientAutoConfiguration;
import org.springframework.boot.http.client.ClientHttpRequestFactoryBuilder;
import org.springframework.boot.http.client.ClientHttpRequestFactorySettings;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.boot.web.client.RestClientCustomizer;
import org.springframework.boot.web.reactive.function.client.WebClientCustomizer;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.web.client.RestClient;
import org.springframework.web.reactive.function.client.WebClient;

/**
 * Spring Boot 3.5.7 with Spring AI 1.1.2's own auto-configuration: the documented customizer
 * beans (docs/integrations/spring-ai.md) put every Boot-built {@code RestClient} and
 * {@code WebClient} on the pool, and properties point Spring AI at the pool's root URL with
 * Spring AI's retries off ({@code spring.ai.retry.max-attempts=1}).
 */
class SpringBoot3CustomizerTest {

  /** The user's configuration, as in the docs. */
  @Configuration(proxyBeanMethods = false)
  static class LlmPoolWebConfig {
    @Bean
    RestClientCustomizer llmpoolRestClient(ProviderPool pool) {
      LlmPoolClientHttpRequestFactory factory = LlmPoolSpring.requestFactory(pool);
      return builder -> builder.requestFactory(factory);
    }

    @Bean
    WebClientCustomizer llmpoolWebClient(ProviderPool pool) {
      LlmPoolClientHttpConnector connector = LlmPoolSpring.connector(pool);
      return builder -> builder.clientConnector(connector);
    }
  }

  private FakeLlmServer a;
  private FakeLlmServer b;
  private ProviderPool pool;
  private ApplicationContextRunner runner;

  @BeforeEach
  void setUp() {
    a = OpenAiFakes.openAi("a");
    b = OpenAiFakes.openAi("b");
    pool = ProviderPool.builder().tier(OpenAiFakes.provider(a)).tier(OpenAiFakes.provider(b)).build();
    runner = new ApplicationContextRunner()
        .withConfiguration(AutoConfigurations.of(HttpMessageConvertersAutoConfiguration.class,
            CodecsAutoConfiguration.class, RestClientAutoConfiguration.class, WebClientAutoConfiguration.class,
            SpringAiRetryAutoConfiguration.class, ToolCallingAutoConfiguration.class, OpenAiChatAutoConfiguration.class))
        .withBean(ProviderPool.class, () -> pool)
        .withUserConfiguration(LlmPoolWebConfig.class)
        .withPropertyValues(
            "spring.ai.openai.base-url=" + LlmPoolSpring.baseUrl(pool),
            "spring.ai.openai.api-key=" + LlmPoolSpring.PLACEHOLDER_API_KEY,
            "spring.ai.openai.chat.options.model=gpt-4o-mini",
            "spring.ai.retry.max-attempts=1");
  }

  @AfterEach
  void tearDown() {
    a.close();
    b.close();
  }

  @Test
  void springAisAutoConfiguredChatModelCallsAndStreamsThroughThePool() {
    a.failAlways(Fault.rateLimited());
    runner.run(context -> {
      OpenAiChatModel model = context.getBean(OpenAiChatModel.class);

      ChatResponse response = model.call(new Prompt("Say hello"));
      assertEquals("agentgateway works", response.getResult().getOutput().getText());
      assertEquals(1, a.requestCount(), "a answered 429 once");
      assertEquals(1, b.requestCount(), "the pool failed over to b; Spring AI saw one success");
      assertEquals("Bearer key-b", b.lastRequest().headers().get("Authorization"));
      assertEquals("/v1/chat/completions", b.lastRequest().path());

      OpenAiFakes.streamAnswer(b);
      List<ChatResponse> chunks = model.stream(new Prompt("Say hello",
              OpenAiChatOptions.builder().streamUsage(true).build()))
          .collectList().block(Duration.ofSeconds(30));
      assertEquals(21, chunks.get(chunks.size() - 1).getMetadata().getUsage().getTotalTokens());
      assertTrue(b.lastRequest().json().path("stream").asBoolean(), "streamed through the WebClient connector");
    });
  }

  @Test
  void bootsClientHttpRequestFactoryBuilderSetsTheTimeoutsByReflection() {
    // Boot's generic builder for an unknown factory type calls setConnectTimeout/setReadTimeout(Duration).
    LlmPoolClientHttpRequestFactory factory = ClientHttpRequestFactoryBuilder.of(() -> LlmPoolSpring.requestFactory(pool))
        .build(ClientHttpRequestFactorySettings.defaults().withConnectTimeout(Duration.ofMillis(1234))
            .withReadTimeout(Duration.ofMillis(2345)));
    assertEquals(1234, factory.okHttpClient().connectTimeoutMillis());
    assertEquals(2345, factory.okHttpClient().readTimeoutMillis());
    assertEquals(LlmPoolSpring.DEFAULT_READ_TIMEOUT.toMillis(), LlmPoolSpring.requestFactory(pool).okHttpClient().readTimeoutMillis());
    assertEquals(ProviderPool.DEFAULT_MAX_CONCURRENT_CALLS, factory.okHttpClient().dispatcher().getMaxRequestsPerHost(),
        "the derived client keeps the pool's dispatcher");
  }

  @Test
  void withMaxAttemptsOneSpringAiDoesNotRetryWhatThePoolGaveUpOn() {
    a.failAlways(Fault.fixture("openai-503.http"));
    b.failAlways(Fault.fixture("openai-503.http"));
    runner.run(context -> {
      OpenAiChatModel model = context.getBean(OpenAiChatModel.class);
      assertThrows(TransientAiException.class, () -> model.call(new Prompt("Say hello")));
      assertEquals(2, a.requestCount() + b.requestCount(), "the pool's two attempts, no Spring AI retry");
    });
  }

  @Test
  void bootBuiltClientsUseTheFactoryAndConnectorAndOtherHostsPassThroughUntouched() {
    try (FakeLlmServer other = OpenAiFakes.openAi("other")) {
      runner.run(context -> {
        RestClient rest = context.getBean(RestClient.Builder.class).build();
        WebClient web = context.getBean(WebClient.Builder.class).build();

        String viaPool = rest.post().uri(pool.baseUrl().resolve("chat/completions"))
            .header("Content-Type", "application/json").body("{\"model\":\"x\",\"messages\":[]}")
            .retrieve().body(String.class);
        assertTrue(viaPool.contains("agentgateway works"));
        String viaPoolReactive = web.post().uri(pool.baseUrl().resolve("chat/completions"))
            .header("Content-Type", "application/json").bodyValue("{\"model\":\"x\",\"messages\":[]}")
            .retrieve().bodyToMono(String.class).block(Duration.ofSeconds(10));
        assertTrue(viaPoolReactive.contains("agentgateway works"));
        assertEquals(2, a.requestCount());

        // A host that is not the pool's: sent as it is (no provider key added), straight to that host.
        Exception e = assertThrows(Exception.class, () -> rest.get().uri(other.baseUrl() + "/models")
            .retrieve().body(String.class));
        assertInstanceOf(org.springframework.web.client.HttpClientErrorException.Unauthorized.class, e);
        assertEquals(1, other.requestCount());
        assertEquals(null, other.lastRequest().headers().get("Authorization"));
        assertEquals(2, a.requestCount() + b.requestCount());
      });
    }
  }
}
