package io.github.llmpool.samples;

import static dev.langchain4j.http.client.sse.ServerSentEventListenerUtils.ignoringExceptions;

import dev.langchain4j.exception.HttpException;
import dev.langchain4j.exception.TimeoutException;
import dev.langchain4j.http.client.FormDataFile;
import dev.langchain4j.http.client.HttpClient;
import dev.langchain4j.http.client.HttpClientBuilder;
import dev.langchain4j.http.client.HttpRequest;
import dev.langchain4j.http.client.SuccessfulHttpResponse;
import dev.langchain4j.http.client.sse.ServerSentEventListener;
import dev.langchain4j.http.client.sse.ServerSentEventParser;
import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import okhttp3.Call;
import okhttp3.Callback;
import okhttp3.MediaType;
import okhttp3.MultipartBody;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import okhttp3.RequestBody;
import okhttp3.Response;

/**
 * LangChain4j's HTTP client SPI ({@link dev.langchain4j.http.client.HttpClient}) over an
 * {@link okhttp3.OkHttpClient} that carries llmpool's interceptor. LangChain4j ships no OkHttp
 * client module, so this is the bridge; hand it to a model with {@code httpClientBuilder(...)}:
 *
 * <pre>{@code
 * OkHttpClient okHttp = new OkHttpClient.Builder().addInterceptor(pool.interceptor()).build();
 * OpenAiChatModel model = OpenAiChatModel.builder()
 *     .httpClientBuilder(LangChain4jOkHttpClient.builder().okHttpClient(okHttp))
 *     .baseUrl(pool.baseUrl().toString())
 *     .apiKey("unused")   // the pool replaces auth per provider
 *     .modelName("gpt-4o-mini")
 *     .maxRetries(0)      // llmpool owns retries and failover
 *     .build();
 * }</pre>
 *
 * <p>Sync calls buffer the answer (as LangChain4j's JDK client does); SSE calls run on OkHttp's
 * dispatcher and feed the response body, as a live stream, to LangChain4j's event parser.
 */
public final class LangChain4jOkHttpClient implements HttpClient {

  private static final MediaType JSON = MediaType.get("application/json");

  private final OkHttpClient okHttp;

  private LangChain4jOkHttpClient(OkHttpClient okHttp) {
    this.okHttp = okHttp;
  }

  public static Builder builder() {
    return new Builder();
  }

  @Override
  public SuccessfulHttpResponse execute(HttpRequest request) {
    try (Response response = okHttp.newCall(toOkHttpRequest(request)).execute()) {
      byte[] body = response.body().bytes();
      if (!response.isSuccessful()) {
        throw new HttpException(response.code(), new String(body, StandardCharsets.UTF_8));
      }
      return toSuccessfulResponse(response, body);
    } catch (IOException e) {
      throw isTimeout(e) ? new TimeoutException(e) : new RuntimeException(e);
    }
  }

  @Override
  public void execute(HttpRequest request, ServerSentEventParser parser, ServerSentEventListener listener) {
    Call call;
    try {
      call = okHttp.newCall(toOkHttpRequest(request));
    } catch (RuntimeException e) {
      ignoringExceptions(() -> listener.onError(e));
      return;
    }
    call.enqueue(new Callback() {
      @Override
      public void onFailure(Call c, IOException e) {
        ignoringExceptions(() -> listener.onError(isTimeout(e) ? new TimeoutException(e) : e));
      }

      @Override
      public void onResponse(Call c, Response response) {
        try (response) {
          if (!response.isSuccessful()) {
            HttpException error = new HttpException(response.code(), readBody(response));
            ignoringExceptions(() -> listener.onError(error));
            return;
          }
          SuccessfulHttpResponse opened = toSuccessfulResponse(response, null);
          ignoringExceptions(() -> listener.onOpen(opened));
          try (InputStream events = response.body().byteStream()) {
            parser.parse(events, listener); // reports its own read errors to the listener
          } catch (IOException e) {
            ignoringExceptions(() -> listener.onError(e));
            return;
          }
          ignoringExceptions(listener::onClose);
        }
      }
    });
  }

  static Request toOkHttpRequest(HttpRequest request) {
    Request.Builder builder = new Request.Builder().url(request.url());
    String contentType = null;
    for (Map.Entry<String, List<String>> header : request.headers().entrySet()) {
      if (header.getValue() == null) {
        continue;
      }
      for (String value : header.getValue()) {
        builder.addHeader(header.getKey(), value);
        if ("content-type".equalsIgnoreCase(header.getKey())) {
          contentType = value;
        }
      }
    }

    RequestBody body = null;
    if (!request.formDataFields().isEmpty() || !request.formDataFiles().isEmpty()) {
      MultipartBody.Builder multipart = new MultipartBody.Builder().setType(MultipartBody.FORM);
      request.formDataFields().forEach(multipart::addFormDataPart);
      for (Map.Entry<String, FormDataFile> file : request.formDataFiles().entrySet()) {
        FormDataFile f = file.getValue();
        MediaType type = f.contentType() == null ? null : MediaType.parse(f.contentType());
        multipart.addFormDataPart(file.getKey(), f.fileName(), RequestBody.create(f.content(), type));
      }
      builder.removeHeader("Content-Type"); // the multipart body sets its own, with the boundary
      body = multipart.build();
    } else if (request.body() != null) {
      MediaType type = contentType == null ? JSON : MediaType.parse(contentType);
      body = RequestBody.create(request.body().getBytes(StandardCharsets.UTF_8), type);
    } else if (requiresBody(request.method().name())) {
      body = RequestBody.create(new byte[0], null);
    }
    return builder.method(request.method().name(), body).build();
  }

  private static boolean requiresBody(String method) {
    return method.equals("POST") || method.equals("PUT") || method.equals("PATCH");
  }

  private static SuccessfulHttpResponse toSuccessfulResponse(Response response, byte[] body) {
    return SuccessfulHttpResponse.builder()
        .statusCode(response.code())
        .headers(response.headers().toMultimap())
        .body(body)
        .build();
  }

  private static String readBody(Response response) {
    try {
      return response.body().string();
    } catch (IOException e) {
      return "Cannot read error response body: " + e.getMessage();
    }
  }

  private static boolean isTimeout(IOException e) {
    // OkHttp: read/connect timeouts are SocketTimeoutException; the call timeout is an
    // InterruptedIOException("timeout").
    return e instanceof SocketTimeoutException
        || (e instanceof InterruptedIOException && "timeout".equals(e.getMessage()));
  }

  /**
   * LangChain4j's {@link HttpClientBuilder}: takes the pooled {@link OkHttpClient} and applies the
   * model's connect and read timeouts to a {@link OkHttpClient#newBuilder() derived} client, which
   * shares its dispatcher, connections and interceptors (the pool's included).
   */
  public static final class Builder implements HttpClientBuilder {
    private OkHttpClient okHttpClient;
    private Duration connectTimeout;
    private Duration readTimeout;

    private Builder() {}

    /** The client to send through; it should carry {@code pool.interceptor()}. */
    public Builder okHttpClient(OkHttpClient okHttpClient) {
      this.okHttpClient = Objects.requireNonNull(okHttpClient, "okHttpClient");
      return this;
    }

    @Override
    public Duration connectTimeout() {
      return connectTimeout;
    }

    @Override
    public Builder connectTimeout(Duration timeout) {
      this.connectTimeout = timeout;
      return this;
    }

    @Override
    public Duration readTimeout() {
      return readTimeout;
    }

    @Override
    public Builder readTimeout(Duration timeout) {
      this.readTimeout = timeout;
      return this;
    }

    @Override
    public LangChain4jOkHttpClient build() {
      if (okHttpClient == null) {
        throw new IllegalStateException("okHttpClient(...) is required");
      }
      OkHttpClient.Builder b = okHttpClient.newBuilder();
      if (connectTimeout != null) {
        b.connectTimeout(connectTimeout);
      }
      if (readTimeout != null) {
        b.readTimeout(readTimeout);
      }
      return new LangChain4jOkHttpClient(b.build());
    }
  }
}
