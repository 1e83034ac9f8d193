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
import io.github.llmpool.testing.FakeLlmServer;
import io.github.llmpool.testing.Fault;
import io.github.llmpool.testing.ReceivedRequest;
import io.github.llmpool.testing.WireFixtures;
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

  private FakeLlmServer direct;
  private OpenAIClient client;

  @BeforeEach
  void setUp() {
    direct = LlmPoolOpenAITest.openAi("direct");
    client = new OpenAIClientImpl(ClientOptions.builder()
        .httpClient(LlmPoolHttpClient.owning(new OkHttpClient()))
        .baseUrl(direct.baseUrl())
        .apiKey(direct.apiKey())
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

    ReceivedRequest sent = direct.lastRequest();
    assertEquals("POST", sent.method());
    assertEquals("/v1/chat/completions", sent.path());
    assertEquals("Bearer key-direct", sent.headers().get("Authorization"));
    assertTrue(sent.headers().get("Content-Type").startsWith("application/json"));
    assertEquals("gpt-4o-mini", sent.json().path("model").asText());
    assertEquals("Say hello", sent.json().path("messages").path(0).path("content").asText());
  }

  @Test
  void streamingReadsEventsAndUsage() {
    LlmPoolOpenAITest.streamAnswer(direct);
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
    assertTrue(direct.lastRequest().json().path("stream").asBoolean());
    assertTrue(direct.lastRequest().json().path("stream_options").path("include_usage").asBoolean());
  }

  @Test
  void asyncChatCompletion() throws Exception {
    ChatCompletion completion = client.async().chat().completions().create(chat().build()).get(30, TimeUnit.SECONDS);
    assertEquals("agentgateway works", completion.choices().get(0).message().content().orElseThrow());
  }

  @Test
  void responsesApi() {
    direct.reply("Hi there").usage(36, 87); // the recorded Responses answer
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
    assertEquals("/v1/responses", direct.lastRequest().path());
  }

  @Test
  void queryParametersAndGetWithoutBody() {
    // The fake does not serve GET models/...; what matters is the request line.
    assertThrows(NotFoundException.class, () -> client.models().retrieve(ModelRetrieveParams.builder()
        .model("gpt-4o-mini")
        .putAdditionalQueryParam("x-probe", "a b&c")
        .build()));
    ReceivedRequest sent = direct.lastRequest();
    assertEquals("GET", sent.method());
    assertEquals("/v1/models/gpt-4o-mini", sent.path());
    assertEquals("a b&c", sent.url().queryParameter("x-probe"));
    assertEquals(0, sent.body().length());
  }

  @Test
  void errorStatusReachesTheSdkAndMaxRetriesZeroSendsOneRequest() {
    direct.failAlways(Fault.rateLimited());
    RateLimitException e = assertThrows(RateLimitException.class,
        () -> client.chat().completions().create(chat().build()));
    assertEquals(429, e.statusCode());
    assertEquals("2", e.headers().values("retry-after").get(0), "response headers cross the transport");
    assertEquals(1, direct.requestCount(), "maxRetries(0): one HTTP request per SDK call");
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
    // The fake serves embeddings; answer this one as OpenAI answers a path it does not serve.
    direct.answerWith(r -> WireFixtures.response("openai-404-unknown-url.http").build());
    assertThrows(NotFoundException.class, () -> client.embeddings().create(EmbeddingCreateParams.builder()
        .model(EmbeddingModel.TEXT_EMBEDDING_3_SMALL)
        .input("hello")
        .build()));
    assertEquals("/v1/embeddings", direct.lastRequest().path());
  }
}
