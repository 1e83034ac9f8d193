package io.github.llmpool.openai;

import com.openai.client.OpenAIClient;
import com.openai.client.OpenAIClientImpl;
import com.openai.core.ClientOptions;
import com.openai.core.Timeout;
import io.github.llmpool.ModelRouter;
import io.github.llmpool.ProviderPool;
import java.net.URI;
import java.time.Duration;
import java.util.Objects;
import okhttp3.Dispatcher;
import okhttp3.Interceptor;
import okhttp3.OkHttpClient;

/**
 * The OpenAI Java SDK over an llmpool {@link ProviderPool} (or {@link ModelRouter}), in one line:
 *
 * <pre>{@code
 * OpenAIClient client = LlmPoolOpenAI.client(pool);
 * ChatCompletion c = client.chat().completions().create(ChatCompletionCreateParams.builder()
 *     .model("gpt-4o-mini").addUserMessage("Say hello").build());
 * }</pre>
 *
 * <p>The client is an ordinary {@code OpenAIClient} (sync, {@code client.async()}, streaming)
 * whose transport is a {@link LlmPoolHttpClient} over an OkHttp 5 client carrying
 * {@code pool.interceptor()} (and {@code pool.redirectGuard()} as a network interceptor). It is
 * configured so that the pool, not the SDK, owns routing and retries:
 *
 * <ul>
 *   <li>base URL {@code pool.baseUrl()} (the pool's virtual host, {@code http://llmpool.invalid/v1/}
 *       by default);
 *   <li>API key {@value #PLACEHOLDER_API_KEY}: the pool replaces the SDK's {@code Authorization}
 *       with each provider's own credential;
 *   <li>{@code maxRetries(0)}: the pool already retries a failed attempt on another provider
 *       within its retry budget; SDK retries on top would multiply upstream attempts (each SDK
 *       retry is a new logical request to the pool);
 *   <li>an OkHttp dispatcher allowing {@value #DEFAULT_MAX_REQUESTS_PER_HOST} concurrent async
 *       calls per host ({@link Builder#maxRequestsPerHost(int)}): every call names the pool's one
 *       virtual host, and OkHttp's default of 5 per host would queue the sixth concurrent
 *       {@code client.async()} call however many providers the pool has. (Synchronous calls,
 *       streaming ones included, are not limited by the dispatcher.)
 * </ul>
 *
 * <p>For more: {@link #builder(ProviderPool)} takes your own {@link OkHttpClient.Builder}, a
 * per-host limit, and gives the transport ({@link Builder#httpClient()}) or the SDK's
 * {@link ClientOptions.Builder} pre-filled as above ({@link Builder#clientOptions()}) for
 * {@code new OpenAIClientImpl(options.build())}.
 *
 * <p>Do not put the pool's interceptor on the SDK's own OkHttp transport
 * ({@code OpenAIOkHttpClient.builder().addInterceptor(...)} or {@code .okHttpClient(...)}): it
 * removes the credential the pool sets whenever the wire host differs from the call's URL, which
 * the pool's rewrite always makes it, so every call fails (llmpool fails it at once, saying so,
 * and evicts nothing).
 */
public final class LlmPoolOpenAI {

  /** The per-host limit of the dispatcher of the clients built here, unless told otherwise: {@value}. */
  public static final int DEFAULT_MAX_REQUESTS_PER_HOST = 64;

  /** The API key the SDK is given: {@value}. The pool replaces it with each provider's credential. */
  public static final String PLACEHOLDER_API_KEY = "llmpool-sets-each-providers-key";

  private LlmPoolOpenAI() {}

  /**
   * An SDK client whose every request goes through {@code pool}. Closing it shuts its OkHttp
   * threads and connections down.
   */
  public static OpenAIClient client(ProviderPool pool) {
    return builder(pool).build();
  }

  /**
   * An SDK client whose every request goes through {@code pool}, over an OkHttpClient built from
   * {@code okHttp} (timeouts, DNS, TLS, proxy, event listener, your own interceptors; the builder
   * itself is left unchanged). See {@link Builder#okHttp(OkHttpClient.Builder)}.
   */
  public static OpenAIClient client(ProviderPool pool, OkHttpClient.Builder okHttp) {
    return builder(pool).okHttp(okHttp).build();
  }

  /** An SDK client whose every request goes through {@code router}. */
  public static OpenAIClient client(ModelRouter router) {
    return builder(router).build();
  }

  /** A builder of SDK clients, transports and client options over {@code pool}. */
  public static Builder builder(ProviderPool pool) {
    Objects.requireNonNull(pool, "pool");
    return new Builder(pool.interceptor(), pool.redirectGuard(), pool.baseUrl());
  }

  /** A builder of SDK clients, transports and client options over {@code router}. */
  public static Builder builder(ModelRouter router) {
    Objects.requireNonNull(router, "router");
    return new Builder(router.interceptor(), router.redirectGuard(), router.baseUrl());
  }

  /** Builds SDK clients, transports and client options over one pool or router. Not thread-safe. */
  public static final class Builder {
    private final Interceptor interceptor;
    private final Interceptor redirectGuard;
    private final URI baseUrl;
    private OkHttpClient.Builder okHttp;
    private Integer maxRequestsPerHost;

    private Builder(Interceptor interceptor, Interceptor redirectGuard, URI baseUrl) {
      this.interceptor = interceptor;
      this.redirectGuard = redirectGuard;
      this.baseUrl = baseUrl;
    }

    /**
     * Builds the OkHttpClient from {@code okHttp} instead of a new builder. The pool's interceptor
     * (and redirect guard) are added to a copy unless the builder already has them; the builder
     * passed is not changed.
     *
     * <p>Then the builder's timeouts (connect, read, write, call) become the SDK's default
     * timeouts, as with {@code OpenAIOkHttpClient.builder().okHttpClient(...)}; without it the
     * SDK's own defaults apply (1 min to connect, 10 min for the rest).
     *
     * <p>A dispatcher, connection pool or cache in {@code okHttp} may be shared with other
     * clients (it is, in {@code existing.newBuilder()}), so the transport only borrows them:
     * closing the SDK client does not shut them down. The dispatcher's per-host limit is still
     * raised to at least {@value #DEFAULT_MAX_REQUESTS_PER_HOST} (or set to
     * {@link #maxRequestsPerHost(int)}), which a shared dispatcher shares.
     */
    public Builder okHttp(OkHttpClient.Builder okHttp) {
      this.okHttp = Objects.requireNonNull(okHttp, "okHttp");
      return this;
    }

    /**
     * Sets the OkHttp dispatcher's per-host limit of concurrent async calls to {@code max} (and
     * its overall limit to at least {@code max}). Without it the limit is raised to at least
     * {@value #DEFAULT_MAX_REQUESTS_PER_HOST} and never lowered. Every call is addressed to the
     * pool's virtual host, so this is the client's limit of concurrent {@code client.async()}
     * calls; calls past it wait in the dispatcher's queue. Size it to the concurrency the pool's
     * providers take together.
     */
    public Builder maxRequestsPerHost(int max) {
      if (max < 1) {
        throw new IllegalArgumentException("maxRequestsPerHost must be at least 1: " + max);
      }
      this.maxRequestsPerHost = max;
      return this;
    }

    /**
     * A new transport over a new OkHttpClient with the pool's interceptor, for
     * {@code ClientOptions.builder().httpClient(...)}. It owns the OkHttpClient's resources
     * unless {@link #okHttp(OkHttpClient.Builder)} was given.
     */
    public LlmPoolHttpClient httpClient() {
      OkHttpClient client = okHttpClient();
      return okHttp == null ? LlmPoolHttpClient.owning(client) : LlmPoolHttpClient.borrowing(client);
    }

    /**
     * The SDK's client options with a new {@link #httpClient()}, the pool's base URL, the
     * placeholder API key and {@code maxRetries(0)}; add your own (headers, organization,
     * timeouts, ...) and pass {@code options.build()} to {@code new OpenAIClientImpl(...)}.
     */
    public ClientOptions.Builder clientOptions() {
      LlmPoolHttpClient http = httpClient();
      ClientOptions.Builder options = ClientOptions.builder()
          .httpClient(http)
          .baseUrl(baseUrl.toString())
          .apiKey(PLACEHOLDER_API_KEY)
          .maxRetries(0); // llmpool owns retries and failover
      if (okHttp != null) {
        OkHttpClient c = http.okHttpClient();
        options.timeout(Timeout.builder()
            .connect(Duration.ofMillis(c.connectTimeoutMillis()))
            .read(Duration.ofMillis(c.readTimeoutMillis()))
            .write(Duration.ofMillis(c.writeTimeoutMillis()))
            .request(Duration.ofMillis(c.callTimeoutMillis()))
            .build());
      }
      return options;
    }

    /** A new SDK client over a new transport; closing it closes the transport. */
    public OpenAIClient build() {
      return new OpenAIClientImpl(clientOptions().build());
    }

    private OkHttpClient okHttpClient() {
      OkHttpClient.Builder b;
      if (okHttp == null) {
        Timeout sdkDefaults = Timeout.builder().build();
        b = new OkHttpClient.Builder()
            .dispatcher(new Dispatcher())
            // The SDK's default timeouts, so that calls with them need no derived client.
            .connectTimeout(sdkDefaults.connect())
            .readTimeout(sdkDefaults.read())
            .writeTimeout(sdkDefaults.write())
            .callTimeout(sdkDefaults.request());
      } else {
        b = okHttp.build().newBuilder(); // a copy: the caller's builder stays as it was
      }
      if (!b.interceptors().contains(interceptor)) {
        b.addInterceptor(interceptor);
      }
      if (!b.networkInterceptors().contains(redirectGuard)) {
        b.addNetworkInterceptor(redirectGuard);
      }
      OkHttpClient client = b.build();
      Dispatcher d = client.dispatcher();
      int perHost = maxRequestsPerHost != null ? maxRequestsPerHost
          : Math.max(d.getMaxRequestsPerHost(), DEFAULT_MAX_REQUESTS_PER_HOST);
      if (d.getMaxRequests() < perHost) {
        d.setMaxRequests(perHost);
      }
      d.setMaxRequestsPerHost(perHost);
      return client;
    }
  }
}
