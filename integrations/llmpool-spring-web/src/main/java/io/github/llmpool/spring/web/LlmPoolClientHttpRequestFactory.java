package io.github.llmpool.spring.web;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.URI;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.Objects;
import okhttp3.MediaType;
import okhttp3.OkHttpClient;
import okhttp3.RequestBody;
import okhttp3.Response;
import okhttp3.ResponseBody;
import okio.Buffer;
import okio.BufferedSink;
import org.springframework.http.HttpHeaders;
import org.springframework.http.HttpMethod;
import org.springframework.http.HttpStatusCode;
import org.springframework.http.StreamingHttpOutputMessage;
import org.springframework.http.client.ClientHttpRequest;
import org.springframework.http.client.ClientHttpRequestFactory;
import org.springframework.http.client.ClientHttpResponse;

/**
 * A Spring {@link ClientHttpRequestFactory} (for {@code RestClient} and {@code RestTemplate}) over
 * an OkHttp 5 client, usually one carrying an llmpool pool's interceptor
 * ({@link LlmPoolSpring#requestFactory(io.github.llmpool.ProviderPool)}).
 *
 * <ul>
 *   <li>Request bodies: a body Spring hands over as a {@link StreamingHttpOutputMessage.Body} is
 *       written straight to OkHttp, not copied first; if the body says it is
 *       {@linkplain StreamingHttpOutputMessage.Body#repeatable() repeatable} (Spring's message
 *       converters say so for JSON objects) OkHttp may write it again, which the pool needs to
 *       read the JSON (model rewrite) and to fail over; a non-repeatable one is sent as an OkHttp
 *       one-shot body, which the pool passes on untouched and cannot fail over. A body written to
 *       {@link ClientHttpRequest#getBody()} is kept in memory and is repeatable.
 *   <li>Response bodies are streamed from the socket ({@code getBody()} is OkHttp's byte stream),
 *       never buffered, so server-sent events reach the caller as they arrive. Closing the
 *       response releases the connection.
 *   <li>Timeouts: the OkHttp client's, unless set here ({@link #setConnectTimeout(Duration)},
 *       {@link #setReadTimeout(Duration)}, {@link #setWriteTimeout(Duration)},
 *       {@link #setCallTimeout(Duration)}; Spring Boot 3.5's
 *       {@code ClientHttpRequestFactoryBuilder.of(supplier)} applies its settings through the
 *       first two, by reflection). Each setter derives a client that shares the original's
 *       dispatcher, connection pool and interceptors.
 * </ul>
 *
 * <p>Built against Spring Framework 6.2 and tested on 6.2 and 7.0. Thread-safe.
 */
public final class LlmPoolClientHttpRequestFactory implements ClientHttpRequestFactory {

  private volatile OkHttpClient client;

  /**
   * A factory sending every request through {@code client}. Add the pool's interceptor to the
   * client yourself ({@code pool.configure(builder)}), or use {@link LlmPoolSpring#requestFactory}.
   *
   * @param client the OkHttp client to send with; not closed by this factory
   */
  public LlmPoolClientHttpRequestFactory(OkHttpClient client) {
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
   * Sets the connect timeout (zero: none).
   *
   * @param timeout the timeout, not negative
   */
  public void setConnectTimeout(Duration timeout) {
    Duration t = check("connectTimeout", timeout);
    client = client.newBuilder().connectTimeout(t).build();
  }

  /**
   * Sets the read timeout: the longest silence between two reads of the response (zero: none).
   * For streamed answers this bounds the pause between events, not the whole answer.
   *
   * @param timeout the timeout, not negative
   */
  public void setReadTimeout(Duration timeout) {
    Duration t = check("readTimeout", timeout);
    client = client.newBuilder().readTimeout(t).build();
  }

  /**
   * Sets the write timeout (zero: none).
   *
   * @param timeout the timeout, not negative
   */
  public void setWriteTimeout(Duration timeout) {
    Duration t = check("writeTimeout", timeout);
    client = client.newBuilder().writeTimeout(t).build();
  }

  /**
   * Sets the call timeout: the longest a whole call may take, the pool's failover attempts and
   * the reading of the response body included (zero: none).
   *
   * @param timeout the timeout, not negative
   */
  public void setCallTimeout(Duration timeout) {
    Duration t = check("callTimeout", timeout);
    client = client.newBuilder().callTimeout(t).build();
  }

  static Duration check(String name, Duration timeout) {
    Objects.requireNonNull(timeout, name);
    if (timeout.isNegative()) {
      throw new IllegalArgumentException(name + " must not be negative: " + timeout);
    }
    return timeout;
  }

  @Override
  public ClientHttpRequest createRequest(URI uri, HttpMethod httpMethod) {
    Objects.requireNonNull(uri, "uri");
    Objects.requireNonNull(httpMethod, "httpMethod");
    return new SyncRequest(client, new RequestLine(httpMethod, uri));
  }

  @Override
  public String toString() {
    return "LlmPoolClientHttpRequestFactory{" + client.interceptors().size() + " interceptors}";
  }

  /** A blocking request: headers and a body, then {@link #execute()} sends it. */
  private static final class SyncRequest implements ClientHttpRequest, StreamingHttpOutputMessage {
    private final OkHttpClient client;
    private final RequestLine line;
    private final HttpHeaders headers = new HttpHeaders();
    private final Map<String, Object> attributes = new HashMap<>();
    private Buffer buffered;
    private Body body;
    private boolean executed;

    SyncRequest(OkHttpClient client, RequestLine line) {
      this.client = client;
      this.line = line;
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
    public Map<String, Object> getAttributes() {
      return attributes;
    }

    @Override
    public HttpHeaders getHeaders() {
      return headers;
    }

    @Override
    public OutputStream getBody() {
      checkNotExecuted();
      if (body != null) {
        throw new IllegalStateException("Invoke either getBody or setBody; not both");
      }
      if (buffered == null) {
        buffered = new Buffer();
      }
      return buffered.outputStream();
    }

    @Override
    public void setBody(Body body) {
      Objects.requireNonNull(body, "body");
      checkNotExecuted();
      if (buffered != null) {
        throw new IllegalStateException("Invoke either getBody or setBody; not both");
      }
      this.body = body;
    }

    private void checkNotExecuted() {
      if (executed) {
        throw new IllegalStateException("ClientHttpRequest already executed");
      }
    }

    @Override
    public ClientHttpResponse execute() throws IOException {
      checkNotExecuted();
      executed = true;
      MediaType type = RequestLine.contentType(headers);
      RequestBody requestBody = body != null
          ? new StreamingBody(body, type, headers.getContentLength())
          : line.bufferedBody(buffered == null ? null : buffered.readByteArray(), type);
      return new SyncResponse(client.newCall(line.toOkHttp(headers, requestBody).build()).execute());
    }
  }

  /** A {@link StreamingHttpOutputMessage.Body} written straight to OkHttp's sink. */
  private static final class StreamingBody extends RequestBody {
    private final StreamingHttpOutputMessage.Body body;
    private final MediaType type;
    private final long length;

    StreamingBody(StreamingHttpOutputMessage.Body body, MediaType type, long length) {
      this.body = body;
      this.type = type;
      this.length = length;
    }

    @Override
    public MediaType contentType() {
      return type;
    }

    @Override
    public long contentLength() {
      return length;
    }

    @Override
    public boolean isOneShot() {
      return !body.repeatable();
    }

    @Override
    public void writeTo(BufferedSink sink) throws IOException {
      // Not closed: OkHttp owns the sink. Flushed, as converters may leave bytes in their own buffers.
      OutputStream out = sink.outputStream();
      body.writeTo(new OutputStream() {
        @Override
        public void write(int b) throws IOException {
          out.write(b);
        }

        @Override
        public void write(byte[] b, int off, int len) throws IOException {
          out.write(b, off, len);
        }

        @Override
        public void flush() throws IOException {
          out.flush();
        }

        @Override
        public void close() throws IOException {
          out.flush(); // a converter closing the stream must not close OkHttp's sink
        }
      });
      out.flush();
    }
  }

  /** An OkHttp response as Spring's; the body is OkHttp's stream, read as it arrives. */
  private static final class SyncResponse implements ClientHttpResponse {
    private final Response response;
    private HttpHeaders headers;

    SyncResponse(Response response) {
      this.response = response;
    }

    @Override
    public HttpStatusCode getStatusCode() {
      return HttpStatusCode.valueOf(response.code());
    }

    @Override
    public String getStatusText() {
      return response.message();
    }

    @Override
    public HttpHeaders getHeaders() {
      if (headers == null) {
        headers = RequestLine.headers(response);
      }
      return headers;
    }

    @Override
    public InputStream getBody() {
      ResponseBody body = response.body();
      return body.byteStream();
    }

    @Override
    public void close() {
      response.close();
    }

    @Override
    public String toString() {
      return "LlmPoolClientHttpResponse{" + response.code() + "}"; // no URL: a provider's may carry a key
    }
  }
}
