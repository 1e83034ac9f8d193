package io.github.llmpool.testing;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.MissingNode;
import java.io.IOException;
import java.time.Instant;
import java.util.Locale;
import java.util.Set;
import mockwebserver3.RecordedRequest;
import okhttp3.Headers;
import okhttp3.HttpUrl;

/**
 * One request a {@link FakeLlmServer} received, and the status it answered with. Immutable.
 *
 * <p>The headers are kept as they arrived, credentials included, so that a test can assert that
 * the provider's key reached the provider ({@link #authorization()}); {@link #toString()} redacts
 * {@code Authorization}, {@code api-key} and {@code x-api-key}, so that printing a request (an
 * assertion message, a log line) never shows a key.
 */
public final class ReceivedRequest {
  /** The {@link #status()} of a request whose answer the server is still making (0). */
  public static final int ANSWERING = 0;

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Set<String> SECRET_HEADERS = Set.of("authorization", "api-key", "x-api-key", "proxy-authorization");

  private final RecordedRequest recorded;
  private final String method;
  private final HttpUrl url;
  private final Headers headers;
  private final String body;
  private final int status;
  private final Instant receivedAt;
  private volatile JsonNode json;

  ReceivedRequest(RecordedRequest recorded, String method, HttpUrl url, Headers headers, String body, int status,
      Instant receivedAt) {
    this.recorded = recorded;
    this.method = method;
    this.url = url;
    this.headers = headers;
    this.body = body;
    this.status = status;
    this.receivedAt = receivedAt;
  }

  /** {@return the request as mockwebserver3 recorded it (for code written against {@code RecordedRequest})} */
  public RecordedRequest recorded() {
    return recorded;
  }

  /** {@return the request method, e.g. {@code POST}} */
  public String method() {
    return method;
  }

  /** {@return the encoded path, e.g. {@code /v1/chat/completions}} */
  public String path() {
    return url.encodedPath();
  }

  /** {@return the full URL the server saw (loopback host and port, path, query)} */
  public HttpUrl url() {
    return url;
  }

  /** {@return every header as received, credentials included (never print them: use {@link #toString()})} */
  public Headers headers() {
    return headers;
  }

  /**
   * The last value of a header, or null.
   *
   * @param name the header's name, in any case
   * @return its value, or null if absent
   */
  public String header(String name) {
    return headers.get(name);
  }

  /** {@return the {@code Authorization} header as received (e.g. {@code Bearer key-a}), or null} */
  public String authorization() {
    return headers.get("Authorization");
  }

  /** {@return the body as UTF-8 text; empty if there was none} */
  public String body() {
    return body;
  }

  /** {@return the body parsed as JSON; a missing node if it is empty or not a JSON object} */
  public JsonNode json() {
    JsonNode j = json;
    if (j == null) {
      j = parse(body);
      json = j;
    }
    return j;
  }

  /** {@return the body's {@code model}, or null} */
  public String model() {
    JsonNode m = json().path("model");
    return m.isTextual() ? m.asText() : null;
  }

  /** {@return whether the body asks for a stream ({@code "stream": true})} */
  public boolean stream() {
    return json().path("stream").asBoolean(false);
  }

  /** {@return whether the body asks for the final usage chunk ({@code stream_options.include_usage})} */
  public boolean includeUsage() {
    return json().path("stream_options").path("include_usage").asBoolean(false);
  }

  /**
   * {@return the status the server answered with, -1 if it closed the connection instead, or
   * {@link #ANSWERING} (0) while its answer is still being made (or if the answer function threw)}
   */
  public int status() {
    return status;
  }

  /** {@return when the server received it (wall clock)} */
  public Instant receivedAt() {
    return receivedAt;
  }

  /** {@return {@code POST /v1/chat/completions -> 200, headers [...]} with every credential header redacted} */
  @Override
  public String toString() {
    StringBuilder b = new StringBuilder(method).append(' ').append(url.encodedPath());
    if (url.encodedQuery() != null) {
      b.append('?').append(url.encodedQuery());
    }
    b.append(" -> ").append(status).append(", headers [");
    for (int i = 0; i < headers.size(); i++) {
      if (i > 0) {
        b.append(", ");
      }
      String name = headers.name(i);
      b.append(name).append(": ")
          .append(SECRET_HEADERS.contains(name.toLowerCase(Locale.ROOT)) ? "<redacted>" : headers.value(i));
    }
    return b.append("], body ").append(body.length()).append(" chars").toString();
  }

  /** This request as answered with {@code status}. */
  ReceivedRequest answered(int status) {
    ReceivedRequest r = new ReceivedRequest(recorded, method, url, headers, body, status, receivedAt);
    r.json = json;
    return r;
  }

  static JsonNode parse(String body) {
    if (body == null || body.isEmpty()) {
      return MissingNode.getInstance();
    }
    try {
      JsonNode node = JSON.readTree(body);
      return node != null && node.isObject() ? node : MissingNode.getInstance();
    } catch (IOException e) {
      return MissingNode.getInstance();
    }
  }
}
