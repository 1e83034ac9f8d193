package io.github.llmpool.spring.boot;

import io.github.llmpool.ProviderPool;
import okhttp3.OkHttpClient;
import org.springframework.beans.factory.BeanFactory;
import org.springframework.beans.factory.DisposableBean;
import org.springframework.beans.factory.SmartFactoryBean;

/**
 * Makes a pool's {@link OkHttpClient} ({@code pool.configure(builder)}, then {@code http.*}, then the
 * {@link LlmPoolHttpClientCustomizer} beans) and, when the context closes, shuts its dispatcher's
 * threads down and evicts its idle connections (an {@code OkHttpClient} has no {@code close()}).
 * Initialised eagerly, so a bad {@code http.*} value fails start-up as a bad pool value does.
 */
final class PoolHttpClientFactoryBean implements SmartFactoryBean<OkHttpClient>, DisposableBean {
  private final String poolName;
  private final LlmPoolProperties.Http http;
  private final BeanFactory beanFactory;
  private final String poolBean;
  private OkHttpClient client;

  PoolHttpClientFactoryBean(String poolName, LlmPoolProperties.Http http, BeanFactory beanFactory, String poolBean) {
    this.poolName = poolName;
    this.http = http;
    this.beanFactory = beanFactory;
    this.poolBean = poolBean;
  }

  @Override
  public synchronized OkHttpClient getObject() {
    if (client == null) {
      ProviderPool pool = beanFactory.getBean(poolBean, ProviderPool.class);
      OkHttpClient.Builder b = PoolFactory.http(poolName, http, pool.configure(new OkHttpClient.Builder()));
      beanFactory.getBeanProvider(LlmPoolHttpClientCustomizer.class).orderedStream().forEach(c -> c.customize(poolName, b));
      client = b.build();
    }
    return client;
  }

  @Override
  public Class<?> getObjectType() {
    return OkHttpClient.class;
  }

  @Override
  public boolean isEagerInit() {
    return true;
  }

  @Override
  public synchronized void destroy() {
    if (client != null) {
      client.dispatcher().executorService().shutdown();
      client.connectionPool().evictAll();
    }
  }
}
