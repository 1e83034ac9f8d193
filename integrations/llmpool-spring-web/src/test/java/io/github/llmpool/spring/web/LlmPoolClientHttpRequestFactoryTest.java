package io.github.llmpool.spring.web;

import static io.github.llmpool.spring.web.OpenAiFakes.provider;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.llmpool.ProviderPool;
import io.github.llmpool.TokenUsage;
import io.github.llmpool.testing.FakeLlmServer;
import io.github.llmpool.testing.Fault;
import io.github.llmpool.testing.WireFixtures;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import mockwebserver3.MockResponse;
import mockwebserver3.MockWebServer;
import mockwebserver3.RecordedRequest;
import okhttp3.OkHttpClient;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.http.HttpStatus;
import org.springframework.http.MediaType;
import org.springframework.http.ResponseEntity;
import org.springframework.http.StreamingHttpOutputMessage;
import org.springframework.web.client.HttpClientErrorException;
import org.springframework.web.client.HttpServerErrorException;
import org.springframework.web.client.ResourceAccessException;
import org.springframework.web.client.RestClient;
import org.springframework.web.client.RestTemplate;

/**
 * {@link LlmPoolClientHttpRequestFactory} under Spring's real {@code RestClient} and
 * {@code RestTemplate}: as a plain transport against a real HTTP server on loopback (method, URL,
 * headers, bodies, status mapping, streamed responses, timeouts), and through a pool (failover
 * of a RestClient JSON body, usage, the streaming-body rule).
 */
class LlmPoolClientHttpRequestFactoryTest {
  private MockWebServer server;

  @BeforeEach
  void setUp() throws IOException {
    server = TransportChecks.loopbackServer();
  }

  @AfterEach
  void tearDown() {
    server.close();
  }

  private RestClient plain() {
    return RestClient.builder().baseUrl(server.url("/").toString())
        .requestFactory(new LlmPoolClientHttpRequestFactory(new OkHttpClient())).build();
  }

  @Test
  void getSendsMethodPathQueryAndHeadersAndMapsStatusHeadersAndBody() throws Exception {
    server.enqueue(new MockResponse.Builder().code(200).addHeader("Content-Type", "application/json")
        .addHeader("X-Multi", "one").addHeader("X-Multi", "two").body("{\"ok\":true}").build());

    ResponseEntity<String> entity = plain().get().uri("/v1/models?limit=2").header("X-Custom", "yes")
        .accept(MediaType.APPLICATION_JSON).retrieve().toEntity(String.class);

    TransportChecks.assertModelsGet(entity, server);
  }

  @Test
  void postSendsTheConvertedJsonBodyWithItsTypeAndLength() throws Exception {
    server.enqueue(new MockResponse.Builder().code(201).body("made").build());

    ResponseEntity<String> entity = plain().post().uri("/v1/things").contentType(MediaType.APPLICATION_JSON)
        .body(Map.of("model", "m", "n", 3)).retrieve().toEntity(String.class);

    assertEquals(HttpStatus.CREATED, entity.getStatusCode());
    assertEquals("made", entity.getBody());
    RecordedRequest r = server.takeRequest(10, TimeUnit.SECONDS);
    assertEquals("POST", r.getMethod());
    String body = r.getBody().utf8();
    assertTrue(body.contains("\"model\":\"m\"") && body.contains("\"n\":3"), body);
    assertEquals("application/json", r.getHeaders().get("Content-Type"));
  }

  @Test
  void restTemplateWritesThroughGetBodyAndDeleteHasNoBody() throws Exception {
    server.enqueue(new MockResponse.Builder().code(200).body("put").build());
    server.enqueue(new MockResponse.Builder().code(204).build());
    RestTemplate template = new RestTemplate(new LlmPoolClientHttpRequestFactory(new OkHttpClient()));

    template.put(server.url("/a").toString(), "text body");
    template.delete(server.url("/b").toString());

    RecordedRequest put = server.takeRequest(10, TimeUnit.SECONDS);
    assertEquals("PUT", put.getMethod());
    assertEquals("text body", put.getBody().utf8());
    RecordedRequest delete = server.takeRequest(10, TimeUnit.SECONDS);
    assertEquals("DELETE", delete.getMethod());
    assertEquals(0, delete.getBodySize());
  }

  @Test
  void errorStatusesAreMappedByRestClientWithBodyAndHeaders() {
    server.enqueue(WireFixtures.response("openai-404-unknown-url.http").build());
    server.enqueue(WireFixtures.response("openai-429-rate-limit.http").build());
    server.enqueue(new MockResponse.Builder().code(503).body("down").build());
    RestClient rest = plain();

    HttpClientErrorException.NotFound nf = assertThrows(HttpClientErrorException.NotFound.class,
        () -> rest.get().uri("/nope").retrieve().body(String.class));
    assertTrue(nf.getResponseBodyAsString().contains("Invalid URL"), nf.getResponseBodyAsString());

    HttpClientErrorException.TooManyRequests tm = assertThrows(HttpClientErrorException.TooManyRequests.class,
        () -> rest.post().uri("/v1/chat/completions").body("{}").retrieve().body(String.class));
    assertEquals("2", tm.getResponseHeaders().getFirst("retry-after"));

    HttpServerErrorException.ServiceUnavailable su = assertThrows(HttpServerErrorException.ServiceUnavailable.class,
        () -> rest.get().uri("/x").retrieve().body(String.class));
    assertEquals("down", su.getResponseBodyAsString());
  }

  @Test
  void theResponseBodyIsStreamedNotBuffered() throws Exception {
    GatedBody body = GatedBody.of("data: one\n\n", "data: two\n\n");
    server.enqueue(body.response("text/event-stream"));

    List<String> lines = plain().get().uri("/events").exchange((req, resp) -> {
      BufferedReader r = new BufferedReader(new InputStreamReader(resp.getBody(), StandardCharsets.UTF_8));
      // Only the first event has been written: reading it must not wait for the rest.
      String first = r.readLine();
      body.release();
      r.readLine();
      String second = r.readLine();
      return List.of(first, second, String.valueOf(r.readLine()), String.valueOf(r.readLine()));
    });

    assertEquals(List.of("data: one", "data: two", "", "null"), lines);
  }

  @Test
  void aReadTimeoutSetOnTheFactoryApplies() {
    server.enqueue(new MockResponse.Builder().code(200).body("late").headersDelay(5, TimeUnit.SECONDS).build());
    LlmPoolClientHttpRequestFactory factory = new LlmPoolClientHttpRequestFactory(new OkHttpClient());
    factory.setReadTimeout(Duration.ofMillis(200));
    RestClient rest = RestClient.builder().requestFactory(factory).build();

    ResourceAccessException e = assertThrows(ResourceAccessException.class,
        () -> rest.get().uri(server.url("/slow").toString()).retrieve().body(String.class));
    assertInstanceOf(SocketTimeoutException.class, e.getCause());
  }

  @Test
  void negativeTimeoutsAreRejectedNamingTheSetting() {
    LlmPoolClientHttpRequestFactory f = new LlmPoolClientHttpRequestFactory(new OkHttpClient());
    TransportChecks.assertRejectNegativeAndApply(f::setConnectTimeout, f::setReadTimeout, f::setWriteTimeout,
        f::setCallTimeout, f::okHttpClient);
  }

  // ---- through a pool ----

  private static final Map<String, Object> CHAT = Map.of("model", "gpt-4o-mini",
      "messages", List.of(Map.of("role", "user", "content", "hi")));

  @Test
  void aRestClientJsonBodyIsFailedOverInsideThePool() throws Exception {
    try (FakeLlmServer a = OpenAiFakes.openAi("a"); FakeLlmServer b = OpenAiFakes.openAi("b")) {
      a.failAlways(Fault.rateLimited());
      BlockingQueue<TokenUsage> usages = new LinkedBlockingQueue<>();
      ProviderPool pool = ProviderPool.builder().tier(provider(a)).tier(provider(b)).onUsage(usages::add).build();
      RestClient rest = RestClient.builder().baseUrl(pool.baseUrl().toString())
          .requestFactory(LlmPoolSpring.requestFactory(pool)).build();

      String answer = rest.post().uri("chat/completions").contentType(MediaType.APPLICATION_JSON).body(CHAT)
          .retrieve().body(String.class);

      assertTrue(answer.contains("agentgateway works"), answer);
      assertEquals(1, a.requestCount());
      assertEquals(1, b.requestCount());
      assertEquals("Bearer key-b", b.lastRequest().headers().get("Authorization"));
      assertEquals("model-b", b.lastRequest().json().path("model").asText(), "the JSON body was rewritten for b");
      TokenUsage u;
      do {
        u = usages.poll(10, TimeUnit.SECONDS);
        assertNotNull(u);
      } while (!u.provider().equals("b"));
      assertEquals(80, u.totalTokens());
    }
  }

  @Test
  void aNonRepeatableStreamingBodyIsSentOnceAndNotFailedOver() throws Exception {
    try (FakeLlmServer a = OpenAiFakes.openAi("a"); FakeLlmServer b = OpenAiFakes.openAi("b")) {
      a.failAlways(Fault.rateLimited());
      ProviderPool pool = ProviderPool.builder().tier(provider(a)).tier(provider(b)).build();
      RestClient rest = RestClient.builder().baseUrl(pool.baseUrl().toString())
          .requestFactory(LlmPoolSpring.requestFactory(pool)).build();
      String json = "{\"model\":\"gpt-4o-mini\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}";
      StreamingHttpOutputMessage.Body oneShot = out -> out.write(json.getBytes(StandardCharsets.UTF_8));

      HttpClientErrorException.TooManyRequests e = assertThrows(HttpClientErrorException.TooManyRequests.class,
          () -> rest.post().uri("chat/completions").contentType(MediaType.APPLICATION_JSON).body(oneShot)
              .retrieve().body(String.class));

      assertNotNull(e.getResponseHeaders());
      assertEquals(1, a.requestCount(), "streamed to a once");
      assertEquals(0, b.requestCount(), "a one-shot body cannot be written again for b");
      assertEquals(json, a.lastRequest().body(), "passed on untouched");
      assertFalse(a.lastRequest().headers().names().isEmpty());
    }
  }
}
