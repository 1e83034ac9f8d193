package io.github.llmpool.langchain4j;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.langchain4j.exception.HttpException;
import dev.langchain4j.http.client.HttpMethod;
import dev.langchain4j.http.client.HttpRequest;
import dev.langchain4j.http.client.SuccessfulHttpResponse;
import dev.langchain4j.http.client.sse.ServerSentEvent;
import dev.langchain4j.http.client.sse.ServerSentEventListener;
import io.github.llmpool.Provider;
import io.github.llmpool.ProviderPool;
import io.github.llmpool.testing.FakeLlmServer;
import io.github.llmpool.testing.Fault;
import io.github.llmpool.testing.ReceivedRequest;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import mockwebserver3.MockResponse;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The HTTP client on its own, as LangChain4j's models call it: methods, URLs, headers, bodies,
 * multipart uploads, server-sent events and errors, through a one-provider pool.
 */
class LlmPoolHttpClientTest {
  private FakeLlmServer fake;
  private LlmPoolHttpClientBuilder builder;
  private LlmPoolHttpClient client;
  private String base;

  @BeforeEach
  void start() {
    fake = FakeLlmServer.start("direct").requireApiKey(true).reply("agentgateway works");
    ProviderPool pool = ProviderPool.builder()
        .tier(Provider.builder("direct").baseUrl(fake.baseUrl()).apiKey(fake.apiKey()).build())
        .build();
    builder = LlmPoolLangChain4j.httpClientBuilder(pool);
    client = builder.build();
    base = LlmPoolLangChain4j.baseUrl(pool);
  }

  @AfterEach
  void stop() {
    builder.close();
    fake.close();
  }

  private static final String BODY = "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}";
  /**
   * A stream request as LangChain4j sends it, asking for the final usage chunk: the fake answers
   * {@code "agentgateway works"} in five chunks (role, two words, finish, usage), then {@code [DONE]}.
   */
  private static final String STREAM_BODY = BODY.replace("{\"model\"",
      "{\"stream\":true,\"stream_options\":{\"include_usage\":true},\"model\"");

  @Test
  void postWithQueryParametersHeadersAndBody() {
    SuccessfulHttpResponse r = client.execute(HttpRequest.builder()
        .method(HttpMethod.POST).url(base, "chat/completions")
        .addHeader("Content-Type", "application/json")
        .addHeader("X-Custom", "one", "two")
        .addQueryParam("api-version", "2024 10")
        .body(BODY).build());

    assertEquals(200, r.statusCode());
    assertTrue(r.body().contains("agentgateway works"), r.body());
    assertEquals("application/json", r.contentType());
    ReceivedRequest sent = fake.lastRequest();
    assertEquals("POST", sent.method());
    assertEquals("/v1/chat/completions", sent.path());
    assertEquals("2024 10", sent.url().queryParameter("api-version"));
    assertEquals(List.of("one", "two"), sent.headers().values("X-Custom"));
    assertEquals("application/json", sent.headers().get("Content-Type"));
    assertEquals(BODY, sent.body());
  }

  @Test
  void getWithoutBody() {
    fake.answerWith(req -> new MockResponse.Builder().code(200).addHeader("content-type", "application/json")
        .body("{\"object\":\"list\",\"data\":[]}").build());
    SuccessfulHttpResponse r = client.execute(HttpRequest.builder().method(HttpMethod.GET).url(base, "models").build());
    assertEquals("{\"object\":\"list\",\"data\":[]}", r.body());
    assertEquals("GET", fake.lastRequest().method());
    assertTrue(fake.lastRequest().body().isEmpty(), "no body");
  }

  @Test
  void multipartFormData() {
    fake.answerWith(req -> new MockResponse.Builder().code(200).addHeader("content-type", "application/json")
        .body("{\"text\":\"hello\"}").build());
    client.execute(HttpRequest.builder().method(HttpMethod.POST).url(base, "audio/transcriptions")
        .addHeader("Content-Type", "multipart/form-data")
        .addFormDataField("model", "whisper-1")
        .addFormDataFile("file", "a.wav", "audio/wav", "RIFF....".getBytes(StandardCharsets.US_ASCII))
        .build());
    ReceivedRequest sent = fake.lastRequest();
    String type = sent.headers().get("Content-Type");
    assertTrue(type.startsWith("multipart/form-data; boundary="), type);
    String body = sent.body();
    assertTrue(body.contains("name=\"model\"") && body.contains("whisper-1"), body);
    assertTrue(body.contains("filename=\"a.wav\"") && body.contains("Content-Type: audio/wav") && body.contains("RIFF...."), body);
  }

  @Test
  void aNonSuccessIsLangChain4jsHttpExceptionWithStatusAndBody() {
    fake.failAlways(Fault.fixture("openai-400.http"));
    HttpException e = assertThrows(HttpException.class, () -> client.execute(HttpRequest.builder()
        .method(HttpMethod.POST).url(base, "chat/completions").body(BODY).build()));
    assertEquals(400, e.statusCode());
    assertTrue(e.getMessage().contains("invalid_request_error"), e.getMessage());
  }

  /** Events in order: onOpen, the events, then exactly one onClose. */
  @Test
  void serverSentEvents() throws Exception {
    List<String> seen = new CopyOnWriteArrayList<>();
    CompletableFuture<Void> closed = new CompletableFuture<>();
    client.execute(HttpRequest.builder().method(HttpMethod.POST).url(base, "chat/completions")
        .addHeader("Content-Type", "application/json").body(STREAM_BODY).build(),
        new ServerSentEventListener() {
          @Override
          public void onOpen(SuccessfulHttpResponse response) {
            seen.add("open " + response.statusCode());
          }

          @Override
          public void onEvent(ServerSentEvent event) {
            seen.add(event.data().startsWith("{") ? "chunk" : event.data());
          }

          @Override
          public void onError(Throwable t) {
            closed.completeExceptionally(t);
          }

          @Override
          public void onClose() {
            seen.add("close");
            closed.complete(null);
          }
        });
    closed.get(10, TimeUnit.SECONDS);
    assertEquals(List.of("open 200", "chunk", "chunk", "chunk", "chunk", "chunk", "[DONE]", "close"), seen);
  }

  @Test
  void aNonSuccessWhileStreamingIsOneOnErrorAndNoClose() throws Exception {
    fake.failAlways(Fault.fixture("openai-400.http"));
    List<String> calls = new CopyOnWriteArrayList<>();
    CompletableFuture<Throwable> failed = new CompletableFuture<>();
    client.execute(HttpRequest.builder().method(HttpMethod.POST).url(base, "chat/completions").body(BODY).build(),
        new ServerSentEventListener() {
          @Override
          public void onOpen(SuccessfulHttpResponse response) {
            calls.add("open");
          }

          @Override
          public void onError(Throwable t) {
            calls.add("error");
            failed.complete(t);
          }

          @Override
          public void onClose() {
            calls.add("close");
          }
        });
    HttpException e = assertInstanceOf(HttpException.class, failed.get(10, TimeUnit.SECONDS));
    assertEquals(400, e.statusCode());
    // The callback has returned once the dispatcher is idle: nothing else was called.
    CompletableFuture<Void> idle = new CompletableFuture<>();
    builder.okHttpClient().dispatcher().setIdleCallback(() -> idle.complete(null));
    if (builder.okHttpClient().dispatcher().runningCallsCount() == 0) {
      idle.complete(null);
    }
    idle.get(10, TimeUnit.SECONDS);
    assertEquals(List.of("error"), calls);
  }

  @Test
  void aListenerThatThrowsDoesNotEndTheStream() throws Exception {
    List<String> data = new CopyOnWriteArrayList<>();
    CompletableFuture<Void> closed = new CompletableFuture<>();
    client.execute(HttpRequest.builder().method(HttpMethod.POST).url(base, "chat/completions")
        .body(STREAM_BODY).build(),
        new ServerSentEventListener() {
          @Override
          public void onEvent(ServerSentEvent event) {
            data.add(event.data());
            throw new IllegalStateException("a listener bug");
          }

          @Override
          public void onError(Throwable t) {
            closed.completeExceptionally(t);
          }

          @Override
          public void onClose() {
            closed.complete(null);
          }
        });
    closed.get(10, TimeUnit.SECONDS);
    assertEquals(6, data.size(), "every event, as LangChain4j's own clients do: " + data);
  }
}
