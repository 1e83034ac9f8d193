package io.github.llmpool.spring.web;

import java.net.URI;
import java.util.Locale;
import okhttp3.MediaType;
import okhttp3.Request;
import okhttp3.RequestBody;
import okhttp3.Response;
import org.springframework.http.HttpHeaders;
import org.springframework.http.HttpMethod;

/**
 * The method and URI of a Spring request ({@link LlmPoolClientHttpRequestFactory}'s blocking one,
 * {@link LlmPoolClientHttpConnector}'s reactive one) and how both become an OkHttp request: the
 * body OkHttp requires, the headers it takes, and the Spring headers of its response.
 */
record RequestLine(HttpMethod method, URI uri) {

  /**
   * The body of bytes written in full, or none: the bytes if any, else an empty body if OkHttp
   * requires one for the method ({@link #requiresBody}), else null.
   *
   * @param bytes what was written, or null if nothing was
   * @param type the Content-Type, or null
   */
  RequestBody bufferedBody(byte[] bytes, MediaType type) {
    if (bytes != null && bytes.length > 0) {
      return RequestBody.create(bytes, type);
    }
    return requiresBody(method.name()) ? RequestBody.create(new byte[0], type) : null;
  }

  /** The OkHttp request of this line, {@code headers} (less the ones OkHttp derives) and {@code body}. */
  Request.Builder toOkHttp(HttpHeaders headers, RequestBody body) {
    Request.Builder b = new Request.Builder().url(uri.toString()).method(method.name(), body);
    headers.forEach((name, values) -> {
      String lower = name.toLowerCase(Locale.ROOT);
      if (lower.equals("content-length") || lower.equals("transfer-encoding") || lower.equals("host")) {
        return; // OkHttp writes them from the body and the URL
      }
      for (String v : values) {
        b.addHeader(name, v);
      }
    });
    return b;
  }

  /** Whether OkHttp requires a body for {@code method} (it then gets an empty one if none was written). */
  static boolean requiresBody(String method) {
    switch (method) {
      case "POST": case "PUT": case "PATCH": case "PROPPATCH": case "REPORT":
        return true;
      default:
        return false;
    }
  }

  /** The OkHttp type of the request's Content-Type header, or null. */
  static MediaType contentType(HttpHeaders headers) {
    String value = headers.getFirst(HttpHeaders.CONTENT_TYPE);
    return value == null || value.isBlank() ? null : MediaType.parse(value);
  }

  /** Spring headers of an OkHttp response. */
  static HttpHeaders headers(Response response) {
    HttpHeaders h = new HttpHeaders();
    okhttp3.Headers raw = response.headers();
    for (int i = 0, n = raw.size(); i < n; i++) {
      h.add(raw.name(i), raw.value(i));
    }
    return h;
  }
}
