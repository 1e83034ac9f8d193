package io.github.llmpool.spring.boot;

import static org.assertj.core.api.Assertions.assertThat;

import io.github.llmpool.ProviderPool;
import io.github.llmpool.spring.boot.actuate.LlmPoolEndpoint;
import io.github.llmpool.testing.FakeLlmServer;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import okhttp3.MediaType;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import okhttp3.RequestBody;
import okhttp3.Response;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.springframework.ai.chat.client.ChatClient;
import org.springframework.boot.WebApplicationType;
import org.springframework.boot.autoconfigure.EnableAutoConfiguration;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.boot.health.contributor.CompositeHealthContributor;
import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.context.annotation.Configuration;

/**
 * A whole Spring Boot application as a user gets it: every auto-configuration on this test class
 * path (llmpool's, Actuator's, all of Spring AI's OpenAI ones, REST and web clients), registered
 * through META-INF/spring/...AutoConfiguration.imports, properties as in application.properties,
 * the key from the environment. Logging at DEBUG for llmpool and Spring AI: no key in the output.
 */
@ExtendWith(OutputCaptureExtension.class)
class SpringBootApplicationTest {

  @Configuration(proxyBeanMethods = false)
  @EnableAutoConfiguration
  static class App {
  }

  @Test
  void applicationStartsAndCallsGoThroughThePool(CapturedOutput output) throws Exception {
    try (FakeLlmServer a = OpenAiFakes.openAi("a")) {
      try (ConfigurableApplicationContext context = new SpringApplicationBuilder(App.class)
          .web(WebApplicationType.NONE)
          .properties(
              "TEST_PROVIDER_KEY=" + a.apiKey(), // stands for an environment variable
              "llmpool.pools.main.providers[0].name=a",
              "llmpool.pools.main.providers[0].base-url=" + a.baseUrl(),
              "llmpool.pools.main.providers[0].api-key=${TEST_PROVIDER_KEY}",
              "llmpool.pools.main.providers[0].model=gpt-4o-mini",
              // Spring AI records gen_ai.client.token.usage itself (a counter): llmpool's histograms take the other names.
              "llmpool.metrics.naming=inference",
              // llmpool routes Spring AI's chat model; its other OpenAI models would need a key of their own.
              "spring.ai.model.embedding=none", "spring.ai.model.image=none", "spring.ai.model.audio.speech=none",
              "spring.ai.model.audio.transcription=none", "spring.ai.model.moderation=none",
              "logging.level.io.github.llmpool=DEBUG",
              "logging.level.org.springframework.ai=DEBUG",
              "logging.level.org.springframework.boot.autoconfigure=INFO")
          .run()) {
        ProviderPool pool = context.getBean(ProviderPool.class);
        OkHttpClient http = context.getBean(OkHttpClient.class);
        try (Response r = http.newCall(new Request.Builder().url(pool.baseUrl().resolve("chat/completions").toString())
            .post(RequestBody.create("{\"model\":\"m\",\"messages\":[]}", MediaType.get("application/json"))).build())
            .execute()) {
          assertThat(r.code()).isEqualTo(200);
          assertThat(r.body().string()).contains("agentgateway works");
        }
        String answer = context.getBean(ChatClient.Builder.class).build().prompt().user("hi").call().content();
        assertThat(answer).isEqualTo("agentgateway works");
        assertThat(a.requestCount()).isEqualTo(2);
        assertThat(a.requests()).allSatisfy(r ->
            assertThat(r.headers().get("Authorization")).isEqualTo("Bearer " + a.apiKey()));
        assertThat(context.getBean("llmpoolHealthContributor")).isInstanceOf(CompositeHealthContributor.class);
        assertThat(context.getBeansOfType(LlmPoolEndpoint.class)).as("not exposed: not created").isEmpty();
        // Boot's Prometheus registry (Actuator's metrics on this class path): the pool is bound to it. Spring AI's own
        // observation meters are there too; with naming=inference no name is registered twice.
        String scrape = ((PrometheusMeterRegistry) context.getBean(MeterRegistry.class)).scrape();
        assertThat(scrape).contains("llmpool_requests_total{model=\"gpt-4o-mini\",outcome=\"success\",pool=\"main\"} 2.0")
            .contains("gen_ai_client_inference_duration_seconds_count{")
            .contains("gen_ai_client_inference_operation_input_tokens_sum{")
            .contains("gen_ai_client_token_usage_total{") // Spring AI's counter, kept
            .doesNotContain(a.apiKey());
      }
      assertThat(output.getAll()).doesNotContain(a.apiKey()).doesNotContain("registration has failed");
    }
  }

  @Test
  void aBadValueIsReportedAsAFailureAnalysisWithoutTheKey(CapturedOutput output) {
    SpringApplicationBuilder app = new SpringApplicationBuilder(App.class)
        .web(WebApplicationType.NONE)
        .properties(
            "TEST_PROVIDER_KEY=sk-never-shown-7a1b",
            "llmpool.pools.main.providers[0].name=a",
            "llmpool.pools.main.providers[0].base-url=http://a.example/v1",
            "llmpool.pools.main.providers[0].api-key=${TEST_PROVIDER_KEY}",
            "llmpool.spring-ai.enabled=false", "spring.ai.openai.api-key=unused");
    org.assertj.core.api.Assertions.assertThatThrownBy(app::run).hasRootCauseInstanceOf(IllegalArgumentException.class);
    assertThat(output.getAll())
        .contains("APPLICATION FAILED TO START")
        .contains("Invalid llmpool configuration: llmpool.pools.main.providers[0]: baseUrl of provider 'a' is plain "
            + "http to a non-loopback host (a.example) and would send the API key in clear text")
        .doesNotContain("sk-never-shown-7a1b");
  }
}
