package io.github.llmpool.reliability;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import io.github.llmpool.EvictionPolicy;
import io.github.llmpool.Fixtures;
import io.github.llmpool.PoolEvent;
import io.github.llmpool.Provider;
import io.github.llmpool.ProviderPool;
import io.github.llmpool.ProviderSnapshot;
import io.github.llmpool.TokenUsage;
import io.github.llmpool.Upstreams;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.zip.GZIPInputStream;
import java.util.zip.GZIPOutputStream;
import mockwebserver3.MockResponse;
import mockwebserver3.MockWebServer;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import okhttp3.Response;
import okio.Buffer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * A body the usage tap cannot read (still compressed, because the caller asked for an encoding
 * itself and OkHttp then leaves the bytes as they came) passes through untouched: its usage is
 * "not reported", never a truncated stream and never a failure of the provider.
 */
class UnreadableBodyTest {
  private final Upstreams up = new Upstreams();
  private final List<TokenUsage> usage = new CopyOnWriteArrayList<>();
  private final List<PoolEvent> events = new CopyOnWriteArrayList<>();

  @AfterEach
  void close() {
    up.close();
  }

  private static byte[] gzip(byte[] plain) throws Exception {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try (GZIPOutputStream z = new GZIPOutputStream(out)) {
      z.write(plain);
    }
    return out.toByteArray();
  }

  private static byte[] gunzip(byte[] packed) throws Exception {
    try (GZIPInputStream z = new GZIPInputStream(new java.io.ByteArrayInputStream(packed))) {
      return z.readAllBytes();
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"openai-chat-stream-usage.sse", "openai-chat.json"})
  void aCompressedAnswerTheCallerAskedForIsHandedOverWholeAndBlamesNobody(String fixture) throws Exception {
    byte[] plain = Fixtures.bytes(fixture);
    byte[] packed = gzip(plain);
    String type = fixture.endsWith(".sse") ? "text/event-stream" : "application/json";
    MockWebServer s = up.start(r -> new MockResponse.Builder().addHeader("Content-Type", type)
        .addHeader("Content-Encoding", "gzip").body(new Buffer().write(packed)).build());
    ProviderPool pool = ProviderPool.builder().onUsage(usage::add).onEvent(events::add)
        .eviction(EvictionPolicy.builder().failureThreshold(1).build())
        .tier(Provider.builder("p").baseUrl(Upstreams.baseUrl(s)).build()).build();
    OkHttpClient client = up.client(pool);
    for (int i = 0; i < 3; i++) {
      Request req = Upstreams.chat(pool).newBuilder().header("Accept-Encoding", "gzip").build();
      try (Response r = client.newCall(req).execute()) {
        assertEquals(200, r.code());
        byte[] got = r.body().bytes(); // no TruncatedStreamException
        assertArrayEquals(plain, gunzip(got), "the caller gets the provider's bytes as they came");
      }
    }
    ProviderSnapshot p = pool.snapshot().provider("p").orElseThrow();
    assertEquals(ProviderSnapshot.Status.AVAILABLE, p.status());
    assertEquals(0, p.failures());
    assertEquals(3, p.successes());
    assertEquals(0, p.inFlight());
    assertEquals(List.of(), events.stream().filter(e -> e instanceof PoolEvent.Evicted).toList());
    assertEquals(3, usage.size());
    for (TokenUsage u : usage) {
      assertFalse(u.reported(), u::toString);
      assertEquals(TokenUsage.End.COMPLETE, u.end(), u::toString);
    }
    // the same answer uncompressed is read as usual: the test's fixture carries usage
    assertEquals(true, new String(plain, StandardCharsets.UTF_8).contains("\"usage\""));
  }
}
