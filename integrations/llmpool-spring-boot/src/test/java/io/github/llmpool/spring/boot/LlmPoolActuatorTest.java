package io.github.llmpool.spring.boot;

import static org.assertj.core.api.Assertions.assertThat;

import io.github.llmpool.ProviderPool;
import io.github.llmpool.spring.boot.actuate.LlmPoolEndpoint;
import io.github.llmpool.spring.boot.actuate.LlmPoolEndpointAutoConfiguration;
import io.github.llmpool.spring.boot.actuate.LlmPoolHealthAutoConfiguration;
import io.github.llmpool.testing.FakeLlmServer;
import io.github.llmpool.testing.Fault;
import java.util.Map;
import okhttp3.MediaType;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import okhttp3.RequestBody;
import okhttp3.Response;
import org.junit.jupiter.api.Test;
import org.springframework.boot.actuate.autoconfigure.endpoint.EndpointAutoConfiguration;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.health.autoconfigure.contributor.HealthContributorAutoConfiguration;
import org.springframework.boot.health.contributor.CompositeHealthContributor;
import org.springframework.boot.health.contributor.Health;
import org.springframework.boot.health.contributor.HealthIndicator;
import org.springframework.boot.health.contributor.Status;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import tools.jackson.databind.json.JsonMapper;

/** The health contributor and the {@code llmpool} endpoint: states from the snapshot, no keys. */
class LlmPoolActuatorTest {
  static final JsonMapper JSON = JsonMapper.builder().build();

  final ApplicationContextRunner runner = new ApplicationContextRunner()
      .withConfiguration(AutoConfigurations.of(LlmPoolAutoConfiguration.class, HealthContributorAutoConfiguration.class,
          LlmPoolHealthAutoConfiguration.class, EndpointAutoConfiguration.class, LlmPoolEndpointAutoConfiguration.class))
      .withPropertyValues("management.endpoints.web.exposure.include=health,llmpool")
      // The pools' clock stands still: an eviction lasts until the test ends, however slow the machine.
      .withBean(LlmPoolCustomizer.class, () -> (name, builder) -> builder.ticker(() -> 0L));

  static String[] twoPools(FakeLlmServer a, FakeLlmServer b) {
    return new String[] {
        "llmpool.pools.chat.providers[0].name=a", "llmpool.pools.chat.providers[0].base-url=" + a.baseUrl(),
        "llmpool.pools.chat.providers[0].api-key=" + a.apiKey(),
        "llmpool.pools.chat.providers[0].headers.X-Tenant=tenant-header-secret",
        "llmpool.pools.chat.providers[1].name=b", "llmpool.pools.chat.providers[1].base-url=" + b.baseUrl(),
        "llmpool.pools.chat.providers[1].api-key=" + b.apiKey(),
        "llmpool.pools.batch.providers[0].name=c", "llmpool.pools.batch.providers[0].base-url=" + b.baseUrl(),
        "llmpool.pools.batch.providers[0].api-key=" + b.apiKey(),
        "llmpool.primary=chat"};
  }

  static Health health(CompositeHealthContributor llmpool, String pool) {
    return ((HealthIndicator) llmpool.getContributor(pool)).health();
  }

  @Test
  void healthIsUpPerPoolWhileAProviderIsAvailableDownWhenNoneIsOutOfServiceWhenAllDrained() throws Exception {
    try (FakeLlmServer a = OpenAiFakes.openAi("a"); FakeLlmServer b = OpenAiFakes.openAi("b")) {
      runner.withPropertyValues(twoPools(a, b)).run(context -> {
        assertThat(context).hasNotFailed();
        CompositeHealthContributor llmpool = context.getBean("llmpoolHealthContributor", CompositeHealthContributor.class);
        Health chat = health(llmpool, "chat");
        assertThat(chat.getStatus()).isEqualTo(Status.UP);
        assertThat(chat.getDetails()).containsEntry("strategy", "POWER_OF_TWO_CHOICES");
        assertThat(JSON.writeValueAsString(chat.getDetails().get("providers"))).isEqualTo(
            "{\"a\":{\"tier\":0,\"status\":\"AVAILABLE\"},\"b\":{\"tier\":0,\"status\":\"AVAILABLE\"}}");
        assertThat(health(llmpool, "batch").getStatus()).isEqualTo(Status.UP);

        // Both of the chat pool's providers answer 429 with Retry-After: both evicted, the pool is DOWN.
        a.failAlways(Fault.rateLimited());
        b.failAlways(Fault.rateLimited());
        ProviderPool pool = context.getBean("chatProviderPool", ProviderPool.class);
        OkHttpClient http = context.getBean("chatOkHttpClient", OkHttpClient.class);
        try (Response r = http.newCall(new Request.Builder().url(pool.baseUrl().resolve("chat/completions").toString())
            .post(RequestBody.create("{\"model\":\"m\",\"messages\":[]}", MediaType.get("application/json"))).build())
            .execute()) {
          assertThat(r.code()).isEqualTo(429);
        }
        Health down = health(llmpool, "chat");
        assertThat(down.getStatus()).isEqualTo(Status.DOWN);
        @SuppressWarnings("unchecked")
        Map<String, Map<String, Object>> providers = (Map<String, Map<String, Object>>) down.getDetails().get("providers");
        assertThat(providers.get("a")).containsEntry("status", "EVICTED").containsKey("evictedFor");
        assertThat(providers.get("b")).containsEntry("status", "EVICTED").containsKey("evictedFor");
        assertThat(health(llmpool, "batch").getStatus()).as("the other pool is not affected").isEqualTo(Status.UP);

        ProviderPool batch = context.getBean("batchProviderPool", ProviderPool.class);
        batch.drainAll();
        assertThat(health(llmpool, "batch").getStatus()).isEqualTo(Status.OUT_OF_SERVICE);
        batch.resumeAll();
        assertThat(health(llmpool, "batch").getStatus()).isEqualTo(Status.UP);

        String all = JSON.writeValueAsString(down) + JSON.writeValueAsString(health(llmpool, "batch"));
        assertThat(all).doesNotContain(a.apiKey()).doesNotContain(b.apiKey()).doesNotContain("tenant-header-secret")
            .doesNotContain("127.0.0.1");
      });
    }
  }

  @Test
  void endpointShowsEverySnapshotAndOnePoolBySelectorWithoutKeys() throws Exception {
    try (FakeLlmServer a = OpenAiFakes.openAi("a"); FakeLlmServer b = OpenAiFakes.openAi("b")) {
      runner.withPropertyValues(twoPools(a, b)).run(context -> {
        assertThat(context).hasNotFailed();
        ProviderPool pool = context.getBean(ProviderPool.class);
        OkHttpClient http = context.getBean(OkHttpClient.class);
        try (Response r = http.newCall(new Request.Builder().url(pool.baseUrl().resolve("chat/completions").toString())
            .post(RequestBody.create("{\"model\":\"m\",\"messages\":[]}", MediaType.get("application/json"))).build())
            .execute()) {
          assertThat(r.code()).isEqualTo(200);
          assertThat(r.body().string()).contains("agentgateway works"); // usage is counted as the body is read
        }
        LlmPoolEndpoint endpoint = context.getBean(LlmPoolEndpoint.class);
        Map<String, Object> all = endpoint.pools();
        @SuppressWarnings("unchecked")
        Map<String, Object> pools = (Map<String, Object>) all.get("pools");
        assertThat(pools).containsOnlyKeys("chat", "batch");
        Map<String, Object> chat = endpoint.pool("chat");
        assertThat(chat).containsEntry("name", "chat").containsEntry("strategy", "POWER_OF_TWO_CHOICES");
        @SuppressWarnings("unchecked")
        Map<String, Map<String, Object>> providers = (Map<String, Map<String, Object>>) chat.get("providers");
        assertThat(providers).containsOnlyKeys("a", "b");
        long requests = (long) providers.get("a").get("requests") + (long) providers.get("b").get("requests");
        long tokens = (long) providers.get("a").get("totalTokens") + (long) providers.get("b").get("totalTokens");
        assertThat(requests).isEqualTo(1);
        assertThat(tokens).isEqualTo(80);
        assertThat(endpoint.pool("nope")).isNull();
        String json = JSON.writeValueAsString(all);
        assertThat(json).contains("\"status\":\"AVAILABLE\"").doesNotContain(a.apiKey()).doesNotContain(b.apiKey())
            .doesNotContain("tenant-header-secret").doesNotContain("127.0.0.1");
      });
    }
  }

  @Test
  void healthCanBeSwitchedOffAndBothBackOffWithoutPools() {
    runner.run(context -> assertThat(context).hasNotFailed()
        .doesNotHaveBean("llmpoolHealthContributor").doesNotHaveBean(LlmPoolEndpoint.class));
    runner.withPropertyValues("management.health.llmpool.enabled=false",
            "llmpool.pools.x.providers[0].name=x", "llmpool.pools.x.providers[0].base-url=http://127.0.0.1:1/v1")
        .run(context -> assertThat(context).hasNotFailed().doesNotHaveBean("llmpoolHealthContributor")
            .hasSingleBean(LlmPoolEndpoint.class));
  }
}
