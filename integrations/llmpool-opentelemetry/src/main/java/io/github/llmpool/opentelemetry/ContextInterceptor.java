package io.github.llmpool.opentelemetry;

import io.opentelemetry.context.Context;
import io.opentelemetry.context.Scope;
import java.io.IOException;
import okhttp3.Interceptor;
import okhttp3.Response;

/**
 * Makes the {@link Context} a request carries as its tag current while the chain below runs (on
 * OkHttp's dispatcher thread for an async call), so that the pool's interceptor, added after this
 * one, sees the caller's context.
 */
final class ContextInterceptor implements Interceptor {
  static final ContextInterceptor INSTANCE = new ContextInterceptor();

  private ContextInterceptor() {}

  @Override
  public Response intercept(Chain chain) throws IOException {
    Context context = chain.request().tag(Context.class);
    if (context == null) {
      return chain.proceed(chain.request());
    }
    try (Scope ignored = context.makeCurrent()) {
      return chain.proceed(chain.request());
    }
  }

  @Override
  public String toString() {
    return "LlmPoolTelemetry.contextInterceptor()";
  }
}
