package io.github.llmpool;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.IOException;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;
import mockwebserver3.MockResponse;
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

/** Requests to the virtual base URL reach the chosen provider rewritten: URL, credential, model. */
class RoutingTest {
  private final Upstreams up = new Upstreams();

  @AfterEach
  void close() {
    up.close();
  }

  private static RecordedRequest take(MockWebServer s) throws InterruptedException {
    RecordedRequest r = s.takeRequest(5, TimeUnit.SECONDS);
    if (r == null) {
      throw new AssertionError("no request reached " + s.getPort());
    }
    return r;
  }

  @Test
  void urlGetsProviderPrefixPathAndQuery() throws Exception {
    MockWebServer s = up.startChat();
    ProviderPool pool = ProviderPool.builder()
        .tier(Provider.builder("gemini").baseUrl("http://127.0.0.1:" + s.getPort() + "/v1beta/openai").build()).build();
    OkHttpClient c = up.client(pool);
    Request req = new Request.Builder().url(pool.baseUrl().resolve("chat/completions?api-version=2024-10-21&x=a%20b").toString())
        .post(RequestBody.create(Upstreams.CHAT, Upstreams.JSON)).build();
    assertEquals("200", Upstreams.call(c, req)[0]);
    RecordedRequest r = take(s);
    assertEquals("/v1beta/openai/chat/completions?api-version=2024-10-21&x=a%20b", r.getTarget());
    assertEquals("127.0.0.1:" + s.getPort(), r.getHeaders().get("Host"));
  }

  @Test
  void providerWithoutPrefixGetsTheRestOfThePath() throws Exception {
    MockWebServer s = up.startChat();
    ProviderPool pool = ProviderPool.builder()
        .tier(Provider.builder("root").baseUrl("http://127.0.0.1:" + s.getPort()).build()).build();
    Upstreams.call(up.client(pool), new Request.Builder().url(pool.baseUrl().resolve("models").toString()).build());
    assertEquals("/models", take(s).getTarget());
  }

  @Test
  void inboundCredentialIsDroppedAndProviderKeySet() throws Exception {
    MockWebServer a = up.startChat();
    ProviderPool pool = ProviderPool.builder()
        .tier(Provider.builder("a").baseUrl(Upstreams.baseUrl(a)).apiKey("key-a").build()).build();
    Request req = Upstreams.chat(pool).newBuilder()
        .header("Authorization", "Bearer caller-key").header("api-key", "caller-azure-key").header("x-other", "kept").build();
    Upstreams.call(up.client(pool), req);
    RecordedRequest r = take(a);
    assertEquals("Bearer key-a", r.getHeaders().get("Authorization"));
    assertNull(r.getHeaders().get("api-key"));
    assertEquals("kept", r.getHeaders().get("x-other"));
  }

  @Test
  void providerWithoutKeyGetsNoCredential() throws Exception {
    MockWebServer a = up.startChat();
    ProviderPool pool = ProviderPool.builder().tier(Provider.builder("a").baseUrl(Upstreams.baseUrl(a)).build()).build();
    Upstreams.call(up.client(pool), Upstreams.chat(pool).newBuilder().header("Authorization", "Bearer caller-key").build());
    assertNull(take(a).getHeaders().get("Authorization"));
  }

  @Test
  void azureStyleKeyGoesInItsOwnHeader() throws Exception {
    MockWebServer a = up.startChat();
    ProviderPool pool = ProviderPool.builder().tier(Provider.builder("azure").baseUrl(Upstreams.baseUrl(a))
        .apiKey("azure-key").apiKeyHeader("api-key").header("x-ms-client", "llmpool").build()).build();
    Upstreams.call(up.client(pool), Upstreams.chat(pool).newBuilder().header("Authorization", "Bearer caller").build());
    RecordedRequest r = take(a);
    assertEquals("azure-key", r.getHeaders().get("api-key"));
    assertNull(r.getHeaders().get("Authorization"));
    assertEquals("llmpool", r.getHeaders().get("x-ms-client"));
  }

  @Test
  void modelOverrideChangesOnlyTheModel() throws Exception {
    MockWebServer a = up.startChat();
    ProviderPool pool = ProviderPool.builder()
        .tier(Provider.builder("a").baseUrl(Upstreams.baseUrl(a)).model("llama-3.1-8b").build()).build();
    String body = "{ \"messages\" : [{\"role\":\"user\",\"content\":\"caf\u00e9 \\\"q\\\"\"}],\n  \"model\":  \"gpt-4o\" ,"
        + "\"temperature\":0.70, \"n\":1e0}";
    Upstreams.call(up.client(pool), Upstreams.post(pool, "chat/completions", body));
    String sent = take(a).getBody().string(StandardCharsets.UTF_8);
    assertEquals(body.replace("\"gpt-4o\"", "\"llama-3.1-8b\""), sent);
  }

  @Test
  void modelOverrideIsEscapedAndAddedWhenAbsent() throws Exception {
    MockWebServer a = up.startChat();
    ProviderPool pool = ProviderPool.builder()
        .tier(Provider.builder("a").baseUrl(Upstreams.baseUrl(a)).model("m\"x").build()).build();
    Upstreams.call(up.client(pool), Upstreams.post(pool, "embeddings", "{\"input\":\"x\"}"));
    assertEquals("{\"input\":\"x\",\"model\":\"m\\\"x\"}", take(a).getBody().string(StandardCharsets.UTF_8));
  }

  @Test
  void nonJsonBodyPassesUntouched() throws Exception {
    MockWebServer a = up.startChat();
    ProviderPool pool = ProviderPool.builder()
        .tier(Provider.builder("a").baseUrl(Upstreams.baseUrl(a)).model("whisper-1").build()).build();
    byte[] audio = {0, 1, 2, (byte) 0xff, '{', '"', 'm'};
    Request req = new Request.Builder().url(pool.baseUrl().resolve("audio/transcriptions").toString())
        .post(RequestBody.create(audio, MediaType.get("application/octet-stream"))).build();
    Upstreams.call(up.client(pool), req);
    assertEquals(okio.ByteString.of(audio), take(a).getBody());
  }

  @Test
  void invalidJsonPassesUntouched() throws Exception {
    MockWebServer a = up.startChat();
    ProviderPool pool = ProviderPool.builder()
        .tier(Provider.builder("a").baseUrl(Upstreams.baseUrl(a)).model("m").build()).build();
    String broken = "{\"model\":\"gpt-4o\", oops";
    Upstreams.call(up.client(pool), Upstreams.post(pool, "chat/completions", broken));
    assertEquals(broken, take(a).getBody().string(StandardCharsets.UTF_8));
  }

  @Test
  void foreignHostPassesThroughUntouched() throws Exception {
    MockWebServer direct = up.startChat();
    MockWebServer provider = up.startChat();
    ProviderPool pool = ProviderPool.builder()
        .tier(Provider.builder("a").baseUrl(Upstreams.baseUrl(provider)).apiKey("key-a").model("m").build()).build();
    Request req = new Request.Builder().url(direct.url("/v1/chat/completions"))
        .header("Authorization", "Bearer own").post(RequestBody.create(Upstreams.CHAT, Upstreams.JSON)).build();
    Upstreams.call(up.client(pool), req);
    RecordedRequest r = take(direct);
    assertEquals("Bearer own", r.getHeaders().get("Authorization"));
    assertEquals(Upstreams.CHAT, r.getBody().string(StandardCharsets.UTF_8));
    assertEquals(0, up.count(provider));
  }

  @Test
  void clientWithoutInterceptorFailsFastOnTheReservedHost() {
    ProviderPool pool = ProviderPool.builder().tier(Provider.builder("a").baseUrl("http://127.0.0.1:9").build()).build();
    OkHttpClient plain = new OkHttpClient();
    assertThrows(UnknownHostException.class, () -> plain.newCall(Upstreams.chat(pool)).execute().close());
  }

  @Test
  void streamingRequestGetsIncludeUsage() throws Exception {
    MockWebServer a = up.start(r -> Fixtures.sse("openai-chat-stream-usage.sse"));
    ProviderPool pool = ProviderPool.builder().tier(Provider.builder("a").baseUrl(Upstreams.baseUrl(a)).build()).build();
    String body = "{\"model\":\"gpt-4o-mini\",\"stream\":true,\"messages\":[]}";
    Upstreams.call(up.client(pool), Upstreams.post(pool, "chat/completions", body));
    assertEquals("{\"model\":\"gpt-4o-mini\",\"stream\":true,\"messages\":[],\"stream_options\":{\"include_usage\":true}}",
        take(a).getBody().string(StandardCharsets.UTF_8));
  }

  @Test
  void includeUsageCanBeTurnedOffPerProvider() throws Exception {
    MockWebServer a = up.start(r -> Fixtures.sse("openai-chat-stream-no-usage.sse"));
    ProviderPool pool = ProviderPool.builder()
        .tier(Provider.builder("a").baseUrl(Upstreams.baseUrl(a)).includeUsage(false).build()).build();
    String body = "{\"model\":\"x\",\"stream\":true}";
    Upstreams.call(up.client(pool), Upstreams.post(pool, "chat/completions", body));
    assertEquals(body, take(a).getBody().string(StandardCharsets.UTF_8));
  }

  @Test
  void callersStreamOptionsAreRespected() throws Exception {
    MockWebServer a = up.start(r -> Fixtures.sse("openai-chat-stream-no-usage.sse"));
    ProviderPool pool = ProviderPool.builder().tier(Provider.builder("a").baseUrl(Upstreams.baseUrl(a)).build()).build();
    String body = "{\"model\":\"x\",\"stream\":true,\"stream_options\":{\"include_usage\":false}}";
    Upstreams.call(up.client(pool), Upstreams.post(pool, "chat/completions", body));
    assertEquals(body, take(a).getBody().string(StandardCharsets.UTF_8));
    String notStreaming = "{\"model\":\"x\",\"stream\":false}";
    Upstreams.call(up.client(pool), Upstreams.post(pool, "chat/completions", notStreaming));
    assertEquals(notStreaming, take(a).getBody().string(StandardCharsets.UTF_8));
  }

  @Test
  void oneShotBodyIsSentOnceAndNotReplayed() throws Exception {
    MockWebServer bad = up.start(r -> new MockResponse.Builder().code(503).body("{}").build());
    MockWebServer good = up.startChat();
    ProviderPool pool = ProviderPool.builder().strategy(Strategy.ROUND_ROBIN)
        .random(ScriptedRandom.seeded(1))
        .tier(Provider.builder("bad").baseUrl(Upstreams.baseUrl(bad)).build())
        .tier(Provider.builder("good").baseUrl(Upstreams.baseUrl(good)).build()).build();
    RequestBody oneShot = new RequestBody() {
      @Override
      public MediaType contentType() {
        return Upstreams.JSON;
      }

      @Override
      public boolean isOneShot() {
        return true;
      }

      @Override
      public void writeTo(BufferedSink sink) throws IOException {
        sink.writeUtf8(Upstreams.CHAT);
      }
    };
    Request req = new Request.Builder().url(pool.baseUrl().resolve("chat/completions").toString()).post(oneShot).build();
    try (Response r = up.client(pool).newCall(req).execute()) {
      assertEquals(503, r.code());
      assertEquals("false", r.header("x-should-retry"));
    }
    assertEquals(1, up.count(bad));
    assertEquals(0, up.count(good));
  }
}
