package io.github.llmpool.internal.okhttp;

import io.github.llmpool.internal.route.CredentialScope;
import io.github.llmpool.internal.route.Endpoint;
import java.io.IOException;
import okhttp3.Interceptor;
import okhttp3.Request;
import okhttp3.Response;

/**
 * A <em>network</em> interceptor ({@code addNetworkInterceptor}) that keeps a provider's
 * credential on the provider's own host. OkHttp follows redirects below the pool's application
 * interceptor and, on a redirect to another host, strips only {@code Authorization}: a key sent in
 * {@code api-key} (Azure) or another header would follow the redirect. This guard sees every hop
 * and removes the provider's credential header and extra headers from any hop whose scheme, host or
 * port is not the provider's. It recognises a pool's request by its {@link CredentialScope} tag,
 * which names those headers but holds none of their values. Requests that did not come from a
 * pool pass untouched.
 *
 * <p>Alternatively build the pool's client with {@code followRedirects(false)}: OpenAI-compatible
 * APIs do not redirect. Stateless and thread-safe.
 */
public final class RedirectGuard implements Interceptor {
  static final RedirectGuard INSTANCE = new RedirectGuard();

  private RedirectGuard() {}

  /** The shared instance. */
  public static RedirectGuard get() {
    return INSTANCE;
  }

  /**
   * Set on a pool request whose provider sends a credential OkHttp would not strip on a redirect;
   * the guard marks it, so the pool can warn when a client follows redirects without the guard.
   */
  static final class Seen {
    volatile boolean byGuard;
  }

  /** Whether OkHttp would leave this endpoint's credential on a cross-host redirect. */
  static boolean needsGuard(Endpoint e) {
    return (e.credentialHeader != null && !e.credentialHeader.equalsIgnoreCase("Authorization")) || !e.headers.isEmpty();
  }

  @Override
  public Response intercept(Chain chain) throws IOException {
    Request request = chain.request();
    Seen seen = request.tag(Seen.class);
    if (seen != null) {
      seen.byGuard = true;
    }
    CredentialScope scope = request.tag(CredentialScope.class);
    if (scope == null || scope.covers(request.url().scheme(), request.url().host(), request.url().port())) {
      return chain.proceed(request);
    }
    Request.Builder b = request.newBuilder();
    for (String name : scope.headerNames) {
      b.removeHeader(name);
    }
    return chain.proceed(b.build());
  }

  @Override
  public String toString() {
    return "RedirectGuard";
  }
}
