package io.github.llmpool.openai;

import com.openai.core.RequestOptions;
import com.openai.core.Timeout;
import com.openai.core.http.Headers;
import com.openai.core.http.HttpClient;
import com.openai.core.http.HttpMethod;
import com.openai.core.http.HttpRequest;
import com.openai.core.http.HttpRequestBody;
import com.openai.core.http.HttpResponse;
import com.openai.errors.OpenAIIoException;
import java.io.IOException;
import java.io.InputStream;
import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import okhttp3.Call;
import okhttp3.Callback;
import okhttp3.HttpUrl;
import okhttp3.MediaType;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import okhttp3.RequestBody;
import okhttp3.Response;
import okio.BufferedSink;

/**
 * The OpenAI Java SDK's transport ({@link com.openai.core.http.HttpClient}) over an
 * {@link OkHttpClient} (OkHttp 5) that carries llmpool's interceptor. {@link LlmPoolOpenAI} builds
 * one for a pool; build one yourself only to wire your own OkHttpClient.
 *
 * <p>It turns the SDK's request (method, base URL and path segments, query parameters, headers,
 * body) into an OkHttp {@link Request} and OkHttp's {@link Response} back into the SDK's
 * {@link HttpResponse}, the body left a live stream so the SDK's SSE reader gets events as they
 * arrive. Unlike the SDK's own OkHttp transport it adds no network interceptor: in particular none
 * that removes {@code Authorization} or {@code api-key} when the wire host differs from the
 * call's URL, which the pool's rewrite always makes it.
 *
 * <ul>
 *   <li>SDK JSON bodies are repeatable and stay so, so the pool can read and rewrite {@code model}
 *       and replay the body on failover; one-shot uploads say they are one-shot.
 *   <li>The SDK's per-request timeouts ({@link RequestOptions#getTimeout()}: connect, read, write,
 *       request) apply to each call. A client with other timeouts than the OkHttpClient's is
 *       derived with {@link OkHttpClient#newBuilder()} (same dispatcher, connections and
 *       interceptors) and kept for the next call with the same timeouts.
 *   <li>{@link #executeAsync} enqueues on the OkHttp dispatcher; cancelling the future cancels the
 *       call.
 *   <li>The SDK closes its transport when its client is closed or becomes unreachable. A
 *       {@linkplain #borrowing borrowing} transport then only refuses new calls; an
 *       {@linkplain #owning owning} one also shuts the dispatcher's threads down and evicts the
 *       idle connections.
 *   <li>It is not a {@code com.openai.core.http.WebSocketClient}: the SDK's WebSocket (Realtime)
 *       calls are not supported through it.
 * </ul>
 *
 * <p>Thread-safe.
 */
public final class LlmPoolHttpClient implements HttpClient {

  private final OkHttpClient okHttp;
  private final boolean ownsClient;
  private final AtomicBoolean closed = new AtomicBoolean();
  /** The client last derived for timeouts other than okHttp's, with those timeouts. */
  private volatile Derived derived;

  private record Derived(Timeout timeout, OkHttpClient client) {}

  private LlmPoolHttpClient(OkHttpClient okHttp, boolean ownsClient) {
    this.okHttp = Objects.requireNonNull(okHttp, "okHttp");
    this.ownsClient = ownsClient;
  }

  /**
   * A transport over {@code okHttp} that leaves its threads and connections alone when closed.
   * {@code okHttp} must already carry the pool's interceptor.
   */
  public static LlmPoolHttpClient borrowing(OkHttpClient okHttp) {
    return new LlmPoolHttpClient(okHttp, false);
  }

  /**
   * A transport over {@code okHttp} that shuts its dispatcher's threads down and evicts its idle
   * connections when closed. {@code okHttp} must already carry the pool's interceptor.
   */
  public static LlmPoolHttpClient owning(OkHttpClient okHttp) {
    return new LlmPoolHttpClient(okHttp, true);
  }

  /** The OkHttpClient calls go through (with the pool's interceptor). */
  public OkHttpClient okHttpClient() {
    return okHttp;
  }

  @Override
  public HttpResponse execute(HttpRequest request, RequestOptions requestOptions) {
    try {
      Call call = newCall(request, requestOptions);
      return new OkHttpResponse(call.execute());
    } catch (IOException e) {
      throw new OpenAIIoException("Request failed", e);
    } finally {
      // The SDK hands each body to one transport attempt and expects it closed after that.
      closeQuietly(request.body());
    }
  }

  @Override
  public CompletableFuture<HttpResponse> executeAsync(HttpRequest request, RequestOptions requestOptions) {
    CompletableFuture<HttpResponse> future = new CompletableFuture<>();
    future.whenComplete((r, e) -> closeQuietly(request.body()));
    Call call;
    try {
      call = newCall(request, requestOptions);
    } catch (RuntimeException e) {
      future.completeExceptionally(e);
      return future;
    }
    future.whenComplete((r, e) -> {
      if (e instanceof CancellationException) {
        call.cancel();
      }
    });
    call.enqueue(new Callback() {
      @Override
      public void onResponse(Call c, Response response) {
        HttpResponse httpResponse = new OkHttpResponse(response);
        if (!future.complete(httpResponse)) {
          httpResponse.close(); // cancelled meanwhile: nobody will read it
        }
      }

      @Override
      public void onFailure(Call c, IOException e) {
        future.completeExceptionally(new OpenAIIoException("Request failed", e));
      }
    });
    return future;
  }

  @Override
  public void close() {
    if (closed.compareAndSet(false, true) && ownsClient) {
      okHttp.dispatcher().executorService().shutdown();
      okHttp.connectionPool().evictAll();
      if (okHttp.cache() != null) {
        try {
          okHttp.cache().close();
        } catch (IOException ignored) {
          // best effort
        }
      }
    }
  }

  @Override
  public String toString() {
    return "LlmPoolHttpClient{" + (ownsClient ? "owning" : "borrowing") + (closed.get() ? ", closed" : "") + "}";
  }

  private Call newCall(HttpRequest request, RequestOptions requestOptions) {
    if (closed.get()) {
      throw new IllegalStateException("LlmPoolHttpClient is closed");
    }
    return clientFor(requestOptions.getTimeout()).newCall(toOkHttpRequest(request));
  }

  private OkHttpClient clientFor(Timeout timeout) {
    if (timeout == null || sameTimeouts(okHttp, timeout)) {
      return okHttp;
    }
    Derived d = derived;
    if (d != null && d.timeout().equals(timeout)) {
      return d.client();
    }
    // newBuilder() shares the dispatcher, connection pool and interceptors (the pool's included).
    OkHttpClient client = okHttp.newBuilder()
        .connectTimeout(timeout.connect())
        .readTimeout(timeout.read())
        .writeTimeout(timeout.write())
        .callTimeout(timeout.request())
        .build();
    derived = new Derived(timeout, client);
    return client;
  }

  private static boolean sameTimeouts(OkHttpClient c, Timeout t) {
    return millis(t.connect()) == c.connectTimeoutMillis()
        && millis(t.read()) == c.readTimeoutMillis()
        && millis(t.write()) == c.writeTimeoutMillis()
        && millis(t.request()) == c.callTimeoutMillis();
  }

  private static long millis(Duration d) {
    return TimeUnit.NANOSECONDS.toMillis(d.toNanos());
  }

  static Request toOkHttpRequest(HttpRequest request) {
    HttpUrl.Builder url = HttpUrl.get(request.baseUrl()).newBuilder();
    for (String segment : request.pathSegments()) {
      url.addPathSegment(segment); // replaces a trailing empty segment, so ".../v1/" + "chat" works
    }
    for (String key : request.queryParams().keys()) {
      for (String value : request.queryParams().values(key)) {
        url.addQueryParameter(key, value);
      }
    }

    Request.Builder builder = new Request.Builder().url(url.build());
    Headers headers = request.headers();
    for (String name : headers.names()) {
      for (String value : headers.values(name)) {
        builder.addHeader(name, value);
      }
    }

    RequestBody body = request.body() == null ? null : new SdkRequestBody(request.body());
    if (body == null && requiresBody(request.method())) {
      body = RequestBody.create(new byte[0], null);
    }
    return builder.method(request.method().name(), body).build();
  }

  private static boolean requiresBody(HttpMethod method) {
    return method == HttpMethod.POST || method == HttpMethod.PUT || method == HttpMethod.PATCH;
  }

  private static void closeQuietly(HttpRequestBody body) {
    if (body != null) {
      try {
        body.close();
      } catch (RuntimeException ignored) {
        // closing is best effort
      }
    }
  }

  /**
   * The SDK's body as an OkHttp body. SDK JSON bodies are repeatable (a byte array), which lets
   * the pool read and rewrite {@code model} and replay the body on failover; streamed uploads are
   * one-shot and say so.
   */
  private static final class SdkRequestBody extends RequestBody {
    private final HttpRequestBody body;
    private final MediaType contentType;

    SdkRequestBody(HttpRequestBody body) {
      this.body = body;
      String type = body.contentType();
      this.contentType = type == null ? null : MediaType.parse(type);
    }

    @Override
    public MediaType contentType() {
      return contentType;
    }

    @Override
    public long contentLength() {
      return body.contentLength();
    }

    @Override
    public boolean isOneShot() {
      return !body.repeatable();
    }

    @Override
    public void writeTo(BufferedSink sink) {
      body.writeTo(sink.outputStream());
    }
  }

  /** OkHttp's response as the SDK's; the body stays a live stream until read or closed. */
  private static final class OkHttpResponse implements HttpResponse {
    private final Response response;
    private final Headers headers;

    OkHttpResponse(Response response) {
      this.response = response;
      Headers.Builder h = Headers.builder();
      okhttp3.Headers received = response.headers();
      for (int i = 0; i < received.size(); i++) {
        h.put(received.name(i), received.value(i));
      }
      this.headers = h.build();
    }

    @Override
    public int statusCode() {
      return response.code();
    }

    @Override
    public Headers headers() {
      return headers;
    }

    @Override
    public InputStream body() {
      return response.body().byteStream();
    }

    @Override
    public void close() {
      response.close();
    }
  }
}
