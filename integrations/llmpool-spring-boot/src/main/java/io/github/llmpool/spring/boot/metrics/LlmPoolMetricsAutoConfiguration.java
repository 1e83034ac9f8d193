package io.github.llmpool.spring.boot.metrics;

import io.github.llmpool.micrometer.LlmPoolMetrics;
import io.github.llmpool.spring.boot.LlmPoolAutoConfiguration;
import io.github.llmpool.spring.boot.LlmPoolBinder;
import io.github.llmpool.spring.boot.LlmPoolProperties;
import io.github.llmpool.spring.boot.actuate.LlmPoolEndpointDetails;
import io.micrometer.core.instrument.MeterRegistry;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBooleanProperty;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.boot.context.properties.bind.Bindable;
import org.springframework.boot.context.properties.bind.Binder;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.core.env.Environment;

/**
 * Binds every pool of {@code llmpool.pools.*} to the application's {@link MeterRegistry} with
 * {@code llmpool-micrometer}'s {@link LlmPoolMetrics}: the OpenTelemetry GenAI client metrics and
 * the router's {@code llmpool.*} metrics, tagged {@code pool=<name>}. Active when
 * {@code llmpool-micrometer} is on the class path and a {@code MeterRegistry} bean exists (Spring
 * Boot's metrics auto-configuration makes one with Actuator), unless
 * {@code llmpool.metrics.enabled=false}. Settings: {@link LlmPoolMetricsProperties}.
 *
 * <p>The registry is the one Boot has configured, so its {@code MeterFilter} beans,
 * {@code MeterRegistryCustomizer}s and {@code management.metrics.*} (common tags,
 * {@code management.metrics.enable.llmpool=false}, ...) apply to these meters as to any. A
 * {@code ProviderPool} bean you build yourself is not bound: bind it with
 * {@code LlmPoolMetrics.bind(builder, registry)}. A {@link LlmPoolBinder} bean of your own
 * replaces this binding.
 */
@AutoConfiguration(after = LlmPoolAutoConfiguration.class,
    afterName = {"org.springframework.boot.micrometer.metrics.autoconfigure.MetricsAutoConfiguration",
        "org.springframework.boot.micrometer.metrics.autoconfigure.CompositeMeterRegistryAutoConfiguration",
        "org.springframework.boot.micrometer.metrics.autoconfigure.export.simple.SimpleMetricsExportAutoConfiguration",
        // Boot 3.5's names of the same (untested there; unknown names are ignored by the ordering)
        "org.springframework.boot.actuate.autoconfigure.metrics.MetricsAutoConfiguration",
        "org.springframework.boot.actuate.autoconfigure.metrics.CompositeMeterRegistryAutoConfiguration",
        "org.springframework.boot.actuate.autoconfigure.metrics.export.simple.SimpleMetricsExportAutoConfiguration"})
@ConditionalOnClass({LlmPoolMetrics.class, MeterRegistry.class})
@ConditionalOnBean(MeterRegistry.class)
@ConditionalOnBooleanProperty(name = {"llmpool.enabled", "llmpool.metrics.enabled"}, matchIfMissing = true)
@EnableConfigurationProperties(LlmPoolMetricsProperties.class)
public class LlmPoolMetricsAutoConfiguration {

  /** Created by Spring Boot's auto-configuration. */
  public LlmPoolMetricsAutoConfiguration() {
  }

  /**
   * The binder the auto-configuration builds every pool with. Created when the first pool bean is,
   * so the registry it is given is fully configured.
   *
   * @param registry the application's registry (Boot's composite when there are several)
   * @param properties {@code llmpool.metrics.*}
   * @param environment to check that {@code llmpool.metrics.pools.<name>} names pools that exist
   * @return the binder
   */
  @Bean
  @ConditionalOnMissingBean(LlmPoolBinder.class)
  public LlmPoolBinder llmpoolMetricsBinder(MeterRegistry registry, LlmPoolMetricsProperties properties,
      Environment environment) {
    LlmPoolProperties pools = Binder.get(environment).bind("llmpool", Bindable.of(LlmPoolProperties.class))
        .orElseGet(() -> new LlmPoolProperties(null, null, null));
    return new MicrometerPoolBinder(registry, properties, pools.pools().keySet());
  }

  /**
   * What the {@code llmpool} Actuator endpoint shows of the metrics: retries, failovers, evictions
   * by cause, remaining requests and tokens. Only with Actuator's endpoint support.
   */
  @Configuration(proxyBeanMethods = false)
  @ConditionalOnClass(name = "org.springframework.boot.actuate.endpoint.annotation.Endpoint")
  static class EndpointDetailsConfiguration {

    @Bean
    @ConditionalOnMissingBean(name = "llmpoolMetricsEndpointDetails")
    LlmPoolEndpointDetails llmpoolMetricsEndpointDetails(MeterRegistry registry) {
      return new MeterEndpointDetails(registry);
    }
  }
}
