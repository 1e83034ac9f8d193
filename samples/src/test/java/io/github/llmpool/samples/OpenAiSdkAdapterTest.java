package io.github.llmpool.samples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.openai.client.OpenAIClient;
import com.openai.client.OpenAIClientImpl;
import com.openai.core.ClientOptions;
import com.openai.core.http.StreamResponse;
import com.openai.errors.NotFoundException;
import com.openai.errors.RateLimitException;
import com.openai.models.chat.completions.ChatCompletion;
import com.openai.models.chat.completions.ChatCompletionChunk;
import com.openai.models.chat.completions.ChatCompletionCreateParams;
import com.openai.models.chat.completions.ChatCompletionStreamOptions;
import com.openai.models.embeddings.EmbeddingCreateParams;
import com.openai.models.embeddings.EmbeddingModel;
import com.openai.models.completions.CompletionUsage;
import com.openai.models.models.ModelRetrieveParams;
import com.openai.models.responses.Response;
import com.openai.models.responses.ResponseCreateParams;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import mockwebserver3.RecordedRequest;
import okhttp3.OkHttpClient;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The SDK adapter on its own: a plain OkHttpClient (no pool) straight at one fake provider, to
 * show that requests, headers, query parameters, bodies, statuses and streamed bodies cross it
 * intact.
 */
class OpenAiSdkAdapterTest {

  private FakeProviders fakes;
  private OkHttpClient okHttp;
  private OpenAIClient client;

  @BeforeEach
  void setUp() {
    fakes = FakeProviders.start("direct");
    okHttp = new OkHttpClient();
    client = new OpenAIClientImpl(ClientOptions.builder()
        .httpClient(LlmPoolHttpClient.owning(okHttp))
        .baseUrl(fakes.get("direct").baseUrl())
        .apiKey("sk-direct")
        .maxRetries(0)
        .build());
  }

  @AfterEach
  void tearDown() {
    client.close();
    fakes.close();
  }

  private static ChatCompletionCreateParams.Builder chat() {
    return ChatCompletionCreateParams.builder().model("gpt-4o-mini").addUserMessage("Say hello");
  }

  @Test
  void chatCompletionCrossesTheAdapter() {
    ChatCompletion completion = client.chat().completions().create(chat().build());

    assertEquals("hello from direct", completion.choices().get(0).message().content().orElseThrow());
    CompletionUsage usage = completion.usage().orElseThrow();
    assertEquals(3, usage.completionTokens());
    assertEquals(usage.promptTokens() + 3, usage.totalTokens());

    RecordedRequest sent = fakes.get("direct").lastRequest();
    assertEquals("POST", sent.getMethod());
    assertEquals("/v1/chat/completions", sent.getUrl().encodedPath());
    assertEquals("Bearer sk-direct", sent.getHeaders().get("Authorization"));
    assertTrue(sent.getHeaders().get("Content-Type").startsWith("application/json"));
    assertEquals("gpt-4o-mini", fakes.get("direct").lastModel());
  }

  @Test
  void streamingReadsEventsAndUsage() {
    StringBuilder text = new StringBuilder();
    AtomicReference<CompletionUsage> usage = new AtomicReference<>();
    ChatCompletionCreateParams params = chat()
        .streamOptions(ChatCompletionStreamOptions.builder().includeUsage(true).build())
        .build();
    try (StreamResponse<ChatCompletionChunk> stream = client.chat().completions().createStreaming(params)) {
      stream.stream().forEach(chunk -> {
        chunk.choices().forEach(c -> c.delta().content().ifPresent(text::append));
        chunk.usage().ifPresent(usage::set);
      });
    }
    assertEquals("hello from direct", text.toString());
    assertEquals(3, usage.get().completionTokens());
    assertTrue(fakes.get("direct").lastRequestJson().path("stream").asBoolean());
    assertTrue(fakes.get("direct").lastRequestJson().path("stream_options").path("include_usage").asBoolean());
  }

  @Test
  void asyncChatCompletion() throws Exception {
    ChatCompletion completion = client.async().chat().completions().create(chat().build()).get(30, TimeUnit.SECONDS);
    assertEquals("hello from direct", completion.choices().get(0).message().content().orElseThrow());
  }

  @Test
  void responsesApi() {
    Response response = client.responses().create(ResponseCreateParams.builder()
        .model("gpt-4o-mini")
        .input("Say hello")
        .build());
    String text = response.output().stream()
        .flatMap(item -> item.message().stream())
        .flatMap(message -> message.content().stream())
        .flatMap(content -> content.outputText().stream())
        .map(t -> t.text())
        .findFirst()
        .orElseThrow();
    assertEquals("hello from direct", text);
    assertEquals(3, response.usage().orElseThrow().outputTokens());
    assertEquals("/v1/responses", fakes.get("direct").lastRequest().getUrl().encodedPath());
  }

  @Test
  void queryParametersAndGetWithoutBody() {
    // The fake answers anything but POST with 405 and unknown paths with 404; what matters here is
    // the request line the adapter produced.
    assertThrows(RuntimeException.class, () -> client.models().retrieve(ModelRetrieveParams.builder()
        .model("gpt-4o-mini")
        .putAdditionalQueryParam("x-probe", "a b&c")
        .build()));
    RecordedRequest sent = fakes.get("direct").lastRequest();
    assertEquals("GET", sent.getMethod());
    assertEquals("/v1/models/gpt-4o-mini", sent.getUrl().encodedPath());
    assertEquals("a b&c", sent.getUrl().queryParameter("x-probe"));
    assertEquals(0, sent.getBodySize());
  }

  @Test
  void errorStatusReachesTheSdkAndNoRetryWithMaxRetriesZero() {
    fakes.get("direct").rateLimitAll(true);
    RateLimitException e = assertThrows(RateLimitException.class,
        () -> client.chat().completions().create(chat().build()));
    assertEquals(429, e.statusCode());
    assertEquals(1, fakes.get("direct").requestCount(), "maxRetries(0): one HTTP request per SDK call");
  }

  @Test
  void notFoundIsMapped() {
    // The fake serves chat completions and responses only.
    assertThrows(NotFoundException.class, () -> client.embeddings().create(EmbeddingCreateParams.builder()
        .model(EmbeddingModel.TEXT_EMBEDDING_3_SMALL)
        .input("hello")
        .build()));
    assertEquals("/v1/embeddings", fakes.get("direct").lastRequest().getUrl().encodedPath());
  }
}
