package io.github.llmpool.spring.boot.actuate;

import io.github.llmpool.ProviderPool;
import io.github.llmpool.spring.boot.LlmPoolAutoConfiguration;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.actuate.autoconfigure.endpoint.condition.ConditionalOnAvailableEndpoint;
import org.springframework.boot.actuate.endpoint.annotation.Endpoint;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.context.annotation.Bean;

/**
 * The {@link LlmPoolEndpoint} ({@code llmpool}) over every {@link ProviderPool} bean, when Spring
 * Boot Actuator is on the class path and the endpoint is available (enabled and exposed, as
 * Actuator decides for any endpoint). Replace it with a {@link LlmPoolEndpoint} bean of your own.
 */
@AutoConfiguration(after = LlmPoolAutoConfiguration.class)
@ConditionalOnClass({Endpoint.class, ConditionalOnAvailableEndpoint.class})
@ConditionalOnBean(ProviderPool.class)
@ConditionalOnAvailableEndpoint(LlmPoolEndpoint.class)
public class LlmPoolEndpointAutoConfiguration {

  /** Created by Spring Boot's auto-configuration. */
  public LlmPoolEndpointAutoConfiguration() {
  }

  /**
   * The endpoint.
   *
   * @param pools every {@link ProviderPool} bean
   * @param details every {@link LlmPoolEndpointDetails} bean (the metrics auto-configuration's)
   * @return the endpoint
   */
  @Bean
  @ConditionalOnMissingBean
  public LlmPoolEndpoint llmpoolEndpoint(ObjectProvider<ProviderPool> pools, ObjectProvider<LlmPoolEndpointDetails> details) {
    return new LlmPoolEndpoint(pools.orderedStream().toList(), details.orderedStream().toList());
  }
}
