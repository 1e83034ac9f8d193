package io.github.llmpool.samples;

import dev.langchain4j.data.message.UserMessage;
import dev.langchain4j.model.chat.request.ChatRequest;
import dev.langchain4j.model.chat.response.ChatResponse;
import dev.langchain4j.model.chat.response.StreamingChatResponseHandler;
import dev.langchain4j.model.openai.OpenAiChatModel;
import dev.langchain4j.model.openai.OpenAiStreamingChatModel;
import io.github.llmpool.Provider;
import io.github.llmpool.ProviderPool;
import io.github.llmpool.TokenUsage;
import io.github.llmpool.UsageListener;
import io.github.llmpool.langchain4j.LlmPoolHttpClientBuilder;
import io.github.llmpool.langchain4j.LlmPoolLangChain4j;
import io.github.llmpool.testing.FakeLlmServer;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * LangChain4j through llmpool, with {@code io.github.llmpool:llmpool-langchain4j}: the models get
 * {@link LlmPoolLangChain4j#httpClientBuilder(ProviderPool)} (LangChain4j's HTTP client SPI over
 * the pool's OkHttp 5 client) and {@link LlmPoolLangChain4j#baseUrl(ProviderPool)}. No API key
 * (the pool signs each request for its provider) and no {@code maxRetries(0)}: when the pool gives
 * up after its own failover, LangChain4j gets a non-retriable {@code PoolGaveUpException}.
 *
 * <pre>
 * mvn -q -B -f samples/pom.xml compile exec:java -Dexec.mainClass=io.github.llmpool.samples.LangChain4jSample
 * </pre>
 */
public final class LangChain4jSample {

  private LangChain4jSample() {}

  /** A pool over fake providers {@code a} and {@code b}, equal weights in one tier. */
  public static ProviderPool pool(FakeLlmServer a, FakeLlmServer b, UsageListener onUsage) {
    return ProviderPool.builder()
        .tier(provider(a), provider(b))
        .onUsage(onUsage)
        .build();
  }

  private static Provider provider(FakeLlmServer fake) {
    // name, base URL and key ("key-NAME") of the fake; the model the pool puts in each request's body.
    return fake.provider().model("model-" + fake.name()).build();
  }

  /** A chat model whose requests go through the pool, over {@code http}'s OkHttp client. */
  public static OpenAiChatModel chatModel(ProviderPool pool, LlmPoolHttpClientBuilder http) {
    return OpenAiChatModel.builder()
        .httpClientBuilder(http)
        .baseUrl(LlmPoolLangChain4j.baseUrl(pool))
        .modelName("gpt-4o-mini")
        .build();
  }

  /** A streaming chat model over the same builder (one dispatcher and connection pool for both). */
  public static OpenAiStreamingChatModel streamingModel(ProviderPool pool, LlmPoolHttpClientBuilder http) {
    return OpenAiStreamingChatModel.builder()
        .httpClientBuilder(http)
        .baseUrl(LlmPoolLangChain4j.baseUrl(pool))
        .modelName("gpt-4o-mini")
        .build();
  }

  /** What one streaming call gave the caller. */
  public record Streamed(List<String> parts, ChatResponse response) {}

  /** Streams one answer and waits for it (up to 30 s). */
  public static Streamed stream(OpenAiStreamingChatModel model, String prompt) {
    List<String> parts = new CopyOnWriteArrayList<>();
    CompletableFuture<ChatResponse> done = new CompletableFuture<>();
    model.chat(prompt, new StreamingChatResponseHandler() {
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
    try {
      ChatResponse response = done.get(30, TimeUnit.SECONDS);
      return new Streamed(List.copyOf(parts), response);
    } catch (ExecutionException e) {
      throw new IllegalStateException("streaming failed", e.getCause());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    } catch (TimeoutException e) {
      throw new IllegalStateException("no answer in 30 s", e);
    }
  }

  public static void main(String[] args) {
    List<TokenUsage> usages = new CopyOnWriteArrayList<>();
    try (FakeLlmServer a = FakeLlmServer.start("a"); FakeLlmServer b = FakeLlmServer.start("b")) {
      ProviderPool pool = pool(a, b, usages::add);
      try (LlmPoolHttpClientBuilder http = LlmPoolLangChain4j.httpClientBuilder(pool)) {
        ChatResponse chat = chatModel(pool, http)
            .chat(ChatRequest.builder().messages(UserMessage.from("Say hello")).build());
        System.out.println("chat:      " + chat.aiMessage().text() + "   (" + tokens(chat) + ")");
        printLast(usages);

        Streamed streamed = stream(streamingModel(pool, http), "Say hello, streaming");
        System.out.println("streaming: " + streamed.response().aiMessage().text() + "   (parts " + streamed.parts()
            + ", " + tokens(streamed.response()) + ")");
        printLast(usages);
      }
    }
  }

  private static String tokens(ChatResponse response) {
    var u = response.tokenUsage();
    return u == null ? "no usage"
        : "input " + u.inputTokenCount() + " + output " + u.outputTokenCount() + " = " + u.totalTokenCount() + " tokens";
  }

  private static void printLast(List<TokenUsage> usages) {
    if (!usages.isEmpty()) {
      TokenUsage u = usages.get(usages.size() - 1);
      System.out.printf(Locale.ROOT, "           onUsage: provider=%s prompt=%d completion=%d total=%d streamed=%s%n",
          u.provider(), u.tokens().prompt(), u.tokens().completion(), u.totalTokens(), u.streamed());
    }
  }
}
