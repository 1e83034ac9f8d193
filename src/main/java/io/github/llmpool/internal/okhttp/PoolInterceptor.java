package io.github.llmpool.internal.okhttp;

import io.github.llmpool.internal.engine.PoolCore;
import java.io.IOException;
import okhttp3.Interceptor;
import okhttp3.Response;

/**
 * The pool's OkHttp <em>application</em> interceptor ({@code addInterceptor}, never
 * {@code addNetworkInterceptor}: it changes the host and may proceed more than once). A request
 * addressed to the pool's virtual host ({@code llmpool.invalid} unless configured otherwise) is
 * routed to a provider, rewritten for it and failed over; any other request passes through
 * untouched.
 *
 * <p>Thread-safe; one instance serves every call of every client it is added to. Clients built for
 * a pool should raise {@code Dispatcher.setMaxRequestsPerHost} (default 5): every async call names
 * the one virtual host. Where that limit holds the pool's calls in a client's queue, its
 * {@link DispatcherWatch} says so once.
 */
public final class PoolInterceptor implements Interceptor {
  private final PoolCore core;
  private final DispatcherWatch watch;

  /** For the pool; use {@code ProviderPool.interceptor()}. */
  public PoolInterceptor(PoolCore core) {
    this.core = core;
    this.watch = DispatcherWatch.forPool(core.name(), core.now());
  }

  @Override
  public Response intercept(Chain chain) throws IOException {
    if (!chain.request().url().host().equalsIgnoreCase(core.settings().virtualHost())) {
      return chain.proceed(chain.request());
    }
    return new LogicalCall(core, chain, null, watch).execute();
  }

  @Override
  public String toString() {
    return "PoolInterceptor{" + core.settings().virtualHost() + "}";
  }
}
