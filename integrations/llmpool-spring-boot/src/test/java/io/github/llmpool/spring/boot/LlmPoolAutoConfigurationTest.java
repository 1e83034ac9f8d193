package io.github.llmpool.spring.boot;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.github.llmpool.Affinity;
import io.github.llmpool.AllEvictedPolicy;
import io.github.llmpool.Provider;
import io.github.llmpool.ProviderPool;
import io.github.llmpool.Strategy;
import io.github.llmpool.TokenUsage;
import io.github.llmpool.testing.FakeLlmServer;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import okhttp3.MediaType;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import okhttp3.RequestBody;
import okhttp3.Response;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.springframework.beans.factory.NoUniqueBeanDefinitionException;
import org.springframework.beans.factory.annotation.Qualifier;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/** Binding, validation, beans, back-off and the OkHttpClient bean, with ApplicationContextRunner. */
@ExtendWith(OutputCaptureExtension.class)
class LlmPoolAutoConfigurationTest {
  static final String KEY = "sk-test-secret-4f1c9a7e";

  final ApplicationContextRunner runner = new ApplicationContextRunner()
      .withConfiguration(AutoConfigurations.of(LlmPoolAutoConfiguration.class));

  static String[] onePool(String... extra) {
    List<String> p = new java.util.ArrayList<>(List.of(
        "llmpool.pools.main.providers[0].name=a",
        "llmpool.pools.main.providers[0].base-url=https://a.example/v1",
        "llmpool.pools.main.providers[0].api-key=" + KEY));
    p.addAll(List.of(extra));
    return p.toArray(String[]::new);
  }

  @Test
  void bindsTheConfigFileShapeOntoTheBuilders() {
    runner.withPropertyValues(
        "OPENAI_KEY_FROM_ENV=" + KEY,
        "llmpool.pools.chat.strategy=weighted",
        "llmpool.pools.chat.when-all-evicted=fail-fast",
        "llmpool.pools.chat.virtual-host=chat.invalid",
        "llmpool.pools.chat.eviction.base-duration=2s",
        "llmpool.pools.chat.eviction.max-duration=1m",
        "llmpool.pools.chat.eviction.failure-threshold=3",
        "llmpool.pools.chat.retry.max-attempts=2",
        "llmpool.pools.chat.retry.budget-window=PT20S",
        "llmpool.pools.chat.affinity.key=header:X-Session-Id",
        "llmpool.pools.chat.affinity.max-size=500",
        "llmpool.pools.chat.tiers[0].providers[0].name=mini",
        "llmpool.pools.chat.tiers[0].providers[0].base-url=https://api.openai.com/v1",
        "llmpool.pools.chat.tiers[0].providers[0].api-key=${OPENAI_KEY_FROM_ENV}",
        "llmpool.pools.chat.tiers[0].providers[0].model=gpt-4o-mini",
        "llmpool.pools.chat.tiers[0].providers[0].weight=80",
        "llmpool.pools.chat.tiers[0].providers[0].concurrency=16",
        "llmpool.pools.chat.tiers[0].providers[0].requests-per-minute=500",
        "llmpool.pools.chat.tiers[0].providers[0].tokens-per-minute=3000000000",
        "llmpool.pools.chat.tiers[0].providers[0].quota-group=openai-org",
        "llmpool.pools.chat.quota.routing=false",
        "llmpool.pools.chat.quota.max-wait=2s",
        "llmpool.pools.chat.p2c.latency-decay=30s",
        "llmpool.pools.chat.p2c.exploration=0.01",
        "llmpool.pools.chat.p2c.probes=true",
        "llmpool.pools.chat.tiers[0].providers[0].price.currency=USD",
        "llmpool.pools.chat.tiers[0].providers[0].price.input=0.15",
        "llmpool.pools.chat.tiers[0].providers[0].price.cached-input=0.075",
        "llmpool.pools.chat.tiers[0].providers[0].price.output=0.60",
        "llmpool.pools.chat.tiers[0].providers[0].price.tiers[0].above=200000",
        "llmpool.pools.chat.tiers[0].providers[0].price.tiers[0].input=0.30",
        "llmpool.pools.chat.tiers[0].providers[0].price.tiers[0].output=1.20",
        "llmpool.pools.chat.tiers[0].providers[1].name=big",
        "llmpool.pools.chat.tiers[0].providers[1].baseUrl=https://api.openai.com/v1", // camelCase: the file's key
        "llmpool.pools.chat.tiers[0].providers[1].weight=20",
        "llmpool.pools.chat.tiers[0].providers[1].headers.OpenAI-Organization=org-1",
        "llmpool.pools.chat.tiers[1].providers[0].name=local",
        "llmpool.pools.chat.tiers[1].providers[0].base-url=http://localhost:8090/v1",
        "llmpool.pools.chat.tiers[1].providers[0].include-usage=false")
        .run(context -> {
          assertThat(context).hasNotFailed();
          ProviderPool pool = context.getBean("chatProviderPool", ProviderPool.class);
          assertThat(pool.name()).isEqualTo("chat");
          assertThat(pool.strategy()).isEqualTo(Strategy.WEIGHTED);
          assertThat(pool.whenAllEvicted()).isEqualTo(AllEvictedPolicy.FAIL_FAST);
          assertThat(pool.quotaRouting()).isFalse();
          assertThat(pool.quotaWait()).isEqualTo(Duration.ofSeconds(2));
          assertThat(pool.p2c()).isEqualTo(io.github.llmpool.P2cSettings.builder()
              .latencyDecay(Duration.ofSeconds(30)).exploration(0.01).probes(true).build());
          assertThat(pool.tiers().get(0).get(0).quotaGroup()).contains("openai-org");
          assertThat(pool.baseUrl().toString()).isEqualTo("http://chat.invalid/v1/");
          assertThat(pool.eviction().baseDuration()).isEqualTo(Duration.ofSeconds(2));
          assertThat(pool.eviction().maxDuration()).isEqualTo(Duration.ofMinutes(1));
          assertThat(pool.eviction().failureThreshold()).isEqualTo(3);
          assertThat(pool.retry().maxAttempts()).isEqualTo(2);
          assertThat(pool.retry().budgetWindow()).isEqualTo(Duration.ofSeconds(20));
          Affinity affinity = pool.affinity().orElseThrow();
          assertThat(affinity.headerName()).contains("X-Session-Id");
          assertThat(affinity.maxSize()).isEqualTo(500);
          assertThat(pool.tiers()).hasSize(2);
          Provider mini = pool.tiers().get(0).get(0);
          assertThat(mini.name()).isEqualTo("mini");
          assertThat(mini.baseUrl().toString()).isEqualTo("https://api.openai.com/v1");
          assertThat(mini.hasApiKey()).isTrue();
          assertThat(mini.model()).contains("gpt-4o-mini");
          assertThat(mini.weight()).isEqualTo(80);
          assertThat(mini.concurrency()).isEqualTo(16);
          assertThat(mini.price()).contains(io.github.llmpool.Price.builder("USD").input("0.15").cachedInput("0.075")
              .output("0.60").above(200_000, io.github.llmpool.Price.builder("USD").input("0.30").output("1.20").build())
              .build());
          assertThat(pool.tiers().get(0).get(1).price()).isEmpty();
          assertThat(mini.requestsPerMinute()).hasValue(500);
          assertThat(mini.tokensPerMinute()).hasValue(3_000_000_000L);
          Provider big = pool.tiers().get(0).get(1);
          assertThat(big.weight()).isEqualTo(20);
          assertThat(big.hasApiKey()).isFalse();
          assertThat(big.headers()).containsKey("OpenAI-Organization");
          Provider local = pool.tiers().get(1).get(0);
          assertThat(local.includeUsage()).isFalse();
          assertThat(pool.toString()).doesNotContain(KEY);
        });
  }

  @Test
  void onePoolIsPrimaryAndQualifiedByItsName() {
    runner.withPropertyValues(onePool()).withUserConfiguration(QualifiedUser.class).run(context -> {
      assertThat(context).hasNotFailed();
      ProviderPool pool = context.getBean(ProviderPool.class);
      assertThat(context.getBean("mainProviderPool")).isSameAs(pool);
      assertThat(context.getBean(OkHttpClient.class)).isSameAs(context.getBean("mainOkHttpClient"));
      QualifiedUser user = context.getBean("user", QualifiedUser.class);
      assertThat(user.pool).isSameAs(pool);
      assertThat(user.http).isSameAs(context.getBean(OkHttpClient.class));
    });
  }

  @Test
  void severalPoolsAreNotPrimaryUnlessLlmpoolPrimaryNamesOne() {
    String[] two = {
        "llmpool.pools.a.providers[0].name=pa", "llmpool.pools.a.providers[0].base-url=http://127.0.0.1:1/v1",
        "llmpool.pools.b.providers[0].name=pb", "llmpool.pools.b.providers[0].base-url=http://127.0.0.1:2/v1"};
    runner.withPropertyValues(two).run(context -> {
      assertThat(context).hasNotFailed();
      assertThat(context.getBeansOfType(ProviderPool.class)).containsOnlyKeys("aProviderPool", "bProviderPool");
      assertThat(context.getBeansOfType(OkHttpClient.class)).containsOnlyKeys("aOkHttpClient", "bOkHttpClient");
      assertThatThrownBy(() -> context.getBean(ProviderPool.class)).isInstanceOf(NoUniqueBeanDefinitionException.class);
    });
    runner.withPropertyValues(two).withPropertyValues("llmpool.primary=b").run(context -> {
      assertThat(context.getBean(ProviderPool.class).name()).isEqualTo("b");
      assertThat(context.getBean(OkHttpClient.class)).isSameAs(context.getBean("bOkHttpClient"));
    });
    runner.withPropertyValues(two).withPropertyValues("llmpool.primary=c").run(context ->
        assertThat(rootCause(context.getStartupFailure()))
            .hasMessage("llmpool.primary names pool 'c' but the pools are [a, b]"));
  }

  @Test
  void aBadValueFailsStartUpWithTheBuildersMessageBehindThePropertyName() {
    runner.withPropertyValues(onePool("llmpool.pools.main.providers[0].weight=-1")).run(context ->
        assertThat(context).getFailure().rootCause().isInstanceOf(IllegalArgumentException.class)
            .hasMessage("llmpool.pools.main.providers[0].weight: weight must be >= 0 but was -1 (provider 'a')"));
    runner.withPropertyValues(onePool("llmpool.pools.main.eviction.jitter=1.5")).run(context ->
        assertThat(context).getFailure().rootCause()
            .hasMessageStartingWith("llmpool.pools.main.eviction.jitter: jitter").hasMessageContaining("1.5"));
    runner.withPropertyValues(onePool("llmpool.pools.main.p2c.exploration=0.5")).run(context ->
        assertThat(context).getFailure().rootCause()
            .hasMessage("llmpool.pools.main.p2c.exploration: exploration must be in [0, 0.05] but was 0.5"));
    runner.withPropertyValues(onePool("llmpool.pools.main.providers[0].base-url=ftp://a.example/v1")).run(context ->
        assertThat(context).getFailure().rootCause().hasMessage("llmpool.pools.main.providers[0]: "
            + "baseUrl of provider 'a' must be http or https but was 'ftp://a.example/v1'"));
    runner.withPropertyValues("llmpool.pools.main.providers[0].base-url=https://a.example/v1").run(context ->
        assertThat(context).getFailure().rootCause().hasMessage("llmpool.pools.main.providers[0].name is required"));
    runner.withPropertyValues(onePool("llmpool.pools.main.affinity.key=cookie")).run(context ->
        assertThat(context).getFailure().rootCause().hasMessage("llmpool.pools.main.affinity.key must be \"user\", "
            + "\"prompt_cache_key\" or \"header:<name>\" but was 'cookie'"));
    runner.withPropertyValues(onePool("llmpool.pools.main.http.max-concurrent-calls=0")).run(context ->
        assertThat(context).getFailure().rootCause()
            .hasMessage("llmpool.pools.main.http.max-concurrent-calls must be >= 1 but was 0"));
    // A type error is Spring's own binding error, naming the property and the value.
    runner.withPropertyValues(onePool("llmpool.pools.main.strategy=fastest")).run(context ->
        assertThat(context).getFailure().hasStackTraceContaining("llmpool.pools.main.strategy")
            .hasStackTraceContaining("fastest"));
  }

  @Test
  void aKeyProblemNamesTheSettingButNeverTheKey(CapturedOutput output) {
    // The key would cross the network in clear text: refused, the message names the URL, not the key.
    runner.withPropertyValues(onePool("llmpool.pools.main.providers[0].base-url=http://a.example/v1")).run(context -> {
      assertThat(context).getFailure().rootCause().hasMessageStartingWith("llmpool.pools.main.providers[0]: "
          + "baseUrl of provider 'a' is plain http to a non-loopback host (a.example)");
      assertThat(context).getFailure().hasStackTraceContaining("allowPlaintextKey");
      java.io.StringWriter trace = new java.io.StringWriter();
      context.getStartupFailure().printStackTrace(new java.io.PrintWriter(trace));
      assertThat(trace.toString()).doesNotContain(KEY);
    });
    runner.withPropertyValues(onePool("llmpool.pools.main.providers[0].api-key=sk-\u0007bell-in-key-secret")).run(context -> {
      assertThat(context).getFailure().rootCause().hasMessageStartingWith("llmpool.pools.main.providers[0].api-key: "
          + "apiKey of provider 'a' contains a character not allowed");
      java.io.StringWriter trace = new java.io.StringWriter();
      context.getStartupFailure().printStackTrace(new java.io.PrintWriter(trace));
      assertThat(trace.toString()).doesNotContain("bell-in-key-secret");
    });
    assertThat(output.getAll()).doesNotContain(KEY).doesNotContain("bell-in-key-secret");
  }

  @Test
  void propertiesShowNoKeyAndAreNoBean() {
    runner.withPropertyValues(onePool("llmpool.pools.main.providers[0].headers.X-Secret=header-value-secret"))
        .run(context -> {
          assertThat(context).hasNotFailed();
          assertThat(context.getBeansOfType(LlmPoolProperties.class)).isEmpty();
          LlmPoolProperties props = org.springframework.boot.context.properties.bind.Binder.get(context.getEnvironment())
              .bind("llmpool", LlmPoolProperties.class).get();
          assertThat(props.pools().get("main").providers().get(0).apiKey()).isEqualTo(KEY);
          assertThat(props.toString()).contains("apiKey=(set)").contains("X-Secret")
              .doesNotContain(KEY).doesNotContain("header-value-secret");
        });
  }

  @Test
  void userBeansOfTheSameNameWin() {
    runner.withPropertyValues(onePool()).withUserConfiguration(OwnBeans.class).run(context -> {
      assertThat(context).hasNotFailed();
      assertThat(context.getBean("mainProviderPool", ProviderPool.class).tiers().get(0).get(0).name()).isEqualTo("own");
      assertThat(context.getBean("mainOkHttpClient")).isSameAs(OwnBeans.CLIENT);
      assertThat(context.getBeansOfType(ProviderPool.class)).hasSize(1);
    });
  }

  @Test
  void noPropertiesNoBeansAndOffSwitch() {
    runner.run(context -> {
      assertThat(context).hasNotFailed();
      assertThat(context).doesNotHaveBean(ProviderPool.class).doesNotHaveBean(OkHttpClient.class);
    });
    runner.withPropertyValues(onePool("llmpool.enabled=false")).run(context ->
        assertThat(context).hasNotFailed().doesNotHaveBean(ProviderPool.class));
  }

  @Test
  void theClientBeanCarriesThePoolAndIsShutDownWithTheContext() {
    OkHttpClient[] seen = new OkHttpClient[1];
    runner.withPropertyValues(onePool("llmpool.pools.main.http.read-timeout=3m", "llmpool.pools.main.http.connect-timeout=2s"))
        .withBean(LlmPoolHttpClientCustomizer.class, () -> (name, b) -> b.writeTimeout(Duration.ofSeconds(7)))
        .run(context -> {
          ProviderPool pool = context.getBean(ProviderPool.class);
          OkHttpClient http = context.getBean(OkHttpClient.class);
          seen[0] = http;
          assertThat(http.interceptors()).contains(pool.interceptor());
          assertThat(http.networkInterceptors()).contains(pool.redirectGuard());
          assertThat(http.dispatcher().getMaxRequestsPerHost()).isEqualTo(ProviderPool.DEFAULT_MAX_CONCURRENT_CALLS);
          assertThat(http.readTimeoutMillis()).isEqualTo(180_000);
          assertThat(http.connectTimeoutMillis()).isEqualTo(2_000);
          assertThat(http.writeTimeoutMillis()).isEqualTo(7_000);
          assertThat(http.dispatcher().executorService().isShutdown()).isFalse();
        });
    assertThat(seen[0].dispatcher().executorService().isShutdown()).isTrue();
    runner.withPropertyValues(onePool("llmpool.pools.main.http.max-concurrent-calls=128")).run(context -> {
      OkHttpClient http = context.getBean(OkHttpClient.class);
      assertThat(http.dispatcher().getMaxRequests()).isEqualTo(128);
      assertThat(http.dispatcher().getMaxRequestsPerHost()).isEqualTo(128);
    });
  }

  @Test
  void aCallThroughTheClientBeanReachesTheProviderWithItsKeyAndUsageReachesACustomizer() throws Exception {
    List<TokenUsage> usage = new CopyOnWriteArrayList<>();
    try (FakeLlmServer a = OpenAiFakes.openAi("a")) {
      runner.withPropertyValues(
              "llmpool.pools.main.providers[0].name=a",
              "llmpool.pools.main.providers[0].base-url=" + a.baseUrl(),
              "llmpool.pools.main.providers[0].api-key=" + a.apiKey(),
              "llmpool.pools.main.providers[0].model=gpt-4o-mini")
          .withBean(LlmPoolCustomizer.class, () -> (name, b) -> b.onUsage(usage::add))
          .run(context -> {
            ProviderPool pool = context.getBean(ProviderPool.class);
            OkHttpClient http = context.getBean(OkHttpClient.class);
            Request request = new Request.Builder().url(pool.baseUrl().resolve("chat/completions").toString())
                .post(RequestBody.create("{\"model\":\"any\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}",
                    MediaType.get("application/json")))
                .build();
            try (Response response = http.newCall(request).execute()) {
              assertThat(response.code()).isEqualTo(200);
              assertThat(response.body().string()).contains("agentgateway works");
            }
            assertThat(a.requestCount()).isEqualTo(1);
            assertThat(a.lastRequest().headers().get("Authorization")).isEqualTo("Bearer " + a.apiKey());
            assertThat(a.lastRequest().json().path("model").asText()).isEqualTo("gpt-4o-mini");
            assertThat(usage).hasSize(1);
            assertThat(usage.get(0).provider()).isEqualTo("a");
            assertThat(usage.get(0).totalTokens()).isEqualTo(80);
          });
    }
  }

  @Test
  void configurationMetadataAndRegistrationAreInTheJar() throws Exception {
    ClassLoader cl = LlmPoolAutoConfigurationTest.class.getClassLoader();
    String metadata;
    try (var in = cl.getResourceAsStream("META-INF/spring-configuration-metadata.json")) {
      metadata = new String(in.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
    }
    assertThat(metadata).contains("\"llmpool.pools\"", "\"llmpool.primary\"", "\"llmpool.spring-ai.pool\"",
        "\"llmpool.spring-ai.enabled\"", "\"llmpool.enabled\"", "\"management.health.llmpool.enabled\"",
        "\"llmpool.metrics.enabled\"", "\"llmpool.metrics.naming\"", "\"llmpool.metrics.audit-log\"", "\"llmpool.metrics.pools\"");
    String imports;
    try (var in = cl.getResourceAsStream(
        "META-INF/spring/org.springframework.boot.autoconfigure.AutoConfiguration.imports")) {
      imports = new String(in.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
    }
    assertThat(imports.lines().toList()).containsExactly(
        LlmPoolAutoConfiguration.class.getName(),
        io.github.llmpool.spring.boot.actuate.LlmPoolHealthAutoConfiguration.class.getName(),
        io.github.llmpool.spring.boot.actuate.LlmPoolEndpointAutoConfiguration.class.getName(),
        io.github.llmpool.spring.boot.ai.LlmPoolSpringAiAutoConfiguration.class.getName(),
        io.github.llmpool.spring.boot.metrics.LlmPoolMetricsAutoConfiguration.class.getName(),
        io.github.llmpool.spring.boot.redis.LlmPoolRedisAutoConfiguration.class.getName());
  }

  static Throwable rootCause(Throwable t) {
    while (t.getCause() != null) {
      t = t.getCause();
    }
    return t;
  }

  @Configuration(proxyBeanMethods = false)
  static class QualifiedUser {
    ProviderPool pool;
    OkHttpClient http;

    @Bean
    QualifiedUser user(@Qualifier("main") ProviderPool pool, @Qualifier("main") OkHttpClient http) {
      QualifiedUser u = new QualifiedUser();
      u.pool = pool;
      u.http = http;
      return u;
    }
  }

  @Configuration(proxyBeanMethods = false)
  static class OwnBeans {
    static final OkHttpClient CLIENT = new OkHttpClient();

    @Bean
    ProviderPool mainProviderPool() {
      return ProviderPool.builder().tier(Provider.builder("own").baseUrl("http://127.0.0.1:9/v1").build()).build();
    }

    @Bean
    OkHttpClient mainOkHttpClient() {
      return CLIENT;
    }
  }
}
