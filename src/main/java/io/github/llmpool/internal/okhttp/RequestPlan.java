package io.github.llmpool.internal.okhttp;

import io.github.llmpool.internal.route.CredentialScope;
import io.github.llmpool.internal.route.Endpoint;
import io.github.llmpool.internal.okhttp.JsonRequest;
import java.io.IOException;
import okhttp3.HttpUrl;
import okhttp3.MediaType;
import okhttp3.Request;
import okhttp3.RequestBody;
import okio.Buffer;
import okio.BufferedSink;
import okio.Okio;
import okio.Sink;
import okio.Timeout;

/**
 * A caller's request, read once, and how to rewrite it for any provider: the URL (provider scheme,
 * host, port and path prefix + the rest of the request path + the query, unchanged), the
 * credential (inbound credential headers dropped, the provider's own set), the body (top-level
 * {@code model} override and {@code stream_options.include_usage} for JSON bodies; any other body
 * untouched). Immutable once built; used by one logical request.
 */
final class RequestPlan {
  /**
   * JSON bodies up to this size are read to be rewritten; larger ones (declared or found so while
   * reading one of unknown length) pass untouched.
   */
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

  /**
   * The request's token estimate for quota headroom ({@link JsonRequest#estimatedTokens()}); 0 for
   * a body the pool does not read.
   */
  long estimatedTokens() {
    return json == null ? 0 : json.estimatedTokens();
  }

  private RequestPlan(Request original, String restPath, RequestBody passthroughBody, JsonRequest json,
      MediaType contentType, boolean replayable) {
    this.original = original;
    this.restPath = restPath;
    this.passthroughBody = passthroughBody;
    this.json = json;
    this.contentType = contentType;
    this.replayable = replayable;
  }

  /**
   * Reads the caller's request once. A JSON body that is replayable and at most
   * {@link #MAX_REWRITE_BYTES} long is read (to be rewritten per provider and to show its
   * {@code model}, {@code user}, ...); any other body passes untouched and unread. The bound holds
   * whatever the body declares: a body of unknown length is stopped soon after the limit (within
   * one 8 KiB Okio segment and the write in progress), then passes untouched and names no model
   * (it is replayable, so OkHttp writes it again in full); a body is never read further than its
   * declared {@code Content-Length} allows.
   *
   * @throws java.net.ProtocolException if the body writes more or fewer bytes than its declared
   *     {@code Content-Length} (OkHttp would fail such a body on the wire; failing here blames no
   *     provider)
   */
  static RequestPlan of(Request request, String virtualPrefix) throws IOException {
    String path = request.url().encodedPath();
    String rest = path;
    int p = virtualPrefix.length();
    if (p > 0 && path.startsWith(virtualPrefix) && (path.length() == p || path.charAt(p) == '/')) {
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
    byte[] bytes = readAtMost(body, length >= 0 ? length : MAX_REWRITE_BYTES);
    if (length >= 0 && (bytes == null || bytes.length != length)) {
      throw new java.net.ProtocolException("request body declared Content-Length " + length + " but wrote "
          + (bytes == null ? "more" : String.valueOf(bytes.length)) + " bytes");
    }
    if (bytes == null) {
      return new RequestPlan(request, rest, body, null, type, true); // over the limit: untouched
    }
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

  /**
   * The bytes {@code body} writes, or null if it writes more than {@code max}: it is then stopped
   * by the first failed write, and nothing read is kept. The limit sits behind Okio's own
   * buffered sink, which hands on whole 8 KiB segments after each write (the rest at the flush),
   * so a body is stopped within 8 KiB, plus the bytes of its write in progress, past {@code max}.
   * (A hand-made {@code BufferedSink} could stop it at the byte, but that interface grows with
   * Okio releases: a body calling a newer method on it would fail with an
   * {@code AbstractMethodError}.)
   */
  private static byte[] readAtMost(RequestBody body, long max) throws IOException {
    Buffer kept = new Buffer();
    LimitSink limit = new LimitSink(kept, max);
    BufferedSink sink = Okio.buffer(limit);
    try {
      body.writeTo(sink);
      sink.flush();
    } catch (IOException | RuntimeException e) {
      if (!limit.exceeded) {
        throw e; // the body's own failure
      }
      // our stop, perhaps wrapped by the body
    }
    if (limit.exceeded) {
      return null;
    }
    return kept.readByteArray();
  }

  /**
   * Keeps up to {@code max} bytes. A write beyond them drops everything kept, is consumed, and
   * fails, and so does every later one: a body that swallows the failure and writes on piles up
   * nothing.
   */
  private static final class LimitSink implements Sink {
    private final Buffer kept;
    private final long max;
    boolean exceeded;

    LimitSink(Buffer kept, long max) {
      this.kept = kept;
      this.max = max;
    }

    @Override
    public void write(Buffer source, long byteCount) throws IOException {
      if (!exceeded && byteCount <= max - kept.size()) {
        kept.write(source, byteCount);
        return;
      }
      exceeded = true;
      kept.clear();
      source.skip(byteCount);
      throw new IOException("request body is over " + max + " bytes: not read");
    }

    @Override
    public void flush() {}

    @Override
    public Timeout timeout() {
      return Timeout.NONE;
    }

    @Override
    public void close() {}
  }

  /**
   * What {@link #forEndpoint} keeps on an {@link Endpoint} for the next request: the URL it built
   * for one request path and query (most requests to a provider share them), and the provider's
   * model quoted as a JSON string. Immutable; holds no credential.
   */
  private static final class Memo {
    final String restPath;
    final String query;
    final HttpUrl url;
    final byte[] quotedModel;

    Memo(String restPath, String query, HttpUrl url, byte[] quotedModel) {
      this.restPath = restPath;
      this.query = query;
      this.url = url;
      this.quotedModel = quotedModel;
    }
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
    return builder(e).build();
  }

  /**
   * The caller's view of the request {@code signed} (a {@link #builder} for {@code e}) builds:
   * the same request without the provider's credential, extra headers and the pool's tags, as
   * {@code LogicalCall.withoutCredentials} makes it from the built request, but from the builder
   * already at hand (no second copy of the caller's headers). Changes {@code signed}: build the
   * provider's request first.
   */
  static Request unsigned(Request.Builder signed, Endpoint e) {
    CredentialScope scope = e.scope;
    signed.tag(CredentialScope.class, null).tag(RedirectGuard.Seen.class, null);
    for (String name : scope.headerNames) {
      signed.removeHeader(name);
    }
    return signed.build();
  }

  /** A builder of {@link #forEndpoint}'s request. */
  Request.Builder builder(Endpoint e) {
    String query = original.url().encodedQuery();
    Memo m = e.memo() instanceof Memo x ? x : null;
    HttpUrl url;
    if (m != null && m.restPath.equals(restPath) && java.util.Objects.equals(m.query, query)) {
      url = m.url; // the URL built for the previous request to this provider (HttpUrl is immutable)
    } else {
      String path = e.pathPrefix + restPath;
      url = new HttpUrl.Builder()
          .scheme(e.scheme)
          .host(e.host)
          .port(e.port)
          .encodedPath(path.isEmpty() ? "/" : path)
          .encodedQuery(query)
          .build();
      m = new Memo(restPath, query, url, m != null ? m.quotedModel : e.model == null ? null : JsonRequest.quote(e.model));
      e.memo(m);
    }
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
      b.method(original.method(), RequestBody.create(json.rewrite(e.model, m.quotedModel, e.includeUsage),
          rewrittenType()));
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
    return b;
  }
}
