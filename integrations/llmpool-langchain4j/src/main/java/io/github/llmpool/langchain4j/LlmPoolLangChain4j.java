package io.github.llmpool.langchain4j;

import io.github.llmpool.ModelRouter;
import io.github.llmpool.ProviderPool;
import java.util.Objects;

/**
 * LangChain4j over an llmpool {@link ProviderPool} (or {@link ModelRouter}), in one line per model:
 *
 * <pre>{@code
 * OpenAiChatModel model = OpenAiChatModel.builder()
 *     .httpClientBuilder(LlmPoolLangChain4j.httpClientBuilder(pool))
 *     .baseUrl(LlmPoolLangChain4j.baseUrl(pool))      // http://llmpool.invalid/v1/
 *     .modelName("gpt-4o-mini")
 *     .build();
 * }</pre>
 *
 * <p>The same for {@code OpenAiStreamingChatModel} and any other LangChain4j model that takes an
 * {@code httpClientBuilder(...)} and speaks a protocol the pool's providers serve. No API key is
 * needed: the pool removes whatever {@code Authorization} the model sets and signs each request
 * with the key of the provider it chose.
 *
 * <p>What it configures:
 * <ul>
 *   <li>an OkHttp 5 client with the pool's interceptor, its redirect guard and a dispatcher
 *       allowing {@value #DEFAULT_MAX_REQUESTS_PER_HOST} concurrent calls, every one to the
 *       pool's one virtual host (OkHttp's default of 5 per host would silently queue the sixth
 *       concurrent stream); {@link LlmPoolHttpClientBuilder#maxRequestsPerHost(int)} changes it,
 *       {@link LlmPoolHttpClientBuilder#okHttp(okhttp3.OkHttpClient.Builder)} starts from your
 *       OkHttp settings;
 *   <li>the model's connect and read timeouts ({@code timeout(...)} of its builder), as OkHttp's;
 *   <li><b>no retries on top of the pool</b>: when the pool has given up after its own failover,
 *       the failure reaches LangChain4j as a {@link PoolGaveUpException}, a
 *       {@code NonRetriableException} that LangChain4j's {@code maxRetries} (2 by default) does
 *       not retry, with the final answer's status and body. So a model with its default
 *       {@code maxRetries} makes exactly the upstream requests the pool makes.
 *       {@code maxRetries(0)} is not needed, and does no harm.
 * </ul>
 *
 * <p>Not registered with LangChain4j's {@code ServiceLoader} ({@code HttpClientBuilderFactory}),
 * on purpose: every LangChain4j model module brings {@code langchain4j-http-client-jdk}, which
 * registers its own factory, and with two on the class path every model built without an
 * explicit {@code httpClientBuilder(...)} fails ("Conflict: multiple HTTP clients have been
 * found"); the factory takes no arguments, so it could only reach a pool through global state;
 * and it would send every LangChain4j model of the application (embeddings, other vendors)
 * through the pool. Each model opts in with {@code httpClientBuilder(...)}.
 */
public final class LlmPoolLangChain4j {

  /** The dispatcher's default limit of concurrent calls (per host, and in all): {@value}. */
  public static final int DEFAULT_MAX_REQUESTS_PER_HOST = ProviderPool.DEFAULT_MAX_CONCURRENT_CALLS;

  private LlmPoolLangChain4j() {}

  /**
   * An HTTP client builder whose clients send every request through {@code pool}, for a model's
   * {@code httpClientBuilder(...)}. One builder may serve several models; close it at shutdown.
   *
   * @param pool the pool
   * @return a new builder
   */
  public static LlmPoolHttpClientBuilder httpClientBuilder(ProviderPool pool) {
    Objects.requireNonNull(pool, "pool");
    return new LlmPoolHttpClientBuilder(pool.interceptor(), pool.redirectGuard());
  }

  /**
   * An HTTP client builder whose clients send every request through {@code router} (which picks
   * the pool by the request's {@code model}), for a model's {@code httpClientBuilder(...)}.
   *
   * @param router the router
   * @return a new builder
   */
  public static LlmPoolHttpClientBuilder httpClientBuilder(ModelRouter router) {
    Objects.requireNonNull(router, "router");
    return new LlmPoolHttpClientBuilder(router.interceptor(), router.redirectGuard());
  }

  /**
   * The base URL to give the model: the pool's virtual base URL, {@code http://llmpool.invalid/v1/}
   * by default ({@link ProviderPool#baseUrl()}). LangChain4j's OpenAI models append
   * {@code chat/completions}, {@code embeddings}, ... to it, and the pool maps its {@code /v1/}
   * onto each provider's base URL (which therefore ends in {@code /v1} for OpenAI-compatible
   * providers).
   *
   * @param pool the pool
   * @return the base URL, as a string
   */
  public static String baseUrl(ProviderPool pool) {
    return Objects.requireNonNull(pool, "pool").baseUrl().toString();
  }

  /**
   * The base URL to give the model for a router: {@link ModelRouter#baseUrl()}.
   *
   * @param router the router
   * @return the base URL, as a string
   */
  public static String baseUrl(ModelRouter router) {
    return Objects.requireNonNull(router, "router").baseUrl().toString();
  }
}
