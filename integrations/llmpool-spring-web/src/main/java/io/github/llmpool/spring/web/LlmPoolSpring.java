package io.github.llmpool.spring.web;

import io.github.llmpool.ModelRouter;
import io.github.llmpool.ProviderPool;
import java.net.URI;
import java.time.Duration;
import java.util.Objects;
import okhttp3.Dispatcher;
import okhttp3.OkHttpClient;

/**
 * Spring's HTTP clients over an llmpool {@link ProviderPool} (or {@link ModelRouter}), in one line
 * each:
 *
 * <pre>{@code
 * RestClient rest = RestClient.builder().requestFactory(LlmPoolSpring.requestFactory(pool)).build();
 * WebClient web = WebClient.builder().clientConnector(LlmPoolSpring.connector(pool)).build();
 *
 * // Spring AI 1.x: the root URL (OpenAiApi appends /v1/chat/completions) and a placeholder key
 * OpenAiApi api = OpenAiApi.builder()
 *     .baseUrl(LlmPoolSpring.baseUrl(pool)).apiKey(LlmPoolSpring.PLACEHOLDER_API_KEY)
 *     .restClientBuilder(RestClient.builder().requestFactory(LlmPoolSpring.requestFactory(pool)))
 *     .webClientBuilder(WebClient.builder().clientConnector(LlmPoolSpring.connector(pool)))
 *     .build();
 * }</pre>
 *
 * <p>Each factory method builds a new OkHttp client with {@link #okHttpClient(ProviderPool)}:
 * the pool's interceptor and redirect guard, a dispatcher allowing
 * {@value ProviderPool#DEFAULT_MAX_CONCURRENT_CALLS} concurrent calls to the pool's one virtual host
 * (OkHttp's default would hold the sixth), and a read timeout of
 * {@link #DEFAULT_READ_TIMEOUT} (OkHttp's 10 s is shorter than many non-streamed completions take
 * to start answering, and a read timeout is a failed attempt the pool retries elsewhere). For
 * your own OkHttp settings, configure a builder with {@code pool.configure(builder)} and pass the
 * client to {@link LlmPoolClientHttpRequestFactory#LlmPoolClientHttpRequestFactory(OkHttpClient)}
 * or {@link LlmPoolClientHttpConnector#LlmPoolClientHttpConnector(OkHttpClient)}; one client
 * may serve both.
 *
 * <p>{@link #connector(ProviderPool)} needs {@code spring-webflux} (and Reactor) on the class
 * path; the rest needs only {@code spring-web}.
 */
public final class LlmPoolSpring {

  /** The API key to give a client library: {@value}. The pool replaces it with each provider's credential. */
  public static final String PLACEHOLDER_API_KEY = "llmpool-sets-each-providers-key";

  /** The read timeout of the OkHttp clients built here: 10 minutes, the OpenAI SDKs' default. */
  public static final Duration DEFAULT_READ_TIMEOUT = Duration.ofMinutes(10);

  private LlmPoolSpring() {}

  /**
   * A new OkHttp client for {@code pool}: {@code pool.configure(builder)} (interceptor, redirect
   * guard, a dispatcher allowing {@value ProviderPool#DEFAULT_MAX_CONCURRENT_CALLS} concurrent
   * calls) with a read timeout of {@link #DEFAULT_READ_TIMEOUT}.
   *
   * @param pool the pool
   * @return a new client; share it, as OkHttp advises
   */
  public static OkHttpClient okHttpClient(ProviderPool pool) {
    Objects.requireNonNull(pool, "pool");
    return pool.configure(new OkHttpClient.Builder().readTimeout(DEFAULT_READ_TIMEOUT)).build();
  }

  /**
   * A new OkHttp client for {@code router}, configured as {@link #okHttpClient(ProviderPool)}.
   *
   * @param router the router
   * @return a new client
   */
  public static OkHttpClient okHttpClient(ModelRouter router) {
    Objects.requireNonNull(router, "router");
    Dispatcher d = new Dispatcher();
    d.setMaxRequests(ProviderPool.DEFAULT_MAX_CONCURRENT_CALLS);
    d.setMaxRequestsPerHost(ProviderPool.DEFAULT_MAX_CONCURRENT_CALLS);
    return new OkHttpClient.Builder()
        .readTimeout(DEFAULT_READ_TIMEOUT)
        .addInterceptor(router.interceptor())
        .addNetworkInterceptor(router.redirectGuard())
        .dispatcher(d)
        .build();
  }

  /**
   * A {@code ClientHttpRequestFactory} (for {@code RestClient}, {@code RestTemplate}) over a new
   * {@link #okHttpClient(ProviderPool)}.
   *
   * @param pool the pool
   * @return a new factory
   */
  public static LlmPoolClientHttpRequestFactory requestFactory(ProviderPool pool) {
    return new LlmPoolClientHttpRequestFactory(okHttpClient(pool));
  }

  /**
   * A {@code ClientHttpRequestFactory} over a new {@link #okHttpClient(ModelRouter)}.
   *
   * @param router the router
   * @return a new factory
   */
  public static LlmPoolClientHttpRequestFactory requestFactory(ModelRouter router) {
    return new LlmPoolClientHttpRequestFactory(okHttpClient(router));
  }

  /**
   * A reactive {@code ClientHttpConnector} (for {@code WebClient}) over a new
   * {@link #okHttpClient(ProviderPool)}. Needs spring-webflux.
   *
   * @param pool the pool
   * @return a new connector
   */
  public static LlmPoolClientHttpConnector connector(ProviderPool pool) {
    return new LlmPoolClientHttpConnector(okHttpClient(pool));
  }

  /**
   * A reactive {@code ClientHttpConnector} over a new {@link #okHttpClient(ModelRouter)}.
   *
   * @param router the router
   * @return a new connector
   */
  public static LlmPoolClientHttpConnector connector(ModelRouter router) {
    return new LlmPoolClientHttpConnector(okHttpClient(router));
  }

  /**
   * The pool's virtual root URL, {@code http://llmpool.invalid} by default: the base URL for
   * clients that append the API version themselves, as Spring AI 1.x's {@code OpenAiApi} does
   * ({@code /v1/chat/completions}; with {@code pool.baseUrl()}, which ends in {@code /v1/}, it
   * would ask the provider for {@code /v1/v1/chat/completions}). For clients that expect the
   * URL up to {@code /v1}, use {@code pool.baseUrl()}.
   *
   * @param pool the pool
   * @return scheme and host of {@code pool.baseUrl()}, without a trailing slash
   */
  public static String baseUrl(ProviderPool pool) {
    Objects.requireNonNull(pool, "pool");
    return root(pool.baseUrl());
  }

  /**
   * The router's virtual root URL, as {@link #baseUrl(ProviderPool)}.
   *
   * @param router the router
   * @return scheme and host of {@code router.baseUrl()}, without a trailing slash
   */
  public static String baseUrl(ModelRouter router) {
    Objects.requireNonNull(router, "router");
    return root(router.baseUrl());
  }

  private static String root(URI base) {
    String root = base.resolve("/").toString();
    return root.endsWith("/") ? root.substring(0, root.length() - 1) : root;
  }
}
