package io.github.llmpool.spring.boot;

import io.github.llmpool.ProviderPool;
import okhttp3.OkHttpClient;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBooleanProperty;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.context.annotation.Import;

/**
 * Auto-configuration of llmpool: for every pool under {@code llmpool.pools.<name>} (see
 * {@link LlmPoolProperties}) a {@link ProviderPool} bean named {@code <name>ProviderPool} and a ready
 * {@link OkHttpClient} bean named {@code <name>OkHttpClient} ({@code pool.configure(builder)}: the
 * pool's interceptor, its redirect guard and a dispatcher that lets 64 calls run at once), both
 * qualified with the pool's name ({@code @Qualifier("<name>")}).
 *
 * <ul>
 *   <li>With exactly one pool (and no other {@code ProviderPool} bean) its beans are
 *       {@code @Primary}, so an unqualified {@code ProviderPool} or {@code OkHttpClient} injection
 *       point gets them (the client only if no other {@code OkHttpClient} bean is defined). With
 *       several pools none is primary unless {@code llmpool.primary} names one; inject them by
 *       qualifier, or as {@code Map<String, ProviderPool>} keyed by bean name.</li>
 *   <li>A bean you define yourself with one of those names replaces the auto-configured one (the
 *       client bean then uses your pool).</li>
 *   <li>{@link LlmPoolCustomizer} and {@link LlmPoolHttpClientCustomizer} beans add what
 *       properties cannot say.</li>
 *   <li>A bad value fails start-up with the core builder's own message behind the property's
 *       name: {@code llmpool.pools.main.providers[0].weight: weight must be >= 0 but was -1
 *       (provider 'a')}.</li>
 *   <li>The client bean's dispatcher threads and idle connections are shut down with the context;
 *       a pool holds no resources of its own.</li>
 * </ul>
 *
 * <p>Off with {@code llmpool.enabled=false}.
 */
@AutoConfiguration
@ConditionalOnClass({ProviderPool.class, OkHttpClient.class})
@ConditionalOnBooleanProperty(name = "llmpool.enabled", matchIfMissing = true)
@Import(PoolBeanRegistrar.class)
public class LlmPoolAutoConfiguration {

  /** Created by Spring Boot's auto-configuration. */
  public LlmPoolAutoConfiguration() {
  }

  /** Suffix of a pool's {@link ProviderPool} bean name: {@code <name>ProviderPool}. */
  public static final String POOL_BEAN_SUFFIX = "ProviderPool";

  /** Suffix of a pool's {@link OkHttpClient} bean name: {@code <name>OkHttpClient}. */
  public static final String HTTP_CLIENT_BEAN_SUFFIX = "OkHttpClient";

  /**
   * The name of a pool's {@link ProviderPool} bean.
   *
   * @param poolName the pool's name (its key under {@code llmpool.pools})
   * @return {@code poolName + "ProviderPool"}
   */
  public static String poolBeanName(String poolName) {
    return poolName + POOL_BEAN_SUFFIX;
  }

  /**
   * The name of a pool's {@link OkHttpClient} bean.
   *
   * @param poolName the pool's name (its key under {@code llmpool.pools})
   * @return {@code poolName + "OkHttpClient"}
   */
  public static String httpClientBeanName(String poolName) {
    return poolName + HTTP_CLIENT_BEAN_SUFFIX;
  }
}
