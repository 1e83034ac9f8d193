package io.github.llmpool;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.TimeUnit;
import mockwebserver3.MockWebServer;
import mockwebserver3.RecordedRequest;
import okhttp3.MediaType;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import okhttp3.RequestBody;
import okhttp3.Response;
import okio.BufferedSink;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The pool reads at most 64 MiB of a JSON request body, whatever its declared length: a longer
 * body of unknown length passes untouched (and names no alias to a router), and a body that
 * writes other than its declared Content-Length fails the call before any upstream sees it.
 */
class LargeRequestBodyTest {
  static final long LIMIT = 64L * 1024 * 1024;
  static final int BLOCK = 8192;
  /** How far past the limit a body may get before it is stopped: one Okio segment (see RequestPlan.readAtMost). */
  static final long SLACK = 8192;

  private final Upstreams up = new Upstreams();

  @AfterEach
  void close() {
    up.close();
  }

  /**
   * A replayable chat request body generated on the fly ({@code {"model":...,"messages":[{...
   * "content":"xxx..."}]}} of exactly {@code size} bytes) in 8 KiB writes, so it is never held in
   * memory. Records how many bytes each {@code writeTo} got written (a write that throws does not
   * count).
   */
  static final class Generated extends RequestBody {
    final byte[] head;
    final byte[] tail = "\"}]}".getBytes(StandardCharsets.US_ASCII);
    final long size;
    final long declared;
    final List<Long> written = Collections.synchronizedList(new ArrayList<>());

    Generated(String model, long size, long declared) {
      this.head = ("{\"model\":\"" + model + "\",\"messages\":[{\"role\":\"user\",\"content\":\"")
          .getBytes(StandardCharsets.US_ASCII);
      this.size = size;
      this.declared = declared;
    }

    @Override
    public MediaType contentType() {
      return Upstreams.JSON;
    }

    @Override
    public long contentLength() {
      return declared;
    }

    /** Bytes {@code [at, at + n)} of the body into {@code b}. */
    void fill(byte[] b, long at, int n) {
      for (int i = 0; i < n; i++) {
        long p = at + i;
        b[i] = p < head.length ? head[(int) p] : p >= size - tail.length ? tail[(int) (p - (size - tail.length))] : (byte) 'x';
      }
    }

    @Override
    public void writeTo(BufferedSink sink) throws IOException {
      byte[] b = new byte[BLOCK];
      long n = 0;
      try {
        while (n < size) {
          int len = (int) Math.min(BLOCK, size - n);
          fill(b, n, len);
          sink.write(b, 0, len);
          n += len;
        }
      } finally {
        written.add(n);
      }
    }

    String digest() throws Exception {
      MessageDigest md = MessageDigest.getInstance("SHA-256");
      byte[] b = new byte[BLOCK];
      for (long n = 0; n < size; n += BLOCK) {
        int len = (int) Math.min(BLOCK, size - n);
        fill(b, n, len);
        md.update(b, 0, len);
      }
      return HexFormat.of().formatHex(md.digest());
    }
  }

  private OkHttpClient client(ProviderPool pool) {
    return up.client(pool, new OkHttpClient.Builder().writeTimeout(60, TimeUnit.SECONDS).callTimeout(120, TimeUnit.SECONDS));
  }

  private static RecordedRequest take(MockWebServer s) throws InterruptedException {
    RecordedRequest r = s.takeRequest(30, TimeUnit.SECONDS);
    if (r == null) {
      throw new AssertionError("no request reached " + s.getPort());
    }
    return r;
  }

  private static int code(OkHttpClient client, Request request) throws IOException {
    try (Response r = client.newCall(request).execute()) {
      r.body().string();
      return r.code();
    }
  }

  private static Request post(String url, RequestBody body) {
    return new Request.Builder().url(url).post(body).build();
  }

  @Test
  void aStreamedBodyOverTheLimitPassesUntouchedThroughAPool() throws Exception {
    MockWebServer s = up.startChat();
    ProviderPool pool = ProviderPool.builder()
        .tier(Provider.builder("a").baseUrl(Upstreams.baseUrl(s)).model("gpt-4o").build()).build();
    for (long size : new long[] {LIMIT + 1000, LIMIT + 16L * 1024 * 1024}) {
      Generated body = new Generated("gpt-4o-mini", size, -1);
      assertEquals(200, code(client(pool), post(pool.baseUrl().resolve("chat/completions").toString(), body)));
      RecordedRequest r = take(s);
      assertEquals(body.size, r.getBody().size());
      assertEquals(body.digest(), r.getBody().sha256().hex()); // the model was not rewritten
      // the pool pulled little more than the limit before deciding, then OkHttp sent the whole body
      assertEquals(2, body.written.size(), "writeTo calls " + body.written);
      assertTrue(body.written.get(0) <= LIMIT + SLACK, "pulled " + body.written.get(0));
      assertEquals(body.size, body.written.get(1));
    }
  }

  @Test
  void aStreamedBodyAtTheLimitIsStillReadAndRewritten() throws Exception {
    MockWebServer s = up.startChat();
    ProviderPool pool = ProviderPool.builder()
        .tier(Provider.builder("a").baseUrl(Upstreams.baseUrl(s)).model("gpt-4o").build()).build();
    Generated body = new Generated("gpt-4o-mini", LIMIT, -1);
    assertEquals(200, code(client(pool), post(pool.baseUrl().resolve("chat/completions").toString(), body)));
    RecordedRequest r = take(s);
    assertEquals(body.size - "-mini".length(), r.getBody().size()); // "gpt-4o-mini" -> "gpt-4o"
    assertEquals("{\"model\":\"gpt-4o\",\"messages\"", r.getBody().substring(0, 28).utf8());
    assertEquals(List.of(LIMIT), body.written); // read once, the copy went upstream
    // and over the limit by one byte: not rewritten
    Generated over = new Generated("gpt-4o-mini", LIMIT + 1, -1);
    assertEquals(200, code(client(pool), post(pool.baseUrl().resolve("chat/completions").toString(), over)));
    assertEquals(over.digest(), take(s).getBody().sha256().hex());
  }

  @Test
  void aRouterCannotReadTheAliasOfAStreamedBodyOverTheLimit() throws Exception {
    MockWebServer smart = up.startChat();
    MockWebServer other = up.startChat();
    ProviderPool smartPool = ProviderPool.builder()
        .tier(Provider.builder("smart-1").baseUrl(Upstreams.baseUrl(smart)).model("gpt-4o").build()).build();
    ProviderPool otherPool = ProviderPool.builder()
        .tier(Provider.builder("other").baseUrl(Upstreams.baseUrl(other)).build()).build();
    ModelRouter withDefault = ModelRouter.builder().route("smart", smartPool).defaultPool(otherPool).build();
    OkHttpClient c = new OkHttpClient.Builder().addInterceptor(withDefault.interceptor())
        .writeTimeout(60, TimeUnit.SECONDS).callTimeout(120, TimeUnit.SECONDS).build();
    String url = withDefault.baseUrl().resolve("chat/completions").toString();
    try {
      Generated body = new Generated("smart", LIMIT + 5000, -1);
      assertEquals(200, code(c, post(url, body))); // names no alias the router can read: the default pool
      RecordedRequest r = take(other);
      assertEquals(body.digest(), r.getBody().sha256().hex()); // untouched
      assertEquals(0, up.count(smart));
      assertTrue(body.written.get(0) <= LIMIT + SLACK, "pulled " + body.written);
      assertEquals(2, body.written.size());

      // without a default pool: answered 400 locally, nothing sent anywhere
      ModelRouter noDefault = ModelRouter.builder().route("smart", smartPool).build();
      OkHttpClient c2 = new OkHttpClient.Builder().addInterceptor(noDefault.interceptor()).build();
      Generated again = new Generated("smart", 2 * LIMIT, -1);
      try (Response resp = c2.newCall(post(noDefault.baseUrl().resolve("chat/completions").toString(), again)).execute()) {
        assertEquals(400, resp.code());
        assertTrue(resp.body().string().contains("names no model alias"));
      }
      assertEquals(1, again.written.size());
      assertTrue(again.written.get(0) <= LIMIT + SLACK, "pulled " + again.written);
      assertEquals(0, up.count(smart));
      assertEquals(1, up.count(other));
      c2.dispatcher().executorService().shutdown();
    } finally {
      c.dispatcher().executorService().shutdown();
      c.connectionPool().evictAll();
    }
  }

  @Test
  void aBodyThatWritesOtherThanItsContentLengthFailsTheCallAndBlamesNoProvider() throws Exception {
    MockWebServer s = up.startChat();
    ProviderPool pool = ProviderPool.builder()
        .tier(Provider.builder("a").baseUrl(Upstreams.baseUrl(s)).model("gpt-4o").build()).build();
    OkHttpClient c = client(pool);
    String url = pool.baseUrl().resolve("chat/completions").toString();
    // declares 1,000 bytes, writes 10 MB: read no further than its declared length (and a segment)
    Generated longer = new Generated("gpt-4o-mini", 10_000_000, 1_000);
    IOException e = assertThrows(IOException.class, () -> code(c, post(url, longer)));
    assertTrue(e.getMessage().contains("Content-Length 1000"), e.getMessage());
    assertTrue(longer.written.get(0) <= 1_000 + SLACK, "pulled " + longer.written);
    // declares 2,000 bytes, writes 1,000
    Generated shorter = new Generated("gpt-4o-mini", 1_000, 2_000);
    IOException e2 = assertThrows(IOException.class, () -> code(c, post(url, shorter)));
    assertTrue(e2.getMessage().contains("Content-Length 2000"), e2.getMessage());
    assertEquals(0, up.count(s));
    ProviderSnapshot a = pool.snapshot().provider("a").orElseThrow();
    assertEquals(ProviderSnapshot.Status.AVAILABLE, a.status());
    assertEquals(0, a.requests());
    // an honest body of the same kind is served and rewritten
    Generated honest = new Generated("gpt-4o-mini", 1_000, 1_000);
    assertEquals(200, code(c, post(url, honest)));
    assertEquals(1_000 - "-mini".length(), take(s).getBody().size());
  }
}
