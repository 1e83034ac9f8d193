package io.github.llmpool.langchain4j;

import dev.langchain4j.http.client.HttpClientBuilder;
import java.time.Duration;
import java.util.Objects;
import okhttp3.Dispatcher;
import okhttp3.Interceptor;
import okhttp3.OkHttpClient;

/**
 * LangChain4j's {@link HttpClientBuilder} for a pool (or router): pass it to a model's
 * {@code httpClientBuilder(...)}; the model sets the connect and read timeouts from its own
 * builder ({@code timeout(...)}; LangChain4j's OpenAI models default to 15 s and 60 s) and calls
 * {@link #build()}. Made by {@link LlmPoolLangChain4j#httpClientBuilder(io.github.llmpool.ProviderPool)}.
 *
 * <p>The first {@link #build()} builds one OkHttp client: from a new builder (or a copy of the one
 * given to {@link #okHttp(OkHttpClient.Builder)}), with the pool's interceptor, its redirect guard
 * as a network interceptor, and a new dispatcher allowing {@link #maxRequestsPerHost(int)}
 * concurrent calls ({@value LlmPoolLangChain4j#DEFAULT_MAX_REQUESTS_PER_HOST} unless set), every
 * one of them to the pool's one virtual host (OkHttp's default of 5 per host would queue the sixth
 * concurrent streamed call, silently). Every {@link LlmPoolHttpClient} built after shares that
 * client's dispatcher and connections, with the timeouts set at its build. One builder can serve
 * several models (a chat model and a streaming model, say); the per-host limit is then theirs
 * together.
 *
 * <p>{@link #close()} shuts the dispatcher's threads down and evicts idle connections (OkHttp's
 * dispatcher threads are not daemon threads: they keep a JVM alive for up to a minute after the
 * last call). Not thread-safe while being configured; LangChain4j configures and builds it in the
 * model's constructor.
 */
public final class LlmPoolHttpClientBuilder implements HttpClientBuilder, AutoCloseable {
  private final Interceptor interceptor;
  private final Interceptor redirectGuard;
  private OkHttpClient.Builder okHttp;
  private int maxRequestsPerHost = LlmPoolLangChain4j.DEFAULT_MAX_REQUESTS_PER_HOST;
  private Duration connectTimeout;
  private Duration readTimeout;
  private OkHttpClient shared;

  LlmPoolHttpClientBuilder(Interceptor interceptor, Interceptor redirectGuard) {
    this.interceptor = Objects.requireNonNull(interceptor, "interceptor");
    this.redirectGuard = Objects.requireNonNull(redirectGuard, "redirectGuard");
  }

  /**
   * Builds the OkHttp client from a copy of {@code okHttp} (your DNS, TLS, proxy, event listener,
   * connection pool, write and call timeouts, interceptors; the builder itself is not changed)
   * instead of a new builder. The pool's interceptor and redirect guard are added unless it already
   * has them; its dispatcher is replaced by a new one (see {@link #maxRequestsPerHost(int)}). The
   * model's connect and read timeouts still win over the builder's.
   *
   * @param okHttp the OkHttp settings to start from
   * @return this builder
   * @throws IllegalStateException if a client was already built
   */
  public LlmPoolHttpClientBuilder okHttp(OkHttpClient.Builder okHttp) {
    requireNotBuilt("okHttp");
    this.okHttp = Objects.requireNonNull(okHttp, "okHttp");
    return this;
  }

  /**
   * The dispatcher's limit of concurrent calls, per host and in all (default
   * {@value LlmPoolLangChain4j#DEFAULT_MAX_REQUESTS_PER_HOST}). Every call names the pool's one
   * virtual host, so this is how many calls of the models sharing this builder run at once;
   * streamed calls past it wait in the dispatcher's queue. Blocking calls are not limited by it.
   * Size it to the concurrency the pool's providers take together.
   *
   * @param max at least 1
   * @return this builder
   * @throws IllegalArgumentException if {@code max} is below 1
   * @throws IllegalStateException if a client was already built
   */
  public LlmPoolHttpClientBuilder maxRequestsPerHost(int max) {
    if (max < 1) {
      throw new IllegalArgumentException("maxRequestsPerHost must be at least 1: " + max);
    }
    requireNotBuilt("maxRequestsPerHost");
    this.maxRequestsPerHost = max;
    return this;
  }

  /**
   * The connect timeout of the next {@link #build()}, or null for the OkHttp builder's.
   *
   * @return the timeout, or null
   */
  @Override
  public Duration connectTimeout() {
    return connectTimeout;
  }

  /**
   * Sets the connect timeout of the next {@link #build()} (LangChain4j's models call it with their
   * own setting). Per attempt: the pool fails over to another provider when one times out.
   *
   * @param timeout the timeout, or null for the OkHttp builder's
   * @return this builder
   */
  @Override
  public LlmPoolHttpClientBuilder connectTimeout(Duration timeout) {
    this.connectTimeout = checked("connectTimeout", timeout);
    return this;
  }

  /**
   * The read timeout of the next {@link #build()}, or null for the OkHttp builder's.
   *
   * @return the timeout, or null
   */
  @Override
  public Duration readTimeout() {
    return readTimeout;
  }

  /**
   * Sets the read timeout of the next {@link #build()} (LangChain4j's models call it with their own
   * setting): OkHttp's read timeout, the longest wait for the next bytes of an answer, headers or
   * body (so for a stream, the longest pause between events). A provider that times out before
   * its headers is failed over by the pool; a stream that stalls after them ends with LangChain4j's
   * {@code TimeoutException}.
   *
   * @param timeout the timeout, or null for the OkHttp builder's
   * @return this builder
   */
  @Override
  public LlmPoolHttpClientBuilder readTimeout(Duration timeout) {
    this.readTimeout = checked("readTimeout", timeout);
    return this;
  }

  /**
   * A client with the timeouts set now, over the builder's shared OkHttp client (built at the first
   * call).
   *
   * @return a new client
   */
  @Override
  public LlmPoolHttpClient build() {
    OkHttpClient.Builder b = okHttpClient().newBuilder();
    if (connectTimeout != null) {
      b.connectTimeout(connectTimeout);
    }
    if (readTimeout != null) {
      b.readTimeout(readTimeout);
    }
    return new LlmPoolHttpClient(b.build());
  }

  /**
   * The OkHttp client every {@link #build()} derives from (built now if it was not): the pool's
   * interceptor and redirect guard, the dispatcher, the connection pool.
   *
   * @return the shared OkHttp client
   */
  public synchronized OkHttpClient okHttpClient() {
    if (shared == null) {
      OkHttpClient.Builder b = okHttp == null ? new OkHttpClient.Builder() : okHttp.build().newBuilder();
      if (!b.interceptors().contains(interceptor)) {
        b.addInterceptor(interceptor);
      }
      if (!b.networkInterceptors().contains(redirectGuard)) {
        b.addNetworkInterceptor(redirectGuard);
      }
      Dispatcher d = new Dispatcher();
      d.setMaxRequests(maxRequestsPerHost);
      d.setMaxRequestsPerHost(maxRequestsPerHost);
      shared = b.dispatcher(d).build();
    }
    return shared;
  }

  /**
   * Shuts down the dispatcher threads of the clients this builder built (calls still queued are
   * refused) and evicts their idle connections. Nothing happens if none was built.
   */
  @Override
  public synchronized void close() {
    if (shared != null) {
      shared.dispatcher().executorService().shutdown();
      shared.connectionPool().evictAll();
    }
  }

  @Override
  public String toString() {
    return "LlmPoolHttpClientBuilder{maxRequestsPerHost=" + maxRequestsPerHost + ", connectTimeout="
        + connectTimeout + ", readTimeout=" + readTimeout + ", built=" + (shared != null) + "}";
  }

  private synchronized void requireNotBuilt(String setting) {
    if (shared != null) {
      throw new IllegalStateException(setting + " must be set before the first build(): the OkHttp client is built");
    }
  }

  private static Duration checked(String setting, Duration timeout) {
    if (timeout != null && timeout.isNegative()) {
      throw new IllegalArgumentException(setting + " must not be negative: " + timeout);
    }
    return timeout;
  }
}
