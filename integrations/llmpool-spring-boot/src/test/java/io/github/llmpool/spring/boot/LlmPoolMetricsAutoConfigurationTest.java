package io.github.llmpool.spring.boot;

import static org.assertj.core.api.Assertions.assertThat;

import io.github.llmpool.ProviderPool;
import io.github.llmpool.micrometer.LlmPoolMetrics;
import io.github.llmpool.spring.boot.actuate.LlmPoolEndpoint;
import io.github.llmpool.spring.boot.actuate.LlmPoolEndpointAutoConfiguration;
import io.github.llmpool.spring.boot.metrics.LlmPoolMetricsAutoConfiguration;
import io.github.llmpool.testing.FakeLlmServer;
import io.github.llmpool.testing.Fault;
import io.github.llmpool.testing.WireFixtures;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tag;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.config.MeterFilter;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import okhttp3.MediaType;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import okhttp3.RequestBody;
import okhttp3.Response;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.springframework.boot.actuate.autoconfigure.endpoint.EndpointAutoConfiguration;
import org.springframework.boot.actuate.endpoint.web.WebEndpointResponse;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.micrometer.metrics.autoconfigure.CompositeMeterRegistryAutoConfiguration;
import org.springframework.boot.micrometer.metrics.autoconfigure.MetricsAutoConfiguration;
import org.springframework.boot.micrometer.metrics.autoconfigure.export.prometheus.PrometheusMetricsExportAutoConfiguration;
import org.springframework.boot.micrometer.metrics.autoconfigure.export.prometheus.PrometheusOutputFormat;
import org.springframework.boot.micrometer.metrics.autoconfigure.export.prometheus.PrometheusScrapeEndpoint;
import org.springframework.boot.micrometer.metrics.autoconfigure.export.simple.SimpleMetricsExportAutoConfiguration;
import org.springframework.boot.test.context.FilteredClassLoader;
import org.springframework.boot.test.context.assertj.AssertableApplicationContext;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;

/**
 * The metrics auto-configuration with Spring Boot 4.0.7's own metrics auto-configuration: real calls
 * through the pools' client beans to {@link FakeLlmServer}s on loopback, then the meters read back
 * from the context's {@code MeterRegistry}.
 */
@ExtendWith(OutputCaptureExtension.class)
class LlmPoolMetricsAutoConfigurationTest {
  static final MediaType JSON = MediaType.get("application/json");

  /** Boot's metrics auto-configuration (a SimpleMeterRegistry) and llmpool's, as an application with Actuator has them. */
  final ApplicationContextRunner runner = new ApplicationContextRunner()
      .withConfiguration(AutoConfigurations.of(MetricsAutoConfiguration.class, CompositeMeterRegistryAutoConfiguration.class,
          SimpleMetricsExportAutoConfiguration.class, LlmPoolAutoConfiguration.class, LlmPoolMetricsAutoConfiguration.class));

  static String[] pool(String pool, FakeLlmServer... servers) {
    String[] props = new String[servers.length * 4];
    for (int i = 0; i < servers.length; i++) {
      String p = "llmpool.pools." + pool + ".tiers[" + i + "].providers[0].";
      props[i * 4] = p + "name=" + servers[i].name();
      props[i * 4 + 1] = p + "base-url=" + servers[i].baseUrl();
      props[i * 4 + 2] = p + "api-key=" + servers[i].apiKey();
      props[i * 4 + 3] = p + "model=gpt-4o-mini";
    }
    return props;
  }

  /** One chat call through the pool's OkHttpClient bean; returns the status (the body is read: usage is counted then). */
  static int call(AssertableApplicationContext context, String pool) throws Exception {
    ProviderPool p = context.getBean(pool + "ProviderPool", ProviderPool.class);
    OkHttpClient http = context.getBean(pool + "OkHttpClient", OkHttpClient.class);
    try (Response r = http.newCall(new Request.Builder().url(p.baseUrl().resolve("chat/completions").toString())
        .post(RequestBody.create("{\"model\":\"gpt-4o\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}", JSON))
        .build()).execute()) {
      r.body().string();
      return r.code();
    }
  }

  static Set<String> llmpoolMeterNames(MeterRegistry registry) {
    return registry.getMeters().stream().map(m -> m.getId().getName())
        .filter(n -> n.startsWith("llmpool.") || n.startsWith("gen_ai.")).collect(Collectors.toSet());
  }

  static Map<String, String> tags(Meter meter) {
    return meter.getId().getTags().stream().collect(Collectors.toMap(Tag::getKey, Tag::getValue));
  }

  @Test
  void everyPoolIsBoundToBootsRegistryWithItsFiltersAndCommonTags(CapturedOutput output) throws Exception {
    try (FakeLlmServer a = FakeLlmServer.start("a"); FakeLlmServer b = FakeLlmServer.start("b")) {
      a.failNext(1, Fault.rateLimited());
      b.answerWith(r -> WireFixtures.response("openai-200-ratelimit.http").build()); // x-ratelimit-remaining-*: 499 / 199384
      runner.withPropertyValues(pool("chat", a, b))
          .withConfiguration(AutoConfigurations.of(EndpointAutoConfiguration.class, LlmPoolEndpointAutoConfiguration.class))
          .withPropertyValues("management.metrics.tags.application=demo", "management.endpoints.web.exposure.include=llmpool")
          .withBean("dropServerAddress", MeterFilter.class, () -> MeterFilter.ignoreTags("server.address"))
          .run(context -> {
            assertThat(context).hasNotFailed().hasSingleBean(LlmPoolBinder.class);
            // A 429 from tier 0, served by tier 1: one logical request.
            assertThat(call(context, "chat")).isEqualTo(200);
            MeterRegistry registry = context.getBean(MeterRegistry.class);

            Timer duration = registry.get("gen_ai.client.operation.duration").timer();
            assertThat(duration.count()).isEqualTo(1);
            assertThat(tags(duration)).containsEntry("gen_ai.operation.name", "chat")
                .containsEntry("gen_ai.provider.name", "openai").containsEntry("gen_ai.request.model", "gpt-4o-mini")
                .containsEntry("gen_ai.response.model", "gpt-4o-mini-2024-07-18").containsEntry("error.type", "none")
                .containsEntry("server.port", String.valueOf(b.port()))
                .containsEntry("application", "demo") // management.metrics.tags.*
                .doesNotContainKey("server.address"); // the application's MeterFilter bean
            assertThat(registry.get("gen_ai.client.token.usage").tag("gen_ai.token.type", "input").summary().totalAmount())
                .isEqualTo(12); // the fixture's usage
            assertThat(registry.get("gen_ai.client.token.usage").tag("gen_ai.token.type", "output").summary().totalAmount())
                .isEqualTo(2);
            assertThat(registry.get("llmpool.attempts").tags("provider", "a", "outcome", "rate_limited").counter().count())
                .isEqualTo(1);
            assertThat(registry.get("llmpool.attempts").tags("provider", "b", "outcome", "success").counter().count())
                .isEqualTo(1);
            assertThat(registry.get("llmpool.failovers").tags("provider", "b", "scope", "other_tier").counter().count())
                .isEqualTo(1);
            assertThat(registry.get("llmpool.provider.state").tags("provider", "a", "state", "evicted").gauge().value())
                .isEqualTo(1);
            assertThat(registry.get("llmpool.provider.state").tags("provider", "b", "state", "available").gauge().value())
                .isEqualTo(1);
            // The llmpool endpoint: the snapshot plus what only the metrics know.
            Map<String, Object> view = context.getBean(LlmPoolEndpoint.class).pool("chat");
            assertThat(view).containsEntry("failovers", Map.of("other_tier", 1L, "same_tier", 0L))
                .containsEntry("retries", Map.of("rate_limited", 1L)).containsEntry("retryBudgetRefusals", 0L)
                .doesNotContainKey("exhausted");
            @SuppressWarnings("unchecked")
            Map<String, Map<String, Object>> providers = (Map<String, Map<String, Object>>) view.get("providers");
            assertThat(providers.get("a")).containsEntry("status", "EVICTED").containsKey("evictedFor")
                .containsEntry("remainingRequests", 0L).containsEntry("remainingTokens", 18350L)
                .containsEntry("evictions", Map.of("rate_limited", 1L));
            assertThat(providers.get("b")).containsEntry("status", "AVAILABLE").containsEntry("remainingRequests", 499L)
                .containsEntry("remainingTokens", 199384L).doesNotContainKey("evictions")
                .containsEntry("tokens", Map.of("input", 12L, "output", 2L, "cached", 0L, "reasoning", 0L));
            for (Meter m : registry.getMeters()) {
              String name = m.getId().getName();
              if (name.startsWith("llmpool.") || name.startsWith("gen_ai.")) {
                assertThat(tags(m)).as(m.getId().toString()).containsEntry("application", "demo")
                    .doesNotContainKey("server.address");
              }
              if (name.startsWith("llmpool.")) { // the router's meters say which pool (the GenAI ones have the conventions' attributes)
                assertThat(tags(m)).as(m.getId().toString()).containsEntry("pool", "chat");
              }
            }
          });
      // The pools are built while singletons are instantiated, after every BeanPostProcessor: no early initialisation.
      assertThat(output).doesNotContain("not eligible for getting processed by all BeanPostProcessors")
          .doesNotContain(a.apiKey()).doesNotContain(b.apiKey());
    }
  }

  /** The control of the check above: a BeanPostProcessor that needs a pool does make Spring log the warning. */
  @Test
  void theEarlyInitialisationCheckSeesAPoolBuiltTooEarly(CapturedOutput output) throws Exception {
    try (FakeLlmServer a = FakeLlmServer.start("a")) {
      runner.withPropertyValues(pool("chat", a)).withUserConfiguration(EarlyPoolUser.class)
          .run(context -> assertThat(context).hasNotFailed());
      assertThat(output).contains("not eligible for getting processed by all BeanPostProcessors");
    }
  }

  @org.springframework.context.annotation.Configuration(proxyBeanMethods = false)
  static class EarlyPoolUser {
    @org.springframework.context.annotation.Bean
    static org.springframework.beans.factory.config.BeanPostProcessor earlyPoolUser(ProviderPool pool) {
      // A pool needed to create a BeanPostProcessor is built while the others are still being registered.
      return new org.springframework.beans.factory.config.BeanPostProcessor() { };
    }

    @org.springframework.context.annotation.Bean
    static org.springframework.beans.factory.config.BeanPostProcessor another() {
      return new org.springframework.beans.factory.config.BeanPostProcessor() { };
    }
  }

  @Test
  void inferenceNamingPerPoolOperationAndProviderNamesAndTheAuditLog(CapturedOutput output) throws Exception {
    try (FakeLlmServer a = FakeLlmServer.start("a").usage(3, 4); FakeLlmServer e = FakeLlmServer.start("e").usage(8, 0)) {
      runner.withPropertyValues(pool("chat", a)).withPropertyValues(pool("embed", e))
          .withPropertyValues("llmpool.metrics.naming=inference", "llmpool.metrics.audit-log=true",
              "llmpool.metrics.pools.embed.operation=embeddings", "llmpool.metrics.pools.chat.gen-ai-providers.a=ollama")
          .run(context -> {
            assertThat(context).hasNotFailed();
            assertThat(call(context, "chat")).isEqualTo(200);
            assertThat(call(context, "embed")).isEqualTo(200);
            MeterRegistry registry = context.getBean(MeterRegistry.class);
            assertThat(registry.find("gen_ai.client.operation.duration").meters()).isEmpty();
            assertThat(registry.find("gen_ai.client.token.usage").meters()).isEmpty();
            Timer chat = registry.get("gen_ai.client.inference.duration").tag("gen_ai.operation.name", "chat").timer();
            assertThat(chat.count()).isEqualTo(1);
            assertThat(tags(chat)).containsEntry("gen_ai.provider.name", "ollama").containsEntry("gen_ai.operation.name", "chat");
            Timer embed = registry.get("gen_ai.client.inference.duration").tag("gen_ai.operation.name", "embeddings").timer();
            assertThat(tags(embed)).containsEntry("gen_ai.provider.name", "openai")
                .containsEntry("gen_ai.operation.name", "embeddings");
            assertThat(embed.count()).isEqualTo(1);
            assertThat(registry.get("gen_ai.client.inference.usage.input_tokens").tag("gen_ai.provider.name", "ollama")
                .counter().count()).isEqualTo(3);
            assertThat(registry.get("llmpool.requests").tag("pool", "embed").counter().count()).isEqualTo(1);
          });
      assertThat(output).contains("pool=chat model=\"gpt-4o\" served=\"gpt-4o-mini\" outcome=success status=200")
          .contains("pool=embed ").doesNotContain(a.apiKey());
    }
  }

  @Test
  void switchedOffGloballyOrPerPool() throws Exception {
    try (FakeLlmServer a = FakeLlmServer.start("a"); FakeLlmServer b = FakeLlmServer.start("b")) {
      runner.withPropertyValues(pool("chat", a)).withPropertyValues(pool("batch", b))
          .withPropertyValues("llmpool.metrics.enabled=false").run(context -> {
            assertThat(context).hasNotFailed().doesNotHaveBean(LlmPoolBinder.class);
            assertThat(call(context, "chat")).isEqualTo(200);
            assertThat(llmpoolMeterNames(context.getBean(MeterRegistry.class))).isEmpty();
          });
      runner.withPropertyValues(pool("chat", a)).withPropertyValues(pool("batch", b))
          .withPropertyValues("llmpool.metrics.pools.batch.enabled=false").run(context -> {
            assertThat(context).hasNotFailed();
            assertThat(call(context, "chat")).isEqualTo(200);
            assertThat(call(context, "batch")).isEqualTo(200);
            MeterRegistry registry = context.getBean(MeterRegistry.class);
            assertThat(registry.get("llmpool.requests").tag("pool", "chat").counter().count()).isEqualTo(1);
            assertThat(registry.find("llmpool.requests").tag("pool", "batch").meters()).isEmpty();
            assertThat(registry.getMeters()).noneMatch(m -> "batch".equals(m.getId().getTag("pool")));
          });
      // Boot's own switch for a meter-name prefix works too: the meters are denied, the pool still bound.
      runner.withPropertyValues(pool("chat", a)).withPropertyValues("management.metrics.enable.llmpool=false")
          .run(context -> {
            assertThat(call(context, "chat")).isEqualTo(200);
            MeterRegistry registry = context.getBean(MeterRegistry.class);
            assertThat(registry.find("llmpool.requests").meters()).isEmpty();
            assertThat(registry.get("gen_ai.client.operation.duration").timer().count()).isEqualTo(1);
          });
    }
  }

  @Test
  void withoutMicrometerOrARegistryTheContextStartsUnbound() throws Exception {
    try (FakeLlmServer a = FakeLlmServer.start("a")) {
      // Micrometer not on the class path at all.
      runner.withClassLoader(new FilteredClassLoader("io.micrometer.core", "io.github.llmpool.micrometer"))
          .withPropertyValues(pool("chat", a)).run(context -> {
            assertThat(context).hasNotFailed().hasSingleBean(ProviderPool.class).doesNotHaveBean(LlmPoolBinder.class)
                .doesNotHaveBean("io.micrometer.core.instrument.MeterRegistry");
            assertThat(call(context, "chat")).isEqualTo(200);
          });
      // Micrometer and a registry, but no llmpool-micrometer.
      runner.withClassLoader(new FilteredClassLoader(LlmPoolMetrics.class)).withPropertyValues(pool("chat", a)).run(context -> {
        assertThat(context).hasNotFailed().doesNotHaveBean(LlmPoolBinder.class);
        assertThat(call(context, "chat")).isEqualTo(200);
        assertThat(llmpoolMeterNames(context.getBean(MeterRegistry.class))).isEmpty();
      });
      // llmpool-micrometer but no MeterRegistry bean (no metrics auto-configuration).
      new ApplicationContextRunner().withConfiguration(AutoConfigurations.of(LlmPoolAutoConfiguration.class,
              LlmPoolMetricsAutoConfiguration.class))
          .withPropertyValues(pool("chat", a)).run(context -> {
            assertThat(context).hasNotFailed().doesNotHaveBean(LlmPoolBinder.class).doesNotHaveBean(MeterRegistry.class);
            assertThat(call(context, "chat")).isEqualTo(200);
          });
    }
  }

  @Test
  void badMetricsSettingsFailStartUpNamingTheProperty() {
    runner.withPropertyValues("llmpool.pools.chat.providers[0].name=a",
            "llmpool.pools.chat.providers[0].base-url=http://127.0.0.1:1/v1", "llmpool.metrics.pools.chta.operation=chat")
        .run(context -> assertThat(context).hasFailed().getFailure().rootCause().hasMessage(
            "llmpool.metrics.pools.chta: there is no pool 'chta' under llmpool.pools (the pools are [chat])"));
    runner.withPropertyValues("llmpool.pools.chat.providers[0].name=a",
            "llmpool.pools.chat.providers[0].base-url=http://127.0.0.1:1/v1", "llmpool.metrics.pools.chat.operation= ")
        .run(context -> assertThat(context).hasFailed().getFailure().rootCause().hasMessage(
            "llmpool.metrics.pools.chat.operation: operation must not be blank but was ''"));
    runner.withPropertyValues("llmpool.pools.chat.providers[0].name=a",
            "llmpool.pools.chat.providers[0].base-url=http://127.0.0.1:1/v1", "llmpool.metrics.naming=newest")
        .run(context -> assertThat(context).hasFailed().getFailure().rootCause().hasMessageContaining("newest"));
  }

  @Test
  void actuatorsPrometheusEndpointScrapesThePoolsMeters() throws Exception {
    try (FakeLlmServer a = FakeLlmServer.start("a").usage(23, 57)) {
      new ApplicationContextRunner()
          .withConfiguration(AutoConfigurations.of(MetricsAutoConfiguration.class, CompositeMeterRegistryAutoConfiguration.class,
              PrometheusMetricsExportAutoConfiguration.class, EndpointAutoConfiguration.class, LlmPoolAutoConfiguration.class,
              LlmPoolMetricsAutoConfiguration.class, LlmPoolEndpointAutoConfiguration.class))
          .withPropertyValues("management.endpoints.web.exposure.include=prometheus,llmpool")
          .withPropertyValues(pool("chat", a)).run(context -> {
            assertThat(context).hasNotFailed().hasSingleBean(PrometheusScrapeEndpoint.class);
            assertThat(call(context, "chat")).isEqualTo(200);
            WebEndpointResponse<byte[]> scrape = context.getBean(PrometheusScrapeEndpoint.class)
                .scrape(PrometheusOutputFormat.CONTENT_TYPE_004, null);
            String text = new String(scrape.getBody(), StandardCharsets.UTF_8);
            String port = String.valueOf(a.port());
            assertThat(text).contains("# TYPE gen_ai_client_operation_duration_seconds histogram")
                .contains("gen_ai_client_operation_duration_seconds_bucket{error_type=\"none\",gen_ai_operation_name=\"chat\","
                    + "gen_ai_provider_name=\"openai\",gen_ai_request_model=\"gpt-4o-mini\",gen_ai_response_model=\"gpt-4o-mini\","
                    + "server_address=\"127.0.0.1\",server_port=\"" + port + "\",le=\"81.92\"} 1")
                .contains("gen_ai_client_token_usage_sum{gen_ai_operation_name=\"chat\",gen_ai_provider_name=\"openai\","
                    + "gen_ai_request_model=\"gpt-4o-mini\",gen_ai_response_model=\"gpt-4o-mini\",gen_ai_token_type=\"output\","
                    + "server_address=\"127.0.0.1\",server_port=\"" + port + "\"} 57.0")
                .contains("llmpool_attempts_total{outcome=\"success\",pool=\"chat\",provider=\"a\",tier=\"0\"} 1.0")
                .contains("llmpool_provider_state{pool=\"chat\",provider=\"a\",state=\"available\"} 1.0")
                .doesNotContain(a.apiKey());
            // The llmpool endpoint next to it: the same call in the snapshot, tokens by kind.
            @SuppressWarnings("unchecked")
            Map<String, Map<String, Object>> providers =
                (Map<String, Map<String, Object>>) context.getBean(LlmPoolEndpoint.class).pool("chat").get("providers");
            assertThat(providers.get("a")).containsEntry("requests", 1L).containsEntry("totalTokens", 80L)
                .containsEntry("tokens", Map.of("input", 23L, "output", 57L, "cached", 0L, "reasoning", 0L));
          });
    }
  }

}
