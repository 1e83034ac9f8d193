package io.github.llmpool.openai;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.openai.client.OpenAIClient;
import com.openai.client.OpenAIClientImpl;
import com.openai.core.ClientOptions;
import com.openai.core.http.StreamResponse;
import com.openai.errors.NotFoundException;
import com.openai.errors.RateLimitException;
import com.openai.errors.UnauthorizedException;
import com.openai.models.chat.completions.ChatCompletion;
import com.openai.models.chat.completions.ChatCompletionChunk;
import com.openai.models.chat.completions.ChatCompletionCreateParams;
import com.openai.models.chat.completions.ChatCompletionStreamOptions;
import com.openai.models.completions.CompletionUsage;
import com.openai.models.embeddings.EmbeddingCreateParams;
import com.openai.models.embeddings.EmbeddingModel;
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
 * The transport on its own: the real SDK over {@link LlmPoolHttpClient} over a plain OkHttpClient
 * (no pool) straight at one fake provider, to show that requests, headers, query parameters,
 * bodies, statuses and streamed bodies cross it intact.
 */
class LlmPoolHttpClientTest {

  private FakeOpenAi direct;
  private OpenAIClient client;

  @BeforeEach
  void setUp() {
    direct = FakeOpenAi.start("direct");
    client = new OpenAIClientImpl(ClientOptions.builder()
        .httpClient(LlmPoolHttpClient.owning(new OkHttpClient()))
        .baseUrl(direct.baseUrl())
        .apiKey(direct.key)
        .maxRetries(0)
        .build());
  }

  @AfterEach
  void tearDown() {
    client.close();
    direct.close();
  }

  private static ChatCompletionCreateParams.Builder chat() {
    return ChatCompletionCreateParams.builder().model("gpt-4o-mini").addUserMessage("Say hello");
  }

  @Test
  void chatCompletionCrossesTheTransport() {
    ChatCompletion completion = client.chat().completions().create(chat().build());

    assertEquals("agentgateway works", completion.choices().get(0).message().content().orElseThrow());
    CompletionUsage usage = completion.usage().orElseThrow();
    assertEquals(23, usage.promptTokens());
    assertEquals(57, usage.completionTokens());
    assertEquals(80, usage.totalTokens());

    RecordedRequest sent = direct.last();
    assertEquals("POST", sent.getMethod());
    assertEquals("/v1/chat/completions", sent.getUrl().encodedPath());
    assertEquals("Bearer key-direct", sent.getHeaders().get("Authorization"));
    assertTrue(sent.getHeaders().get("Content-Type").startsWith("application/json"));
    assertEquals("gpt-4o-mini", FakeOpenAi.body(sent).path("model").asText());
    assertEquals("Say hello", FakeOpenAi.body(sent).path("messages").path(0).path("content").asText());
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
    assertEquals("pool ok", text.toString());
    assertEquals(21, usage.get().totalTokens());
    assertTrue(FakeOpenAi.body(direct.last()).path("stream").asBoolean());
    assertTrue(FakeOpenAi.body(direct.last()).path("stream_options").path("include_usage").asBoolean());
  }

  @Test
  void asyncChatCompletion() throws Exception {
    ChatCompletion completion = client.async().chat().completions().create(chat().build()).get(30, TimeUnit.SECONDS);
    assertEquals("agentgateway works", completion.choices().get(0).message().content().orElseThrow());
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
    assertEquals("Hi there", text);
    assertEquals(87, response.usage().orElseThrow().outputTokens());
    assertEquals("/v1/responses", direct.last().getUrl().encodedPath());
  }

  @Test
  void queryParametersAndGetWithoutBody() {
    // The fake serves POST chat/completions and responses only; what matters is the request line.
    assertThrows(NotFoundException.class, () -> client.models().retrieve(ModelRetrieveParams.builder()
        .model("gpt-4o-mini")
        .putAdditionalQueryParam("x-probe", "a b&c")
        .build()));
    RecordedRequest sent = direct.last();
    assertEquals("GET", sent.getMethod());
    assertEquals("/v1/models/gpt-4o-mini", sent.getUrl().encodedPath());
    assertEquals("a b&c", sent.getUrl().queryParameter("x-probe"));
    assertEquals(0, sent.getBodySize());
  }

  @Test
  void errorStatusReachesTheSdkAndMaxRetriesZeroSendsOneRequest() {
    direct.answer(r -> Fixtures.http("openai-429-rate-limit.http"));
    RateLimitException e = assertThrows(RateLimitException.class,
        () -> client.chat().completions().create(chat().build()));
    assertEquals(429, e.statusCode());
    assertEquals("2", e.headers().values("retry-after").get(0), "response headers cross the transport");
    assertEquals(1, direct.requests(), "maxRetries(0): one HTTP request per SDK call");
  }

  @Test
  void unauthorizedAndNotFoundAreMapped() {
    OpenAIClient wrongKey = new OpenAIClientImpl(ClientOptions.builder()
        .httpClient(LlmPoolHttpClient.owning(new OkHttpClient()))
        .baseUrl(direct.baseUrl())
        .apiKey("sk-wrong")
        .maxRetries(0)
        .build());
    try {
      assertThrows(UnauthorizedException.class, () -> wrongKey.chat().completions().create(chat().build()));
    } finally {
      wrongKey.close();
    }
    assertThrows(NotFoundException.class, () -> client.embeddings().create(EmbeddingCreateParams.builder()
        .model(EmbeddingModel.TEXT_EMBEDDING_3_SMALL)
        .input("hello")
        .build()));
    assertEquals("/v1/embeddings", direct.last().getUrl().encodedPath());
  }
}
