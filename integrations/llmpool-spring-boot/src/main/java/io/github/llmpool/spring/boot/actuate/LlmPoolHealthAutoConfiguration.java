package io.github.llmpool.spring.boot.actuate;

import io.github.llmpool.ProviderPool;
import io.github.llmpool.spring.boot.LlmPoolAutoConfiguration;
import java.util.LinkedHashMap;
import java.util.Map;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.health.autoconfigure.contributor.ConditionalOnEnabledHealthIndicator;
import org.springframework.boot.health.contributor.CompositeHealthContributor;
import org.springframework.boot.health.contributor.HealthContributor;
import org.springframework.boot.health.contributor.HealthIndicator;
import org.springframework.context.annotation.Bean;

/**
 * Actuator health for every {@link ProviderPool} bean (from properties or your own): one
 * contributor {@code llmpool} with one {@link ProviderPoolHealthIndicator} per pool, named by
 * {@code pool.name()}, so {@code /actuator/health/llmpool/<name>} shows one pool. Needs Spring
 * Boot 4's {@code spring-boot-health} (the Actuator starter brings it); off with
 * {@code management.health.llmpool.enabled=false}. Replace it with a bean named
 * {@code llmpoolHealthContributor}.
 */
@AutoConfiguration(after = LlmPoolAutoConfiguration.class)
@ConditionalOnClass({HealthIndicator.class, ConditionalOnEnabledHealthIndicator.class})
@ConditionalOnBean(ProviderPool.class)
@ConditionalOnEnabledHealthIndicator("llmpool")
public class LlmPoolHealthAutoConfiguration {

  /** Created by Spring Boot's auto-configuration. */
  public LlmPoolHealthAutoConfiguration() {
  }

  /**
   * The {@code llmpool} health contributor: one indicator per pool.
   *
   * @param pools every {@link ProviderPool} bean
   * @return a composite keyed by pool name
   */
  @Bean
  @ConditionalOnMissingBean(name = "llmpoolHealthContributor")
  public CompositeHealthContributor llmpoolHealthContributor(ObjectProvider<ProviderPool> pools) {
    Map<String, HealthContributor> byName = new LinkedHashMap<>();
    pools.orderedStream().forEach(p -> byName.put(p.name(), new ProviderPoolHealthIndicator(p)));
    return CompositeHealthContributor.fromMap(byName);
  }
}
