package io.github.llmpool.spring.boot.boot3;

import static org.assertj.core.api.Assertions.assertThat;

import io.github.llmpool.ProviderPool;
import io.github.llmpool.ProviderSnapshot;
import io.github.llmpool.spring.boot.LlmPoolAutoConfiguration;
import io.github.llmpool.spring.boot.actuate.LlmPoolEndpoint;
import java.net.InetAddress;
import mockwebserver3.MockResponse;
import mockwebserver3.MockWebServer;
import mockwebserver3.RecordedRequest;
import okhttp3.MediaType;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import okhttp3.RequestBody;
import okhttp3.Response;
import org.junit.jupiter.api.Test;
import org.springframework.boot.SpringBootVersion;
import org.springframework.boot.actuate.health.Health;
import org.springframework.boot.actuate.health.HealthIndicator;
import org.springframework.boot.actuate.health.Status;
import org.springframework.boot.WebApplicationType;
import org.springframework.boot.autoconfigure.EnableAutoConfiguration;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.core.SpringVersion;

/**
 * llmpool-spring-boot (compiled against Boot 4.0.7) on Spring Boot 3.5.7 / Spring Framework 6.2:
 * the pool and client beans, binding and validation work; the health indicator (Boot 4's
 * {@code org.springframework.boot.health} API) is skipped, and the ten-line Boot 3 indicator the
 * documentation gives works; the {@code llmpool} endpoint works.
 */
class Boot35Test {

  @Configuration(proxyBeanMethods = false)
  @EnableAutoConfiguration
  static class App {
    /** The ten lines docs/integrations/spring-boot.md gives for a health indicator on Boot 3.5. */
    @Bean
    HealthIndicator llmpoolHealthIndicator(ProviderPool pool) {
      return () -> pool.snapshot().providers().stream()
          .anyMatch(p -> p.status() == ProviderSnapshot.Status.AVAILABLE) ? Health.up().build() : Health.down().build();
    }
  }

  @Test
  void runsOnBoot35() {
    assertThat(SpringBootVersion.getVersion()).isEqualTo("3.5.7");
    assertThat(SpringVersion.getVersion()).startsWith("6.2.");
  }

  @Test
  void wholeApplicationPoolClientAndEndpointWorkHealthIsSkipped() throws Exception {
    try (MockWebServer server = new MockWebServer()) {
      server.start(InetAddress.getLoopbackAddress(), 0);
      server.enqueue(new MockResponse.Builder().code(200).addHeader("content-type", "application/json")
          .body("{\"id\":\"x\",\"object\":\"chat.completion\",\"choices\":[],"
              + "\"usage\":{\"prompt_tokens\":1,\"completion_tokens\":2,\"total_tokens\":3}}").build());
      try (ConfigurableApplicationContext context = new SpringApplicationBuilder(App.class)
          .web(WebApplicationType.NONE)
          .properties(
              "llmpool.pools.main.strategy=weighted",
              "llmpool.pools.main.providers[0].name=a",
              "llmpool.pools.main.providers[0].base-url=http://127.0.0.1:" + server.getPort() + "/v1",
              "llmpool.pools.main.providers[0].api-key=key-a",
              "management.endpoints.web.exposure.include=health,llmpool")
          .run()) {
        ProviderPool pool = context.getBean(ProviderPool.class);
        OkHttpClient http = context.getBean(OkHttpClient.class);
        try (Response r = http.newCall(new Request.Builder().url(pool.baseUrl().resolve("chat/completions").toString())
            .post(RequestBody.create("{\"model\":\"m\",\"messages\":[]}", MediaType.get("application/json"))).build())
            .execute()) {
          assertThat(r.code()).isEqualTo(200);
          r.body().string();
        }
        RecordedRequest recorded = server.takeRequest();
        assertThat(recorded.getHeaders().get("Authorization")).isEqualTo("Bearer key-a");
        assertThat(context.containsBean("llmpoolHealthContributor")).as("Boot 4 health API: skipped").isFalse();
        HealthIndicator own = context.getBean("llmpoolHealthIndicator", HealthIndicator.class);
        assertThat(own.health().getStatus()).isEqualTo(Status.UP);
        pool.drainAll();
        assertThat(own.health().getStatus()).isEqualTo(Status.DOWN);
        assertThat(context.getBean(LlmPoolEndpoint.class).pool("main")).containsEntry("strategy", "WEIGHTED");
      }
    }
  }

  @Test
  void validationMessagesAreTheSame() {
    new ApplicationContextRunner().withConfiguration(
            org.springframework.boot.autoconfigure.AutoConfigurations.of(LlmPoolAutoConfiguration.class))
        .withPropertyValues("llmpool.pools.main.providers[0].name=a",
            "llmpool.pools.main.providers[0].base-url=https://a.example/v1",
            "llmpool.pools.main.providers[0].weight=-1")
        .run(context -> assertThat(context).getFailure().rootCause()
            .hasMessage("llmpool.pools.main.providers[0].weight: weight must be >= 0 but was -1 (provider 'a')"));
  }
}
