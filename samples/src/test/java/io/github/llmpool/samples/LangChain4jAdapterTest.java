package io.github.llmpool.samples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.langchain4j.exception.HttpException;
import dev.langchain4j.exception.RateLimitException;
import dev.langchain4j.http.client.HttpMethod;
import dev.langchain4j.http.client.HttpRequest;
import dev.langchain4j.http.client.SuccessfulHttpResponse;
import dev.langchain4j.http.client.sse.ServerSentEvent;
import dev.langchain4j.http.client.sse.ServerSentEventListener;
import dev.langchain4j.model.chat.response.ChatResponse;
import dev.langchain4j.model.openai.OpenAiChatModel;
import dev.langchain4j.model.openai.OpenAiStreamingChatModel;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import mockwebserver3.RecordedRequest;
import okhttp3.OkHttpClient;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The LangChain4j adapter on its own: a plain OkHttpClient (no pool) straight at one fake
 * provider.
 */
class LangChain4jAdapterTest {

  private FakeProviders fakes;
  private OkHttpClient okHttp;

  @BeforeEach
  void setUp() {
    fakes = FakeProviders.start("direct");
    okHttp = new OkHttpClient();
  }

  @AfterEach
  void tearDown() {
    okHttp.dispatcher().executorService().shutdown();
    okHttp.connectionPool().evictAll();
    fakes.close();
  }

  private LangChain4jOkHttpClient.Builder httpClient() {
    return LangChain4jOkHttpClient.builder().okHttpClient(okHttp);
  }

  @Test
  void chatModel() {
    OpenAiChatModel model = OpenAiChatModel.builder()
        .httpClientBuilder(httpClient())
        .baseUrl(fakes.get("direct").baseUrl())
        .apiKey("sk-direct")
        .modelName("gpt-4o-mini")
        .maxRetries(0)
        .build();

    ChatResponse response = model.chat(dev.langchain4j.model.chat.request.ChatRequest.builder()
        .messages(dev.langchain4j.data.message.UserMessage.from("Say hello"))
        .build());

    assertEquals("hello from direct", response.aiMessage().text());
    assertEquals(3, response.tokenUsage().outputTokenCount());
    RecordedRequest sent = fakes.get("direct").lastRequest();
    assertEquals("/v1/chat/completions", sent.getUrl().encodedPath());
    assertEquals("Bearer sk-direct", sent.getHeaders().get("Authorization"));
    assertEquals("application/json", sent.getHeaders().get("Content-Type"));
  }

  @Test
  void streamingChatModel() throws Exception {
    OpenAiStreamingChatModel model = OpenAiStreamingChatModel.builder()
        .httpClientBuilder(httpClient())
        .baseUrl(fakes.get("direct").baseUrl())
        .apiKey("sk-direct")
        .modelName("gpt-4o-mini")
        .build();

    List<String> parts = new CopyOnWriteArrayList<>();
    CompletableFuture<ChatResponse> done = new CompletableFuture<>();
    model.chat("Say hello", new dev.langchain4j.model.chat.response.StreamingChatResponseHandler() {
      @Override
      public void onPartialResponse(String partial) {
        parts.add(partial);
      }

      @Override
      public void onCompleteResponse(ChatResponse response) {
        done.complete(response);
      }

      @Override
      public void onError(Throwable error) {
        done.completeExceptionally(error);
      }
    });

    ChatResponse response = done.get(30, TimeUnit.SECONDS);
    assertEquals("hello from direct", response.aiMessage().text());
    assertEquals("hello from direct", String.join("", parts), "streamed in pieces: " + parts);
    assertEquals(3, response.tokenUsage().outputTokenCount());
    assertTrue(fakes.get("direct").lastRequestJson().path("stream_options").path("include_usage").asBoolean());
  }

  @Test
  void rateLimitIsMappedAndNotRetriedWithMaxRetriesZero() {
    fakes.get("direct").rateLimitAll(true);
    OpenAiChatModel model = OpenAiChatModel.builder()
        .httpClientBuilder(httpClient())
        .baseUrl(fakes.get("direct").baseUrl())
        .apiKey("sk-direct")
        .modelName("gpt-4o-mini")
        .maxRetries(0)
        .build();
    assertThrows(RateLimitException.class, () -> model.chat("Say hello"));
    assertEquals(1, fakes.get("direct").requestCount());
  }

  @Test
  void rawClientSyncAndSse() throws Exception {
    LangChain4jOkHttpClient client = httpClient().build();
    String url = fakes.get("direct").baseUrl() + "/chat/completions";
    String body = "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}";

    SuccessfulHttpResponse sync = client.execute(HttpRequest.builder()
        .method(HttpMethod.POST).url(url).addHeader("Content-Type", "application/json")
        .addQueryParam("q", "1 2").body(body).build());
    assertEquals(200, sync.statusCode());
    assertTrue(sync.body().contains("hello from direct"));
    assertEquals("1 2", fakes.get("direct").lastRequest().getUrl().queryParameter("q"));

    List<String> data = new CopyOnWriteArrayList<>();
    CompletableFuture<Void> closed = new CompletableFuture<>();
    client.execute(HttpRequest.builder()
        .method(HttpMethod.POST).url(url).addHeader("Content-Type", "application/json")
        .body(body.replace("{", "{\"stream\":true,")).build(), new ServerSentEventListener() {
          @Override
          public void onEvent(ServerSentEvent event) {
            data.add(event.data());
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
    closed.get(30, TimeUnit.SECONDS);
    assertEquals("[DONE]", data.get(data.size() - 1));

    CompletableFuture<Throwable> failed = new CompletableFuture<>();
    fakes.get("direct").rateLimitNext(1);
    client.execute(HttpRequest.builder().method(HttpMethod.POST).url(url).body(body).build(),
        new ServerSentEventListener() {
          @Override
          public void onError(Throwable t) {
            failed.complete(t);
          }
        });
    HttpException e = assertInstanceOf(HttpException.class, failed.get(30, TimeUnit.SECONDS));
    assertEquals(429, e.statusCode());
  }
}
