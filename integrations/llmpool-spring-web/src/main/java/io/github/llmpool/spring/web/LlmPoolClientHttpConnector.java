package io.github.llmpool.spring.web;

import java.io.IOException;
import java.net.HttpCookie;
import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.function.Function;
import java.util.stream.Collectors;
import okhttp3.Call;
import okhttp3.Callback;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import okhttp3.Response;
import okio.Buffer;
import okio.BufferedSource;
import org.reactivestreams.Publisher;
import org.springframework.core.io.buffer.DataBuffer;
import org.springframework.core.io.buffer.DataBufferFactory;
import org.springframework.core.io.buffer.DataBufferUtils;
import org.springframework.core.io.buffer.DefaultDataBufferFactory;
import org.springframework.http.HttpHeaders;
import org.springframework.http.HttpMethod;
import org.springframework.http.HttpStatusCode;
import org.springframework.http.ResponseCookie;
import org.springframework.http.client.reactive.AbstractClientHttpRequest;
import org.springframework.http.client.reactive.AbstractClientHttpResponse;
import org.springframework.http.client.reactive.ClientHttpConnector;
import org.springframework.http.client.reactive.ClientHttpRequest;
import org.springframework.http.client.reactive.ClientHttpResponse;
import org.springframework.util.LinkedMultiValueMap;
import org.springframework.util.MultiValueMap;
import reactor.core.publisher.Flux;
import reactor.core.publisher.FluxSink;
import reactor.core.publisher.Mono;
import reactor.core.publisher.MonoSink;

/**
 * A Spring WebFlux {@link ClientHttpConnector} (for {@code WebClient}) over an OkHttp 5 client,
 * usually one carrying an llmpool pool's interceptor
 * ({@link LlmPoolSpring#connector(io.github.llmpool.ProviderPool)}).
 *
 * <p>How it maps WebFlux onto OkHttp, which has no non-blocking body API:
 *
 * <ul>
 *   <li><b>Request body</b>: the reactive body is collected (without blocking) into one replayable
 *       OkHttp body before the call starts. The pool needs that: it reads a JSON body to rewrite
 *       the model per provider and writes it again to the next provider on failover, which a
 *       one-shot streamed body would not allow. LLM request bodies are small; streamed uploads
 *       of unknown size are held in memory.
 *   <li><b>Call</b>: started with OkHttp's asynchronous {@code enqueue}, so no caller thread
 *       waits for the response. Cancelling the subscription before the response arrives cancels
 *       the OkHttp call (and so the pool's attempt upstream).
 *   <li><b>Response body</b>: a {@code Flux<DataBuffer>} read incrementally from the socket, at
 *       most {@value #CHUNK_SIZE} bytes per buffer, each read only when the subscriber has
 *       demand (backpressure honoured: at most one chunk is read ahead of demand). Server-sent
 *       events reach the subscriber as they arrive. The reads run on the OkHttp dispatcher's
 *       thread that delivered the response (a thread of OkHttp's unbounded pool that may block,
 *       not an event loop, not a Reactor scheduler), so no thread blocks per chunk elsewhere and
 *       each streamed answer keeps exactly one thread until it ends. Cancelling the body's
 *       subscription cancels the OkHttp call: the upstream connection is closed at once.
 *   <li><b>Concurrency</b>: a streamed call holds its dispatcher slot until its body ends, so
 *       the dispatcher's limits ({@code pool.configure(builder)} sets 64, all to the pool's one
 *       virtual host) are the limit of concurrent exchanges, streamed ones included; calls past
 *       it wait in the dispatcher's queue.
 *   <li><b>An abandoned body</b> (a response whose body nobody subscribes to; {@code WebClient}
 *       itself always consumes or releases it) is closed after the client's read timeout.
 * </ul>
 *
 * <p>Built against Spring Framework 6.2 and tested on 6.2 and 7.0. Thread-safe.
 */
public final class LlmPoolClientHttpConnector implements ClientHttpConnector {

  /** The largest {@link DataBuffer} of a response body, in bytes: {@value}. */
  public static final int CHUNK_SIZE = 8192;

  private volatile OkHttpClient client;
  private volatile DataBufferFactory bufferFactory = DefaultDataBufferFactory.sharedInstance;

  /**
   * A connector sending every request through {@code client}. Add the pool's interceptor to the
   * client yourself ({@code pool.configure(builder)}), or use {@link LlmPoolSpring#connector}.
   *
   * @param client the OkHttp client to send with; not closed by this connector
   */
  public LlmPoolClientHttpConnector(OkHttpClient client) {
    this.client = Objects.requireNonNull(client, "client");
  }

  /**
   * The OkHttp client requests are sent with (after the timeouts set here).
   *
   * @return the current client
   */
  public OkHttpClient okHttpClient() {
    return client;
  }

  /**
   * Sets the factory of the response's data buffers ({@link DefaultDataBufferFactory} unless set).
   *
   * @param bufferFactory the factory
   */
  public void setBufferFactory(DataBufferFactory bufferFactory) {
    this.bufferFactory = Objects.requireNonNull(bufferFactory, "bufferFactory");
  }

  /**
   * Sets the connect timeout (zero: none).
   *
   * @param timeout the timeout, not negative
   */
  public void setConnectTimeout(Duration timeout) {
    Duration t = LlmPoolClientHttpRequestFactory.check("connectTimeout", timeout);
    client = client.newBuilder().connectTimeout(t).build();
  }

  /**
   * Sets the read timeout: the longest silence between two reads of the response (zero: none).
   * For streamed answers this bounds the pause between events, not the whole answer.
   *
   * @param timeout the timeout, not negative
   */
  public void setReadTimeout(Duration timeout) {
    Duration t = LlmPoolClientHttpRequestFactory.check("readTimeout", timeout);
    client = client.newBuilder().readTimeout(t).build();
  }

  /**
   * Sets the write timeout (zero: none).
   *
   * @param timeout the timeout, not negative
   */
  public void setWriteTimeout(Duration timeout) {
    Duration t = LlmPoolClientHttpRequestFactory.check("writeTimeout", timeout);
    client = client.newBuilder().writeTimeout(t).build();
  }

  /**
   * Sets the call timeout: the longest a whole exchange may take, the pool's failover attempts
   * and the streamed body included (zero: none).
   *
   * @param timeout the timeout, not negative
   */
  public void setCallTimeout(Duration timeout) {
    Duration t = LlmPoolClientHttpRequestFactory.check("callTimeout", timeout);
    client = client.newBuilder().callTimeout(t).build();
  }

  @Override
  public Mono<ClientHttpResponse> connect(HttpMethod method, URI uri,
      Function<? super ClientHttpRequest, Mono<Void>> requestCallback) {
    Objects.requireNonNull(method, "method");
    Objects.requireNonNull(uri, "uri");
    OkHttpClient c = client;
    DataBufferFactory buffers = bufferFactory;
    ReactiveRequest request = new ReactiveRequest(new RequestLine(method, uri), buffers);
    return requestCallback.apply(request).then(Mono.defer(() -> send(c, request.toOkHttp(), buffers)));
  }

  @Override
  public String toString() {
    return "LlmPoolClientHttpConnector{" + client.interceptors().size() + " interceptors}";
  }

  private static Mono<ClientHttpResponse> send(OkHttpClient client, Request request, DataBufferFactory buffers) {
    return Mono.create(sink -> {
      Call call = client.newCall(request);
      sink.onCancel(call::cancel);
      call.enqueue(new Callback() {
        @Override
        public void onFailure(Call c, IOException e) {
          if (!c.isCanceled()) {
            sink.error(e);
          }
        }

        @Override
        public void onResponse(Call c, Response response) {
          deliver(sink, c, response, buffers, client.readTimeoutMillis());
        }
      });
    });
  }

  /** On the OkHttp thread: hands the response on, then reads its body as the subscriber asks. */
  private static void deliver(MonoSink<ClientHttpResponse> sink, Call call, Response response,
      DataBufferFactory buffers, long abandonMillis) {
    if (call.isCanceled()) {
      response.close(); // the subscriber went away while the response was on its way
      return;
    }
    BodyPump pump = new BodyPump(call, response, buffers, abandonMillis);
    ReactiveResponse r;
    try {
      r = new ReactiveResponse(response, Flux.create(pump::attach, FluxSink.OverflowStrategy.BUFFER));
    } catch (RuntimeException e) {
      response.close();
      sink.error(e);
      return;
    }
    sink.success(r);
    pump.run();
  }

  /** Reads a response body on the thread that calls {@link #run()}, chunk by chunk, on demand. */
  private static final class BodyPump {
    private final Call call;
    private final Response response;
    private final DataBufferFactory buffers;
    private final long abandonMillis;
    private final Object lock = new Object();
    private FluxSink<DataBuffer> sink; // guarded by lock
    private boolean cancelled; // guarded by lock
    private volatile boolean finished; // the body ended (or failed) and we signalled it

    BodyPump(Call call, Response response, DataBufferFactory buffers, long abandonMillis) {
      this.call = call;
      this.response = response;
      this.buffers = buffers;
      this.abandonMillis = abandonMillis;
    }

    void attach(FluxSink<DataBuffer> s) {
      synchronized (lock) {
        if (sink != null) {
          s.error(new IllegalStateException("the response body can be subscribed to only once"));
          return;
        }
        sink = s;
        lock.notifyAll();
      }
      s.onRequest(n -> signal());
      s.onDispose(this::cancel); // cancel, or the end we signalled ourselves (then a no-op for OkHttp)
    }

    private void signal() {
      synchronized (lock) {
        lock.notifyAll();
      }
    }

    private void cancel() {
      if (finished) {
        return; // our own complete/error disposes the sink: nothing to cancel
      }
      synchronized (lock) {
        cancelled = true;
        lock.notifyAll();
      }
      call.cancel(); // unblocks a read in progress
    }

    /** Waits for a subscriber with demand; false if cancelled or abandoned. */
    private FluxSink<DataBuffer> awaitDemand() throws InterruptedException {
      synchronized (lock) {
        long deadline = abandonMillis > 0 ? System.nanoTime() + abandonMillis * 1_000_000L : Long.MAX_VALUE;
        while (sink == null && !cancelled && !call.isCanceled()) {
          long left = deadline - System.nanoTime();
          if (left <= 0) {
            return null; // nobody subscribed to the body: close it
          }
          lock.wait(Math.max(1, Math.min(left / 1_000_000L, 1000)));
        }
        while (!cancelled && !call.isCanceled() && sink.requestedFromDownstream() <= 0) {
          lock.wait(1000); // woken by request(n) or cancel; the timeout only re-checks
        }
        return cancelled || call.isCanceled() ? null : sink;
      }
    }

    void run() {
      FluxSink<DataBuffer> s = null;
      try (Response r = response) {
        BufferedSource source = r.body().source();
        Buffer chunk = new Buffer();
        while (true) {
          s = awaitDemand();
          if (s == null) {
            return;
          }
          long n = source.read(chunk, CHUNK_SIZE);
          if (n == -1) {
            finished = true;
            s.complete();
            return;
          }
          s.next(buffers.wrap(chunk.readByteArray()));
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        call.cancel();
        if (s != null) {
          finished = true;
          s.error(new IOException("interrupted while waiting for demand", e));
        }
      } catch (IOException | RuntimeException e) {
        boolean quiet;
        synchronized (lock) {
          quiet = cancelled;
          if (s == null) {
            s = sink;
          }
        }
        if (!quiet && s != null) {
          finished = true;
          s.error(e);
        }
      }
    }
  }

  /** A WebFlux request collected into an OkHttp request. */
  private static final class ReactiveRequest extends AbstractClientHttpRequest {
    private final RequestLine line;
    private final DataBufferFactory bufferFactory;
    private byte[] body;
    private Request built;

    ReactiveRequest(RequestLine line, DataBufferFactory bufferFactory) {
      this.line = line;
      this.bufferFactory = bufferFactory;
    }

    @Override
    public HttpMethod getMethod() {
      return line.method();
    }

    @Override
    public URI getURI() {
      return line.uri();
    }

    @Override
    public DataBufferFactory bufferFactory() {
      return bufferFactory;
    }

    @Override
    @SuppressWarnings("unchecked")
    public <T> T getNativeRequest() {
      return (T) built;
    }

    @Override
    public Mono<Void> writeWith(Publisher<? extends DataBuffer> publisher) {
      return doCommit(() -> DataBufferUtils.join(Flux.from(publisher))
          .doOnNext(joined -> {
            try {
              byte[] bytes = new byte[joined.readableByteCount()];
              joined.read(bytes);
              body = bytes;
            } finally {
              DataBufferUtils.release(joined);
            }
          })
          .then());
    }

    @Override
    public Mono<Void> writeAndFlushWith(Publisher<? extends Publisher<? extends DataBuffer>> publisher) {
      return writeWith(Flux.from(publisher).concatMap(Flux::from));
    }

    @Override
    public Mono<Void> setComplete() {
      return doCommit();
    }

    @Override
    protected void applyHeaders() {
      // read in toOkHttp(), once the exchange is committed
    }

    @Override
    protected void applyCookies() {
      // read in toOkHttp()
    }

    Request toOkHttp() {
      HttpHeaders headers = getHeaders();
      Request.Builder b = line.toOkHttp(headers, line.bufferedBody(body, RequestLine.contentType(headers)));
      MultiValueMap<String, org.springframework.http.HttpCookie> cookies = getCookies();
      if (!cookies.isEmpty()) {
        b.addHeader(HttpHeaders.COOKIE, cookies.values().stream().flatMap(List::stream)
            .map(org.springframework.http.HttpCookie::toString).collect(Collectors.joining("; ")));
      }
      built = b.build();
      return built;
    }
  }

  /** An OkHttp response as WebFlux's; the body is the pump's flux. */
  private static final class ReactiveResponse extends AbstractClientHttpResponse {
    ReactiveResponse(Response response, Flux<DataBuffer> body) {
      super(HttpStatusCode.valueOf(response.code()), RequestLine.headers(response),
          cookies(response), body);
    }

    private static MultiValueMap<String, ResponseCookie> cookies(Response response) {
      MultiValueMap<String, ResponseCookie> cookies = new LinkedMultiValueMap<>();
      for (String header : response.headers("Set-Cookie")) {
        try {
          for (HttpCookie c : HttpCookie.parse(header)) {
            cookies.add(c.getName(), ResponseCookie.fromClientResponse(c.getName(), c.getValue())
                .domain(c.getDomain()).path(c.getPath()).maxAge(c.getMaxAge())
                .secure(c.getSecure()).httpOnly(c.isHttpOnly()).build());
          }
        } catch (IllegalArgumentException ignored) {
          // a malformed Set-Cookie is left out, as the JDK connector does
        }
      }
      return cookies;
    }
  }
}
