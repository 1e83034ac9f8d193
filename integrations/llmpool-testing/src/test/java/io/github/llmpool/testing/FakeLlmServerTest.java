package io.github.llmpool.testing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.ConnectException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import mockwebserver3.MockResponse;
import okhttp3.MediaType;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import okhttp3.RequestBody;
import okhttp3.Response;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Each behaviour of {@link FakeLlmServer}, over real HTTP with a plain OkHttp client (no pool). */
class FakeLlmServerTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final MediaType APPLICATION_JSON = MediaType.get("application/json");

  private final FakeLlmServer server = FakeLlmServer.start("a");
  // No retries on connection failure: a refused connection must show as such.
  private final OkHttpClient http = new OkHttpClient.Builder().retryOnConnectionFailure(false).build();

  @AfterEach
  void tearDown() {
    server.close();
    http.dispatcher().executorService().shutdown();
    http.connectionPool().evictAll();
  }

  record Answer(int code, okhttp3.Headers headers, String body) {
    JsonNode json() throws IOException {
      return JSON.readTree(body);
    }
  }

  private Answer post(String path, String body) throws IOException {
    return post(path, body, "Bearer " + server.apiKey());
  }

  private Answer post(String path, String body, String authorization) throws IOException {
    Request.Builder r = new Request.Builder().url(server.baseUrl() + path).post(RequestBody.create(body, APPLICATION_JSON));
    if (authorization != null) {
      r.header("Authorization", authorization);
    }
    try (Response response = http.newCall(r.build()).execute()) {
      return new Answer(response.code(), response.headers(), response.body().string());
    }
  }

  private static String chat(String model, boolean stream, boolean includeUsage) {
    return "{\"model\":\"" + model + "\",\"messages\":[{\"role\":\"user\",\"content\":\"Say hello to the test\"}]"
        + (stream ? ",\"stream\":true" : "")
        + (includeUsage ? ",\"stream_options\":{\"include_usage\":true}" : "") + "}";
  }

  /** The {@code data:} payloads of an SSE body, as OpenAI's clients split them (blank-line separated events). */
  static List<String> dataLines(String sse) {
    List<String> data = new ArrayList<>();
    for (String event : sse.split("\n\n")) {
      for (String line : event.split("\n")) {
        if (line.startsWith("data: ")) {
          data.add(line.substring("data: ".length()));
        }
      }
    }
    return data;
  }

  @Test
  void chatCompletionEchoesTheModelAndReportsEstimatedOrFixedUsage() throws Exception {
    Answer a = post("/chat/completions", chat("model-x", false, false));
    assertEquals(200, a.code());
    JsonNode j = a.json();
    assertEquals("chat.completion", j.path("object").asText());
    assertEquals("model-x", j.path("model").asText(), "answers are built from the request's model");
    assertEquals("hello from a", j.path("choices").path(0).path("message").path("content").asText());
    // "Say hello to the test" is 21 characters: 3 + ceil(21 / 4) = 9 prompt tokens; 3 words of reply.
    assertEquals(9, j.path("usage").path("prompt_tokens").asInt());
    assertEquals(3, j.path("usage").path("completion_tokens").asInt());
    assertEquals(12, j.path("usage").path("total_tokens").asInt());

    server.reply("four words of reply").usage(100, 7);
    JsonNode fixed = post("/chat/completions", chat("model-y", false, false)).json();
    assertEquals("four words of reply", fixed.path("choices").path(0).path("message").path("content").asText());
    assertEquals(100, fixed.path("usage").path("prompt_tokens").asInt());
    assertEquals(7, fixed.path("usage").path("completion_tokens").asInt());
    assertEquals(107, fixed.path("usage").path("total_tokens").asInt());

    server.estimatedUsage();
    assertEquals(4, post("/chat/completions", chat("m", false, false)).json().path("usage").path("completion_tokens").asInt());
  }

  @Test
  void streamWithIncludeUsageEndsWithAUsageChunkThenDone() throws Exception {
    server.usage(19, 2).reply("pool ok");
    Answer a = post("/chat/completions", chat("model-s", true, true));
    assertEquals(200, a.code());
    assertTrue(a.headers().get("content-type").startsWith("text/event-stream"));
    List<String> data = dataLines(a.body());
    assertEquals("[DONE]", data.get(data.size() - 1));
    JsonNode usageChunk = JSON.readTree(data.get(data.size() - 2));
    assertEquals(0, usageChunk.path("choices").size(), "the usage chunk has choices: []");
    assertEquals(21, usageChunk.path("usage").path("total_tokens").asInt());
    StringBuilder text = new StringBuilder();
    for (String d : data.subList(0, data.size() - 2)) {
      JsonNode chunk = JSON.readTree(d);
      assertEquals("chat.completion.chunk", chunk.path("object").asText());
      assertEquals("model-s", chunk.path("model").asText());
      assertTrue(chunk.has("usage") && chunk.get("usage").isNull(), "every other chunk says usage: null");
      text.append(chunk.path("choices").path(0).path("delta").path("content").asText(""));
    }
    assertEquals("pool ok", text.toString());

    List<String> noUsage = dataLines(post("/chat/completions", chat("m", true, false)).body());
    assertEquals("[DONE]", noUsage.get(noUsage.size() - 1));
    for (String d : noUsage.subList(0, noUsage.size() - 1)) {
      assertFalse(JSON.readTree(d).has("usage"), "no usage anywhere unless the client asked: " + d);
    }
    assertTrue(server.lastRequest().stream());
    assertFalse(server.lastRequest().includeUsage());
  }

  @Test
  void responsesApiAndEmbeddings() throws Exception {
    server.usage(36, 87).reply("Hi there");
    JsonNode r = post("/responses", "{\"model\":\"gpt-4.1\",\"input\":\"Say hello\"}").json();
    assertEquals("response", r.path("object").asText());
    assertEquals("Hi there", r.path("output").path(0).path("content").path(0).path("text").asText());
    assertEquals(36, r.path("usage").path("input_tokens").asInt());
    assertEquals(87, r.path("usage").path("output_tokens").asInt());
    assertEquals(123, r.path("usage").path("total_tokens").asInt());

    String stream = post("/responses", "{\"model\":\"gpt-4.1\",\"input\":\"Say hello\",\"stream\":true}").body();
    assertTrue(stream.contains("event: response.completed"), stream);
    assertFalse(stream.contains("[DONE]"), "the Responses stream has no [DONE]");
    List<String> data = dataLines(stream);
    assertEquals(123, JSON.readTree(data.get(data.size() - 1)).path("response").path("usage").path("total_tokens").asInt());

    server.estimatedUsage();
    JsonNode e = post("/embeddings", "{\"model\":\"text-embedding-3-small\",\"input\":[\"one\",\"two\"]}").json();
    assertEquals(2, e.path("data").size());
    assertEquals(8, e.path("data").path(1).path("embedding").size());
    assertEquals(e.path("usage").path("prompt_tokens").asInt(), e.path("usage").path("total_tokens").asInt());
    assertTrue(e.path("usage").path("prompt_tokens").asInt() > 0);
  }

  @Test
  void unknownPathsAndBadBodiesGetOpenAisErrors() throws Exception {
    Answer notFound = post("/files", "{}");
    assertEquals(404, notFound.code());
    assertEquals("invalid_request_error", notFound.json().path("error").path("type").asText());
    assertEquals(400, post("/chat/completions", "not json").code());
    assertEquals(List.of(404, 400), server.requests().stream().map(ReceivedRequest::status).toList());
  }

  @Test
  void theKeyIsCheckedOnlyWhenAskedForAndIsAvailableToAssertionsButNeverPrinted() throws Exception {
    assertEquals(200, post("/chat/completions", chat("m", false, false), "Bearer whatever").code());

    server.requireApiKey(true);
    Answer missing = post("/chat/completions", chat("m", false, false), null);
    assertEquals(401, missing.code());
    assertTrue(missing.json().path("error").path("message").asText().contains("didn't provide an API key"));
    Answer wrong = post("/chat/completions", chat("m", false, false), "Bearer sk-wrong-secret");
    assertEquals(401, wrong.code());
    assertEquals("invalid_api_key", wrong.json().path("error").path("code").asText());
    assertFalse(wrong.body().contains("sk-wrong-secret"), "the key is not echoed");
    assertEquals(200, post("/chat/completions", chat("m", false, false)).code());

    ReceivedRequest last = server.lastRequest();
    assertEquals("Bearer key-a", last.authorization(), "tests can assert the provider's key arrived");
    assertFalse(last.toString().contains("key-a"), last.toString());
    assertTrue(last.toString().contains("Authorization: <redacted>"), last.toString());
    assertFalse(server.toString().contains("key-a"), server.toString());
    assertTrue(server.requests().get(2).toString().contains("<redacted>"));
    assertFalse(server.requests().get(2).toString().contains("sk-wrong-secret"));
  }

  @Test
  void failNextAnswersRateLimitsWithRetryAfterAndOpenAisHeadersThenSucceeds() throws Exception {
    server.rateLimitNext(2, Duration.ofSeconds(3));
    for (int i = 0; i < 2; i++) {
      Answer a = post("/chat/completions", chat("m", false, false));
      assertEquals(429, a.code());
      assertEquals("3", a.headers().get("retry-after"));
      assertEquals("3s", a.headers().get("x-ratelimit-reset-requests"));
      assertEquals("0", a.headers().get("x-ratelimit-remaining-requests"));
      assertEquals("rate_limit_exceeded", a.json().path("error").path("code").asText());
    }
    assertEquals(200, post("/chat/completions", chat("m", false, false)).code());

    server.failNext(1, Fault.rateLimited(Duration.ofMillis(1500))).failNext(1, Fault.rateLimited());
    Answer subSecond = post("/chat/completions", chat("m", false, false));
    assertEquals("2", subSecond.headers().get("retry-after"), "rounded up");
    assertEquals("1500", subSecond.headers().get("retry-after-ms"));
    assertEquals("2", post("/chat/completions", chat("m", false, false)).headers().get("retry-after"), "the recorded shape");

    assertEquals(5, server.requestCount());
    assertEquals(4, server.faultCount());
    assertEquals(1, server.successCount());
    assertEquals(List.of(429, 429, 200, 429, 429), server.requests().stream().map(ReceivedRequest::status).toList());
  }

  @Test
  void failAlwaysAnswersTheServerErrorShapesUntilHealed() throws Exception {
    server.failAlways(Fault.unavailable());
    assertEquals(503, post("/chat/completions", chat("m", false, false)).code());
    assertNull(post("/chat/completions", chat("m", false, false)).headers().get("retry-after"));
    server.failAlways(Fault.unavailable(Duration.ofSeconds(4)));
    assertEquals("4", post("/chat/completions", chat("m", false, false)).headers().get("retry-after"));
    server.failAlways(Fault.overloaded());
    Answer overloaded = post("/chat/completions", chat("m", false, false));
    assertEquals(529, overloaded.code());
    assertEquals("overloaded_error", overloaded.json().path("error").path("type").asText());
    server.failAlways(Fault.serverError());
    assertEquals(500, post("/chat/completions", chat("m", false, false)).code());
    server.failAlways(Fault.quotaExhausted());
    Answer quota = post("/chat/completions", chat("m", false, false));
    assertEquals(429, quota.code());
    assertEquals("insufficient_quota", quota.json().path("error").path("code").asText());
    server.failAlways(Fault.fixture("gemini-429.http"));
    assertEquals(429, post("/chat/completions", chat("m", false, false)).code());
    server.failAlways(Fault.status(418, "{\"error\":{\"message\":\"teapot\"}}"));
    assertEquals(418, post("/chat/completions", chat("m", false, false)).code());

    server.failNext(1, Fault.serverError()).heal();
    assertEquals(200, post("/chat/completions", chat("m", false, false)).code(), "heal() drops every scripted fault");
  }

  @Test
  void disconnectClosesTheConnectionWithoutAStatus() {
    server.failNext(1, Fault.disconnect());
    assertThrows(IOException.class, () -> post("/chat/completions", chat("m", false, false)));
    assertEquals(-1, server.lastRequest().status());
    assertEquals(-1, Fault.disconnect().status());
  }

  @Test
  void latencyDelaysTheHeadersAndThrottleSpreadsTheStream() throws Exception {
    server.latency(Duration.ofMillis(300));
    long t0 = System.nanoTime();
    assertEquals(200, post("/chat/completions", chat("m", false, false)).code());
    long headers = System.nanoTime() - t0;
    assertTrue(headers >= TimeUnit.MILLISECONDS.toNanos(300), "latency(300 ms) took " + headers / 1_000_000 + " ms");

    server.latency(Duration.ZERO).reply("one two three four five six").throttle(200, Duration.ofMillis(40));
    t0 = System.nanoTime();
    String body = post("/chat/completions", chat("m", true, true)).body();
    long stream = System.nanoTime() - t0;
    int periods = (body.length() + 199) / 200 - 1; // the last slice is written without a pause after it
    assertTrue(stream >= TimeUnit.MILLISECONDS.toNanos(40L * periods - 5),
        body.length() + " bytes at 200 per 40 ms took " + stream / 1_000_000 + " ms");

    server.throttle(0, Duration.ZERO).bodyDelay(Duration.ofMillis(200));
    t0 = System.nanoTime();
    post("/chat/completions", chat("m", false, false));
    assertTrue(System.nanoTime() - t0 >= TimeUnit.MILLISECONDS.toNanos(200));
  }

  @Test
  void latencyOnMovesTheTickerWhileAnsweringAndWaitsForNothing() throws Exception {
    ManualTicker ticker = new ManualTicker();
    long t0 = ticker.read();
    server.latencyOn(ticker, Duration.ofMillis(750));
    assertEquals(200, post("/chat/completions", chat("m", false, false)).code());
    assertEquals(750_000_000L, ticker.read() - t0, "one answer, 750 ms on the ticker");
    server.failNext(1, Fault.serverError());
    assertEquals(500, post("/chat/completions", chat("m", false, false)).code());
    assertEquals(1_500_000_000L, ticker.read() - t0, "a fault takes its time too");
    server.latencyOn(ticker, Duration.ZERO);
    assertEquals(200, post("/chat/completions", chat("m", false, false)).code());
    assertEquals(1_500_000_000L, ticker.read() - t0, "zero: off");
  }

  @Test
  void downRefusesConnectionsAndUpComesBackOnTheSamePort() throws Exception {
    assertEquals(200, post("/chat/completions", chat("m", false, false)).code());
    int port = server.port();
    server.down();
    assertFalse(server.isUp());
    http.connectionPool().evictAll(); // open connections were closed; a new one is refused
    assertThrows(ConnectException.class, () -> post("/chat/completions", chat("m", false, false)));
    server.up().up();
    assertTrue(server.isUp());
    assertEquals(port, server.port());
    assertEquals(200, post("/chat/completions", chat("m", false, false)).code());
    assertEquals(2, server.requestCount(), "the refused attempt never reached the server");
  }

  @Test
  void answerWithTakesOverAfterTheKeyCheckAndFaults() throws Exception {
    server.answerWith(r -> new MockResponse.Builder().code(202).body("custom " + r.model()).build());
    assertEquals("custom m1", post("/chat/completions", chat("m1", false, false)).body());
    server.failNext(1, Fault.serverError());
    assertEquals(500, post("/chat/completions", chat("m", false, false)).code());
    server.answerWith(null);
    assertEquals(200, post("/chat/completions", chat("m", false, false)).code());
  }

  @Test
  void aRequestIsCountedAndListedOnArrivalWhileItsAnswerIsMade() throws Exception {
    CountDownLatch arrived = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    server.answerWith(r -> {
      arrived.countDown();
      try {
        release.await(10, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      return new MockResponse.Builder().code(200).body("released").build();
    });
    ExecutorService caller = Executors.newSingleThreadExecutor();
    try {
      Future<Answer> answer = caller.submit(() -> post("/chat/completions", chat("held", false, false)));
      assertTrue(arrived.await(10, TimeUnit.SECONDS), "the request reached the answer function");
      assertEquals(1, server.requestCount(), "counted while its answer is held");
      assertEquals("held", server.lastRequest().model());
      assertEquals(ReceivedRequest.ANSWERING, server.lastRequest().status());
      assertEquals(0, server.successCount());
      release.countDown();
      assertEquals("released", answer.get(10, TimeUnit.SECONDS).body());
    } finally {
      release.countDown();
      caller.shutdownNow();
    }
    assertEquals(1, server.requestCount());
    assertEquals(List.of(200), server.requests().stream().map(ReceivedRequest::status).toList());
    assertEquals(1, server.successCount());
  }

  @Test
  void exactPathsServeOnlyThePathsUnderTheBaseUrl() throws Exception {
    String body = chat("m", false, false);
    // baseUrl() ends in /v1: "/v1/chat/completions" here is the doubled /v1/v1/chat/completions.
    assertEquals(200, post("/v1/chat/completions", body).code(), "by default any path ending in /chat/completions");
    server.exactPaths(true);
    Answer doubled = post("/v1/chat/completions", body);
    assertEquals(404, doubled.code());
    assertEquals("Invalid URL (POST /v1/v1/chat/completions)", doubled.json().path("error").path("message").asText());
    assertEquals(404, post("/openai/deployments/d/chat/completions", body).code());
    assertEquals(200, post("/chat/completions", body).code());
    assertEquals(200, post("/responses", "{\"model\":\"m\",\"input\":\"hi\"}").code());
    assertEquals(200, post("/embeddings", "{\"model\":\"e\",\"input\":\"hi\"}").code());
    assertEquals(List.of("/v1/v1/chat/completions", "/v1/v1/chat/completions", "/v1/openai/deployments/d/chat/completions",
        "/v1/chat/completions", "/v1/responses", "/v1/embeddings"),
        server.requests().stream().map(ReceivedRequest::path).toList());
  }

  @Test
  void concurrentRequestsAreAllCountedAndRecorded() throws Exception {
    server.failNext(10, Fault.rateLimited());
    ExecutorService pool = Executors.newFixedThreadPool(8);
    try {
      List<Future<Integer>> codes = new ArrayList<>();
      for (int i = 0; i < 80; i++) {
        codes.add(pool.submit(() -> post("/chat/completions", chat("m", false, false)).code()));
      }
      int rateLimited = 0;
      for (Future<Integer> f : codes) {
        rateLimited += f.get(30, TimeUnit.SECONDS) == 429 ? 1 : 0;
      }
      assertEquals(10, rateLimited, "exactly the ten scripted 429s, whatever the interleaving");
    } finally {
      pool.shutdownNow();
    }
    assertEquals(80, server.requestCount());
    assertEquals(80, server.requests().size());
    assertEquals(10, server.faultCount());
    assertEquals(70, server.successCount());
    server.clearRequests();
    assertEquals(0, server.requestCount());
    assertThrows(IllegalStateException.class, server::lastRequest);
  }

  @Test
  void badSettingsNameTheSettingAndTheValue() {
    assertEquals("failNext(n, fault): n must be >= 0, was -1",
        assertThrows(IllegalArgumentException.class, () -> server.failNext(-1, Fault.serverError())).getMessage());
    assertEquals("latency must be zero or positive, was pt-1s",
        assertThrows(IllegalArgumentException.class, () -> server.latency(Duration.ofSeconds(-1))).getMessage());
    assertEquals("latencyOn must be zero or positive, was pt-0.001s", assertThrows(IllegalArgumentException.class,
        () -> server.latencyOn(new ManualTicker(), Duration.ofMillis(-1))).getMessage());
    assertTrue(assertThrows(IllegalArgumentException.class, () -> Fault.rateLimited(Duration.ZERO)).getMessage()
        .contains("retryAfter must be positive, was pt0s"));
    assertTrue(assertThrows(IllegalArgumentException.class, () -> server.throttle(10, Duration.ZERO)).getMessage()
        .contains("both zero (off) or both positive"));
    assertTrue(assertThrows(IllegalArgumentException.class, () -> server.usage(-1, 0)).getMessage().contains("-1"));
    assertTrue(assertThrows(IllegalArgumentException.class, () -> FakeLlmServer.start(" ")).getMessage()
        .contains("name must not be blank"));
    assertTrue(assertThrows(IllegalArgumentException.class, () -> FakeLlmServer.start("x", "x")).getMessage()
        .contains("duplicate provider name 'x'"));
    assertTrue(assertThrows(IllegalArgumentException.class, () -> Fault.status(99, "{}")).getMessage().contains("99"));
  }

  @Test
  void startManyAndTheProviderBuilderPointAtTheServers() {
    List<FakeLlmServer> fakes = FakeLlmServer.start("x", "y");
    try {
      assertEquals(List.of("x", "y"), fakes.stream().map(FakeLlmServer::name).toList());
      assertTrue(fakes.get(0).port() != fakes.get(1).port());
      io.github.llmpool.Provider p = fakes.get(1).provider().weight(3).build();
      assertEquals("y", p.name());
      assertEquals(3, p.weight());
      assertFalse(p.toString().contains("key-y"), "the core's Provider hides the key too: " + p);
    } finally {
      fakes.forEach(FakeLlmServer::close);
    }
  }
}
