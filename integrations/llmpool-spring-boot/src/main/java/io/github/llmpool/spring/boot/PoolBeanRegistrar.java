package io.github.llmpool.spring.boot;

import io.github.llmpool.ProviderPool;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import okhttp3.OkHttpClient;
import org.springframework.beans.factory.BeanFactory;
import org.springframework.beans.factory.BeanFactoryAware;
import org.springframework.beans.factory.FactoryBean;
import org.springframework.beans.factory.ListableBeanFactory;
import org.springframework.beans.factory.annotation.Qualifier;
import org.springframework.beans.factory.support.AutowireCandidateQualifier;
import org.springframework.beans.factory.support.BeanDefinitionRegistry;
import org.springframework.beans.factory.support.RootBeanDefinition;
import org.springframework.boot.context.properties.bind.Bindable;
import org.springframework.boot.context.properties.bind.Binder;
import org.springframework.context.EnvironmentAware;
import org.springframework.context.annotation.ImportBeanDefinitionRegistrar;
import org.springframework.core.env.Environment;
import org.springframework.core.type.AnnotationMetadata;

/**
 * Binds {@code llmpool.*} and registers, per pool, a {@link ProviderPool} bean and an
 * {@link OkHttpClient} bean (through {@link PoolHttpClientFactoryBean}). Runs while the
 * auto-configuration's bean definitions are loaded, after the application's own, so a bean the
 * application defines under the same name is seen and kept.
 */
final class PoolBeanRegistrar implements ImportBeanDefinitionRegistrar, EnvironmentAware, BeanFactoryAware {

  private Environment environment;
  private BeanFactory beanFactory;

  @Override
  public void setEnvironment(Environment environment) {
    this.environment = environment;
  }

  @Override
  public void setBeanFactory(BeanFactory beanFactory) {
    this.beanFactory = beanFactory;
  }

  @Override
  public void registerBeanDefinitions(AnnotationMetadata metadata, BeanDefinitionRegistry registry) {
    LlmPoolProperties props = Binder.get(environment)
        .bind("llmpool", Bindable.of(LlmPoolProperties.class))
        .orElseGet(() -> new LlmPoolProperties(null, null, null));
    Map<String, LlmPoolProperties.Pool> pools = props.pools();
    if (props.primary() != null && !pools.containsKey(props.primary())) {
      throw new InvalidPoolPropertyException("llmpool.primary names pool '" + props.primary() + "' but the pools are "
          + pools.keySet());
    }
    List<String> otherPools = beanNames(registry, ProviderPool.class);
    List<String> otherClients = beanNames(registry, OkHttpClient.class);
    for (Map.Entry<String, LlmPoolProperties.Pool> e : pools.entrySet()) {
      String name = e.getKey();
      LlmPoolProperties.Pool pool = e.getValue();
      boolean primary = props.primary() != null ? props.primary().equals(name)
          : pools.size() == 1 && otherPools.stream().allMatch(n -> n.equals(LlmPoolAutoConfiguration.poolBeanName(name)));
      String poolBean = LlmPoolAutoConfiguration.poolBeanName(name);
      if (!registry.containsBeanDefinition(poolBean)) {
        RootBeanDefinition def = new RootBeanDefinition(ProviderPool.class, () -> createPool(name, pool));
        def.addQualifier(new AutowireCandidateQualifier(Qualifier.class, name));
        def.setPrimary(primary);
        registry.registerBeanDefinition(poolBean, def);
      }
      String clientBean = LlmPoolAutoConfiguration.httpClientBeanName(name);
      if (!registry.containsBeanDefinition(clientBean)) {
        RootBeanDefinition def = new RootBeanDefinition(PoolHttpClientFactoryBean.class,
            () -> new PoolHttpClientFactoryBean(name, pool == null ? null : pool.http(), beanFactory, poolBean));
        def.setAttribute(FactoryBean.OBJECT_TYPE_ATTRIBUTE, OkHttpClient.class);
        def.addQualifier(new AutowireCandidateQualifier(Qualifier.class, name));
        def.setPrimary(primary && otherClients.stream().allMatch(n -> n.equals(clientBean)));
        registry.registerBeanDefinition(clientBean, def);
      }
    }
  }

  private ProviderPool createPool(String name, LlmPoolProperties.Pool pool) {
    ProviderPool.Builder b = PoolFactory.poolBuilder(name, pool);
    beanFactory.getBeanProvider(LlmPoolCustomizer.class).orderedStream().forEach(c -> c.customize(name, b));
    // Looked up now, while the pool bean is created: the binder and what it needs (a MeterRegistry) are
    // ordinary, fully post-processed beans at this point.
    LlmPoolBinder binder = beanFactory.getBeanProvider(LlmPoolBinder.class).getIfAvailable();
    return binder == null ? PoolFactory.build(name, b) : PoolFactory.build(name, () -> binder.build(name, b));
  }

  /** Names of beans already defined with that type (the application's own, at this point). */
  private static List<String> beanNames(BeanDefinitionRegistry registry, Class<?> type) {
    if (registry instanceof ListableBeanFactory lbf) {
      return Arrays.asList(lbf.getBeanNamesForType(type, true, false));
    }
    return new ArrayList<>();
  }
}
