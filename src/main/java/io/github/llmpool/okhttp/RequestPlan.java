package io.github.llmpool.okhttp;

import io.github.llmpool.internal.CredentialScope;
import io.github.llmpool.internal.Endpoint;
import io.github.llmpool.internal.JsonRequest;
import java.io.IOException;
import okhttp3.HttpUrl;
import okhttp3.MediaType;
import okhttp3.Request;
import okhttp3.RequestBody;
import okio.Buffer;

/**
 * A caller's request, read once, and how to rewrite it for any provider: the URL (provider scheme,
 * host, port and path prefix + the rest of the request path + the query, unchanged), the
 * credential (inbound credential headers dropped, the provider's own set), the body (top-level
 * {@code model} override and {@code stream_options.include_usage} for JSON bodies; any other body
 * untouched). Immutable once built; used by one logical request.
 */
final class RequestPlan {
  /** JSON bodies up to this size are read to be rewritten; larger ones pass untouched. */
  static final long MAX_REWRITE_BYTES = 64L * 1024 * 1024;

  /** Inbound headers that carry a credential or name the virtual host; never forwarded. */
  private static final String[] DROPPED = {"Authorization", "api-key", "x-api-key", "x-goog-api-key", "Host"};

  final Request original;
  final String restPath;
  final RequestBody passthroughBody; // when the body is not rewritten
  final JsonRequest json; // when the body is a JSON object we may rewrite
  final MediaType contentType;
  /** Whether the body may be sent more than once. */
  final boolean replayable;

  private RequestPlan(Request original, String restPath, RequestBody passthroughBody, JsonRequest json,
      MediaType contentType, boolean replayable) {
    this.original = original;
    this.restPath = restPath;
    this.passthroughBody = passthroughBody;
    this.json = json;
    this.contentType = contentType;
    this.replayable = replayable;
  }

  static RequestPlan of(Request request, String virtualPrefix) throws IOException {
    String path = request.url().encodedPath();
    String rest = path;
    if (!virtualPrefix.isEmpty() && (path.equals(virtualPrefix) || path.startsWith(virtualPrefix + "/"))) {
      rest = path.substring(virtualPrefix.length());
    }
    RequestBody body = request.body();
    if (body == null) {
      return new RequestPlan(request, rest, null, null, null, true);
    }
    if (body.isOneShot() || body.isDuplex()) {
      return new RequestPlan(request, rest, body, null, body.contentType(), false);
    }
    MediaType type = body.contentType();
    long length = body.contentLength();
    boolean json = type != null && type.subtype().toLowerCase(java.util.Locale.ROOT).contains("json");
    if (!json || length > MAX_REWRITE_BYTES) {
      return new RequestPlan(request, rest, body, null, type, true);
    }
    Buffer buffer = new Buffer();
    body.writeTo(buffer);
    byte[] bytes = buffer.readByteArray();
    JsonRequest parsed = JsonRequest.parse(bytes);
    RequestBody copy = RequestBody.create(bytes, type);
    return parsed == null
        ? new RequestPlan(request, rest, copy, null, type, true)
        : new RequestPlan(request, rest, copy, parsed, type, true);
  }

  /** The type of a rewritten body: the caller's, labelled UTF-8 when the body was transcoded to it. */
  private MediaType rewrittenType() {
    if (!json.transcoded() || contentType == null) {
      return contentType;
    }
    return MediaType.get(contentType.type() + "/" + contentType.subtype() + "; charset=utf-8");
  }

  /** The top-level {@code model} of the caller's JSON body, or null. */
  String requestedModel() {
    return json == null ? null : json.model();
  }

  /** Whether the caller asked for a stream. */
  boolean streaming() {
    return json != null && json.stream();
  }

  /**
   * The request as it goes to {@code e}. A request for exactly the virtual base URL to a provider
   * whose base URL has no path goes to {@code /} (a URL's path is never empty).
   */
  Request forEndpoint(Endpoint e) {
    String path = e.pathPrefix + restPath;
    HttpUrl url = new HttpUrl.Builder()
        .scheme(e.scheme)
        .host(e.host)
        .port(e.port)
        .encodedPath(path.isEmpty() ? "/" : path)
        .encodedQuery(original.url().encodedQuery())
        .build();
    Request.Builder b = original.newBuilder().url(url);
    for (String h : DROPPED) {
      b.removeHeader(h);
    }
    if (e.credentialHeader != null) {
      b.header(e.credentialHeader, e.credentialValue());
    }
    for (var h : e.headers) {
      b.header(h.getKey(), h.getValue());
    }
    if (json != null && json.needsRewrite(e.model, e.includeUsage)) {
      b.method(original.method(), RequestBody.create(json.rewrite(e.model, e.includeUsage), rewrittenType()));
    } else if (passthroughBody != null) {
      b.method(original.method(), passthroughBody);
    }
    // Lets the redirect guard recognise the provider's host and credential header: names only,
    // never the Endpoint (it holds the key, and tags ride on everything OkHttp hands back).
    if (e.scope != null) {
      b.tag(CredentialScope.class, e.scope);
    }
    if (RedirectGuard.needsGuard(e)) {
      b.tag(RedirectGuard.Seen.class, new RedirectGuard.Seen());
    }
    return b.build();
  }
}
