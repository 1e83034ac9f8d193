package io.github.llmpool.langchain4j;

import dev.langchain4j.exception.HttpException;
import dev.langchain4j.exception.TimeoutException;
import dev.langchain4j.http.client.FormDataFile;
import dev.langchain4j.http.client.HttpClient;
import dev.langchain4j.http.client.HttpRequest;
import dev.langchain4j.http.client.SuccessfulHttpResponse;
import dev.langchain4j.http.client.sse.ServerSentEvent;
import dev.langchain4j.http.client.sse.ServerSentEventContext;
import dev.langchain4j.http.client.sse.ServerSentEventListener;
import dev.langchain4j.http.client.sse.ServerSentEventParser;
import io.github.llmpool.LlmPoolException;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.io.UncheckedIOException;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicBoolean;
import okhttp3.Call;
import okhttp3.Callback;
import okhttp3.MediaType;
import okhttp3.MultipartBody;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import okhttp3.RequestBody;
import okhttp3.Response;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * LangChain4j's {@link HttpClient} over an {@link OkHttpClient} that carries an llmpool pool's (or
 * router's) interceptor. Built by {@link LlmPoolHttpClientBuilder#build()}, which LangChain4j's
 * models call themselves; see {@link LlmPoolLangChain4j}.
 *
 * <ul>
 *   <li>{@link #execute(HttpRequest)}: one blocking OkHttp call; the body is buffered, as with
 *       LangChain4j's JDK client. A 2xx answer is returned; another answer is thrown as
 *       LangChain4j's {@link HttpException} (its status and body), except when the pool gave up
 *       on it (see below).
 *   <li>{@link #execute(HttpRequest, ServerSentEventParser, ServerSentEventListener)}: an
 *       asynchronous OkHttp call (it runs on the OkHttp dispatcher, whose per-host limit the
 *       builder sets); the response body is handed, as a live stream, to LangChain4j's event
 *       parser. The listener gets {@code onOpen}, the events, then exactly one of
 *       {@code onClose} or {@code onError}. A stream cancelled through LangChain4j's streaming
 *       handle ends quietly.
 * </ul>
 *
 * <p><b>The pool's give-up is not retried by LangChain4j.</b> When the pool has already failed
 * over and given up (its final answer carries {@code x-should-retry: false}, or it threw an
 * {@link LlmPoolException}) and LangChain4j would retry the failure (429, 408, 5xx, I/O errors),
 * the client throws (or reports) a {@link PoolGaveUpException}, a
 * {@code NonRetriableException}: {@code maxRetries} then does not multiply upstream requests.
 * Read and connect timeouts that the pool did not handle (the stream stalls after its headers)
 * are LangChain4j's {@link TimeoutException}.
 *
 * <p>Thread-safe; share it. It holds no credential: the pool signs each request for the provider
 * it chooses and removes whatever {@code Authorization} LangChain4j set.
 */
public final class LlmPoolHttpClient implements HttpClient {
  private static final Logger LOG = LoggerFactory.getLogger(LlmPoolHttpClient.class);
  private static final MediaType JSON = MediaType.get("application/json");
  private static final String SHOULD_RETRY = "x-should-retry";

  private final OkHttpClient okHttp;

  LlmPoolHttpClient(OkHttpClient okHttp) {
    this.okHttp = Objects.requireNonNull(okHttp, "okHttp");
  }

  /**
   * The OkHttp client the calls go through (the pool's interceptor, redirect guard, dispatcher,
   * and the model's connect and read timeouts).
   *
   * @return the OkHttp client
   */
  public OkHttpClient okHttpClient() {
    return okHttp;
  }

  /**
   * Sends {@code request} and waits for the whole answer.
   *
   * @param request LangChain4j's request (its URL under the pool's base URL)
   * @return the 2xx answer, its body buffered
   * @throws PoolGaveUpException when the pool gave up on the request after its own failover
   * @throws HttpException on any other non-2xx answer
   * @throws TimeoutException on a connect or read timeout the pool did not handle
   * @throws UncheckedIOException on another I/O failure
   */
  @Override
  public SuccessfulHttpResponse execute(HttpRequest request) {
    Request okRequest = toOkHttpRequest(request);
    try (Response response = okHttp.newCall(okRequest).execute()) {
      byte[] body = response.body().bytes();
      if (!response.isSuccessful()) {
        throw httpError(response, new String(body, StandardCharsets.UTF_8));
      }
      return toSuccessfulResponse(response, body);
    } catch (IOException e) {
      throw failure(e);
    }
  }

  /**
   * Sends {@code request} on the OkHttp dispatcher and feeds the answer's body, as it arrives, to
   * {@code parser}, which reports the events to {@code listener}. Returns at once.
   *
   * @param request LangChain4j's request (its URL under the pool's base URL)
   * @param parser LangChain4j's server-sent-event parser
   * @param listener gets {@code onOpen}, the events, then {@code onClose} or {@code onError} (a
   *     {@link PoolGaveUpException}, {@link HttpException}, {@link TimeoutException} or the
   *     I/O failure)
   */
  @Override
  public void execute(HttpRequest request, ServerSentEventParser parser, ServerSentEventListener listener) {
    Objects.requireNonNull(parser, "parser");
    OnceListener once = new OnceListener(Objects.requireNonNull(listener, "listener"));
    Call call;
    try {
      call = okHttp.newCall(toOkHttpRequest(request));
    } catch (RuntimeException e) {
      once.onError(e);
      return;
    }
    call.enqueue(new Callback() {
      @Override
      public void onFailure(Call c, IOException e) {
        once.onError(failure(e));
      }

      @Override
      public void onResponse(Call c, Response response) {
        try (response) {
          if (!response.isSuccessful()) {
            once.onError(httpError(response, readBody(response)));
            return;
          }
          once.onOpen(toSuccessfulResponse(response, null));
          try (CancellableStream events = new CancellableStream(response.body().byteStream())) {
            parser.parse(events, once); // reports its own read errors to the listener
          } catch (IOException e) { // closing
            LOG.debug("closing the event stream failed", e);
          } catch (RuntimeException e) {
            once.onError(e);
          }
          once.onClose();
        }
      }
    });
  }

  /** The exception for a non-2xx answer: the pool's give-up, or LangChain4j's own. */
  static RuntimeException httpError(Response response, String body) {
    int code = response.code();
    if ("false".equalsIgnoreCase(response.header(SHOULD_RETRY)) && retriedByLangChain4j(code)) {
      return new PoolGaveUpException(code, body, response.headers().toMultimap());
    }
    return new HttpException(code, body);
  }

  /**
   * Whether LangChain4j 1.x retries an {@link HttpException} of this status: its default exception
   * mapper makes 5xx an {@code InternalServerException}, 408 a {@code TimeoutException}, 429 a
   * {@code RateLimitException} (all retriable) and leaves other non-4xx statuses an
   * {@code HttpException} (retried too); 401, 403, 404 and the other 4xx are non-retriable.
   */
  static boolean retriedByLangChain4j(int code) {
    return code < 400 || code >= 500 || code == 408 || code == 429;
  }

  /** The exception for an I/O failure of the call. */
  static RuntimeException failure(IOException e) {
    if (e instanceof LlmPoolException pool) {
      return new PoolGaveUpException(pool);
    }
    if (isTimeout(e)) {
      return new TimeoutException(e);
    }
    return new UncheckedIOException(e);
  }

  static boolean isTimeout(Throwable e) {
    // OkHttp: connect and read timeouts are SocketTimeoutException; its call timeout is an
    // InterruptedIOException("timeout").
    return e instanceof SocketTimeoutException
        || (e instanceof InterruptedIOException && "timeout".equals(e.getMessage()));
  }

  static Request toOkHttpRequest(HttpRequest request) {
    Request.Builder builder = new Request.Builder().url(request.url());
    String contentType = null;
    for (Map.Entry<String, List<String>> header : request.headers().entrySet()) {
      if (header.getValue() == null) {
        continue;
      }
      for (String value : header.getValue()) {
        if (value == null) {
          continue;
        }
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

  @Override
  public String toString() {
    return "LlmPoolHttpClient{connectTimeout=" + okHttp.connectTimeoutMillis() + "ms, readTimeout="
        + okHttp.readTimeoutMillis() + "ms, maxRequestsPerHost=" + okHttp.dispatcher().getMaxRequestsPerHost() + "}";
  }

  /**
   * The listener as LangChain4j's contract wants it: listener exceptions are logged and ignored
   * (as LangChain4j's own clients do), and the stream ends with exactly one of {@code onClose} or
   * {@code onError} (LangChain4j's JDK client calls {@code onClose} after a parse error too, and
   * the OpenAI models would then report a completed response after the error). A read timeout
   * during the stream is reported as LangChain4j's {@link TimeoutException}.
   */
  private static final class OnceListener implements ServerSentEventListener {
    private final ServerSentEventListener delegate;
    private final AtomicBoolean ended = new AtomicBoolean();

    OnceListener(ServerSentEventListener delegate) {
      this.delegate = delegate;
    }

    @Override
    public void onOpen(SuccessfulHttpResponse response) {
      quietly(() -> delegate.onOpen(response));
    }

    @Override
    public void onEvent(ServerSentEvent event, ServerSentEventContext context) {
      if (!ended.get()) {
        quietly(() -> delegate.onEvent(event, context));
      }
    }

    @Override
    public void onEvent(ServerSentEvent event) {
      if (!ended.get()) {
        quietly(() -> delegate.onEvent(event));
      }
    }

    @Override
    public void onError(Throwable t) {
      if (ended.compareAndSet(false, true)) {
        Throwable error = t instanceof IOException io ? failure(io) : t;
        quietly(() -> delegate.onError(error));
      }
    }

    @Override
    public void onClose() {
      if (ended.compareAndSet(false, true)) {
        quietly(delegate::onClose);
      }
    }

    private static void quietly(Runnable r) {
      try {
        r.run();
      } catch (RuntimeException e) {
        LOG.warn("An exception occurred during the invocation of the SSE listener. This exception has been ignored.", e);
      }
    }
  }

  /**
   * The response body as the parser reads it. LangChain4j cancels a stream by closing this
   * stream from another thread (its {@code DefaultServerSentEventParsingHandle}); reads after that
   * end the stream (EOF) instead of failing, so a cancelled stream is not reported as an error.
   */
  private static final class CancellableStream extends FilterInputStream {
    private volatile boolean closed;

    CancellableStream(InputStream in) {
      super(in);
    }

    @Override
    public int read() throws IOException {
      try {
        return closed ? -1 : super.read();
      } catch (IOException e) {
        if (closed) {
          return -1;
        }
        throw e;
      }
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
      try {
        return closed ? -1 : super.read(b, off, len);
      } catch (IOException e) {
        if (closed) {
          return -1;
        }
        throw e;
      }
    }

    @Override
    public void close() throws IOException {
      closed = true;
      super.close();
    }
  }
}
