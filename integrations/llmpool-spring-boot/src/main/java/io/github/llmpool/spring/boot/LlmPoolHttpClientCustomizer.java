package io.github.llmpool.spring.boot;

import okhttp3.OkHttpClient;

/**
 * Customizes the builder of a pool's {@code OkHttpClient} bean (timeouts, proxy, TLS, extra
 * interceptors) after {@code pool.configure(builder)} and the {@code llmpool.pools.<name>.http.*}
 * properties were applied. Define one or more as beans; they run in {@code @Order} order. A
 * customizer that replaces the dispatcher should keep {@code maxRequestsPerHost} as high as
 * {@code maxRequests}: every call names the pool's one virtual host.
 */
@FunctionalInterface
public interface LlmPoolHttpClientCustomizer {

  /**
   * Customizes the client builder of one pool.
   *
   * @param poolName the pool's name (its key under {@code llmpool.pools})
   * @param builder the builder, already carrying the pool's interceptor, redirect guard and dispatcher
   */
  void customize(String poolName, OkHttpClient.Builder builder);
}
