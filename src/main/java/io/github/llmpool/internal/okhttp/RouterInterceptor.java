package io.github.llmpool.internal.okhttp;

import com.fasterxml.jackson.core.io.JsonStringEncoder;
import io.github.llmpool.internal.engine.PoolCore;
import java.io.IOException;
import java.util.List;
import java.util.Map;
import okhttp3.Interceptor;
import okhttp3.MediaType;
import okhttp3.Protocol;
import okhttp3.Request;
import okhttp3.Response;
import okhttp3.ResponseBody;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The OkHttp <em>application</em> interceptor of a {@code ModelRouter}: a request addressed to the
 * router's virtual host is read once, its model alias taken from the routing header (first) or
 * the JSON body's top-level {@code model}, and the pool routed under that alias handles it exactly
 * as the pool's own interceptor would (same failover loop, same rewriting, same usage records). A
 * request naming no alias goes to the default pool; an unknown alias goes to the default pool or
 * is answered 404 at once, as configured, without any upstream call. The routing header is not
 * forwarded upstream. Any other request passes through untouched.
 *
 * <pre>{@code
 * ModelRouter router = ModelRouter.builder().route("fast", fastPool).route("smart", smartPool).build();
 * OkHttpClient http = new OkHttpClient.Builder().addInterceptor(router.interceptor()).build();
 * }</pre>
 *
 * <p>Thread-safe and immutable; one instance serves every call.
 */
public final class RouterInterceptor implements Interceptor {
  private static final Logger log = LoggerFactory.getLogger("io.github.llmpool");
  private static final MediaType JSON = MediaType.get("application/json; charset=utf-8");
  private static final int MAX_ALIAS_SHOWN = 100;

  private final String virtualHost;
  private final String virtualPrefix;
  private final String header; // null: aliases come from the body only
  private final Map<String, PoolCore> routes;
  private final List<String> aliases;
  private final PoolCore defaultPool; // null: none
  private final boolean unknownToDefault;
  /** The watch of the per-host limit for each routed pool, warning once per router and client. */
  private final Map<PoolCore, DispatcherWatch> watches;

  /** For the router; use {@code ModelRouter.interceptor()}. */
  public RouterInterceptor(String virtualHost, String virtualPrefix, String header, Map<String, PoolCore> routes,
      List<String> aliases, PoolCore defaultPool, boolean unknownToDefault) {
    this.virtualHost = virtualHost;
    this.virtualPrefix = virtualPrefix;
    this.header = header;
    this.routes = Map.copyOf(routes);
    this.aliases = List.copyOf(aliases);
    this.defaultPool = defaultPool;
    this.unknownToDefault = unknownToDefault;
    Map<okhttp3.Dispatcher, Boolean> warned = DispatcherWatch.newWarned();
    Map<PoolCore, DispatcherWatch> w = new java.util.IdentityHashMap<>();
    for (PoolCore core : routes.values()) {
      w.computeIfAbsent(core, c -> watch(c, warned));
    }
    if (defaultPool != null) {
      w.computeIfAbsent(defaultPool, c -> watch(c, warned));
    }
    this.watches = w; // never changed after construction: safe to read from any thread
  }

  private DispatcherWatch watch(PoolCore core, Map<okhttp3.Dispatcher, Boolean> warned) {
    return new DispatcherWatch("llmpool[" + core.name() + "] (through the ModelRouter of " + virtualHost + ")",
        "give the client a dispatcher whose maxRequestsPerHost is as high as its maxRequests"
            + " (dispatcher.setMaxRequestsPerHost(n))", warned, core.now());
  }

  @Override
  public Response intercept(Chain chain) throws IOException {
    Request request = chain.request();
    if (!request.url().host().equalsIgnoreCase(virtualHost)) {
      return chain.proceed(request);
    }
    String alias = null;
    String from = "the request's model";
    String v = header == null ? null : request.header(header);
    if (v != null) {
      if (!v.isBlank()) {
        alias = v.trim();
        from = "header " + header;
      }
      request = request.newBuilder().removeHeader(header).build(); // routing only, not for providers
    }
    RequestPlan plan = RequestPlan.of(request, virtualPrefix);
    if (alias == null) {
      alias = plan.requestedModel();
    }
    PoolCore pool;
    if (alias == null) {
      pool = defaultPool;
      if (pool == null) {
        return error(chain.request(), 400, "Bad Request", "the request names no model alias (set the body's model"
            + (header == null ? "" : " or header " + header) + "); known aliases: " + known(), "model", null);
      }
    } else {
      pool = routes.get(alias);
      if (pool == null && unknownToDefault) {
        pool = defaultPool;
      }
      if (pool == null) {
        log.debug("llmpool router: unknown model alias from {}", from);
        return error(chain.request(), 404, "Not Found", "unknown model alias '" + cut(alias) + "' (from " + from
            + "); known aliases: " + known(), from.startsWith("header") ? header : "model", "model_not_found");
      }
    }
    return new LogicalCall(pool, chain, plan, watches.get(pool)).execute();
  }

  private String known() {
    return String.join(", ", aliases);
  }

  private static String cut(String alias) {
    return alias.length() <= MAX_ALIAS_SHOWN ? alias : alias.substring(0, MAX_ALIAS_SHOWN) + "...";
  }

  /** An OpenAI-style error answered locally: no upstream call, not worth retrying. */
  private static Response error(Request request, int code, String reason, String message, String param, String errorCode) {
    String body = "{\"error\":{\"message\":" + quote(message) + ",\"type\":\"invalid_request_error\",\"param\":"
        + quote(param) + ",\"code\":" + (errorCode == null ? "null" : quote(errorCode)) + "}}";
    return new Response.Builder()
        .request(request)
        .protocol(Protocol.HTTP_1_1)
        .code(code)
        .message(reason)
        .header("Content-Type", JSON.toString())
        .header(LogicalCall.SHOULD_RETRY, "false")
        .body(ResponseBody.create(body, JSON))
        .build();
  }

  private static String quote(String s) {
    return "\"" + new String(JsonStringEncoder.getInstance().quoteAsString(s)) + "\"";
  }

  @Override
  public String toString() {
    return "RouterInterceptor{" + virtualHost + ", aliases=" + aliases + "}";
  }
}
