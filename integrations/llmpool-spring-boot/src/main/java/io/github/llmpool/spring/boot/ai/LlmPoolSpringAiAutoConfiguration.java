package io.github.llmpool.spring.boot.ai;

import com.openai.client.OpenAIClient;
import io.github.llmpool.ProviderPool;
import io.github.llmpool.openai.LlmPoolOpenAI;
import io.github.llmpool.spring.boot.LlmPoolAutoConfiguration;
import io.micrometer.observation.ObservationRegistry;
import org.springframework.ai.chat.observation.ChatModelObservationConvention;
import org.springframework.ai.model.openai.autoconfigure.OpenAiChatProperties;
import org.springframework.ai.model.tool.ToolCallingManager;
import org.springframework.ai.openai.OpenAiChatModel;
import org.springframework.beans.factory.BeanFactory;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.beans.factory.annotation.Qualifier;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBooleanProperty;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.context.annotation.Bean;
import org.springframework.core.env.Environment;

/**
 * Spring AI 2's OpenAI chat model through a pool. When Spring AI's OpenAI auto-configuration
 * ({@code spring-ai-starter-model-openai}) and {@code llmpool-openai-java} are on the class path,
 * this defines, before Spring AI's own {@code OpenAiChatAutoConfiguration} (whose chat model then
 * backs off):
 * <ul>
 *   <li>{@code llmpoolOpenAiClient}: {@link LlmPoolOpenAI#client(ProviderPool)} over the pool
 *       named by {@code llmpool.spring-ai.pool} (default: the only, or primary, pool). Base URL
 *       {@code pool.baseUrl()}, a placeholder key (the pool signs each request with the chosen
 *       provider's key), SDK retries off (the pool fails over), OkHttp 5 with the pool's
 *       interceptor, redirect guard and 64 concurrent calls.</li>
 *   <li>an {@link OpenAiChatModel} on that client (sync and streaming), with Spring AI's
 *       {@code spring.ai.openai.chat.*} options, tool calling manager and observation registry.</li>
 * </ul>
 * {@code ChatClient.Builder} and the rest of Spring AI then use it as usual. Off with
 * {@code llmpool.spring-ai.enabled=false}; a {@code OpenAiChatModel} bean of your own replaces it;
 * it respects {@code spring.ai.model.chat} as Spring AI's does.
 */
@AutoConfiguration(after = LlmPoolAutoConfiguration.class,
    beforeName = "org.springframework.ai.model.openai.autoconfigure.OpenAiChatAutoConfiguration")
@ConditionalOnClass(value = {OpenAiChatModel.class, OpenAiChatProperties.class, LlmPoolOpenAI.class, OpenAIClient.class},
    // Spring AI 2.x only (its OpenAI model is built on openai-java); 1.x has an OpenAiChatModel of another kind.
    name = "org.springframework.ai.openai.setup.OpenAiSetup")
@ConditionalOnBean(ProviderPool.class)
@ConditionalOnBooleanProperty(name = "llmpool.spring-ai.enabled", matchIfMissing = true)
@ConditionalOnProperty(name = "spring.ai.model.chat", havingValue = "openai", matchIfMissing = true)
@EnableConfigurationProperties(OpenAiChatProperties.class)
public class LlmPoolSpringAiAutoConfiguration {

  /** Created by Spring Boot's auto-configuration. */
  public LlmPoolSpringAiAutoConfiguration() {
  }

  /**
   * The SDK client over the pool; closed with the context. Not defined when an
   * {@link OpenAiChatModel} of your own is (nothing would use it). Not a default autowire candidate
   * ({@code @Bean(defaultCandidate = false)}): an {@code OpenAIClient} of your own stays the one
   * plain injection points get; inject this one with {@code @Qualifier("llmpoolOpenAiClient")}.
   *
   * @param beanFactory to look the pool up
   * @param environment for {@code llmpool.spring-ai.pool}
   * @return {@code LlmPoolOpenAI.client(pool)}
   */
  @Bean(destroyMethod = "close", defaultCandidate = false)
  @ConditionalOnMissingBean(value = OpenAiChatModel.class, name = "llmpoolOpenAiClient")
  public OpenAIClient llmpoolOpenAiClient(BeanFactory beanFactory, Environment environment) {
    return LlmPoolOpenAI.client(pool(beanFactory, environment));
  }

  /**
   * Spring AI's OpenAI chat model on the pooled client.
   *
   * @param llmpoolOpenAiClient the pooled SDK client
   * @param chatProperties Spring AI's {@code spring.ai.openai.chat.*}
   * @param toolCallingManager Spring AI's tool calling manager, if defined
   * @param observationRegistry the observation registry, if defined
   * @param observationConvention a chat model observation convention, if defined
   * @return the chat model
   */
  @Bean
  @ConditionalOnMissingBean
  @SuppressWarnings("removal") // toolCallingManager: what Spring AI 2.0's own auto-configuration still passes
  public OpenAiChatModel openAiChatModel(@Qualifier("llmpoolOpenAiClient") OpenAIClient llmpoolOpenAiClient,
      OpenAiChatProperties chatProperties,
      ObjectProvider<ToolCallingManager> toolCallingManager, ObjectProvider<ObservationRegistry> observationRegistry,
      ObjectProvider<ChatModelObservationConvention> observationConvention) {
    OpenAiChatModel.Builder b = OpenAiChatModel.builder()
        .openAiClient(llmpoolOpenAiClient)
        .openAiClientAsync(llmpoolOpenAiClient.async())
        .options(chatProperties.toOptions())
        .observationRegistry(observationRegistry.getIfUnique(() -> ObservationRegistry.NOOP));
    toolCallingManager.ifAvailable(b::toolCallingManager);
    OpenAiChatModel model = b.build();
    observationConvention.ifAvailable(model::setObservationConvention);
    return model;
  }

  static ProviderPool pool(BeanFactory beanFactory, Environment environment) {
    String name = environment.getProperty("llmpool.spring-ai.pool");
    if (name != null) {
      return beanFactory.getBean(LlmPoolAutoConfiguration.poolBeanName(name), ProviderPool.class);
    }
    ProviderPool pool = beanFactory.getBeanProvider(ProviderPool.class).getIfUnique();
    if (pool == null) {
      throw new IllegalStateException("llmpool.spring-ai.pool is not set and there are several ProviderPool beans "
          + "and none is primary: set llmpool.spring-ai.pool (or llmpool.primary) to the pool Spring AI should use");
    }
    return pool;
  }
}
