package io.github.llmpool.internal.okhttp;

import okhttp3.Dispatcher;
import okhttp3.Interceptor;
import okhttp3.OkHttpClient;

/**
 * Configures an OkHttp client for a pool or router in one call: its application interceptor, the
 * redirect guard as a network interceptor, and a dispatcher whose limits let every concurrent call
 * through (OkHttp's default of 5 calls per host would queue the sixth, since every call names the
 * pool's one virtual host). Stateless; thread-safe.
 */
public final class Clients {
  private Clients() {}

  /**
   * {@code builder} with {@code interceptor}, the redirect guard and a new dispatcher allowing
   * {@code maxRequests} calls at once, all of them to one host. Returns the same builder.
   */
  public static OkHttpClient.Builder configure(OkHttpClient.Builder builder, Interceptor interceptor, int maxRequests) {
    Dispatcher d = new Dispatcher();
    d.setMaxRequests(maxRequests);
    d.setMaxRequestsPerHost(maxRequests);
    return builder.addInterceptor(interceptor).addNetworkInterceptor(RedirectGuard.get()).dispatcher(d);
  }
}
