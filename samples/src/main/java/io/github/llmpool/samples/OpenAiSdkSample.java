package io.github.llmpool.samples;

import com.openai.client.OpenAIClient;
import com.openai.core.http.StreamResponse;
import com.openai.models.chat.completions.ChatCompletion;
import com.openai.models.chat.completions.ChatCompletionChunk;
import com.openai.models.chat.completions.ChatCompletionCreateParams;
import com.openai.models.chat.completions.ChatCompletionStreamOptions;
import com.openai.models.completions.CompletionUsage;
import io.github.llmpool.Provider;
import io.github.llmpool.ProviderPool;
import io.github.llmpool.TokenUsage;
import io.github.llmpool.UsageListener;
import io.github.llmpool.openai.LlmPoolOpenAI;
import io.github.llmpool.testing.FakeLlmServer;
import io.github.llmpool.testing.Fault;
import java.io.PrintStream;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicReference;

/**
 * The official OpenAI Java SDK through llmpool, with {@code io.github.llmpool:llmpool-openai-java}:
 * {@code LlmPoolOpenAI.client(pool)} is an SDK client whose transport is an OkHttp 5 client
 * carrying {@code pool.interceptor()}. The SDK talks to {@code pool.baseUrl()} with a placeholder
 * key; the pool picks a provider, rewrites URL, auth and {@code model}, and fails over.
 *
 * <p>SDK retries are off ({@code maxRetries(0)}): llmpool owns retries, and the SDK's own would
 * multiply attempts (each SDK retry is a new logical request to the pool).
 *
 * <pre>
 * mvn -q -B -f samples/pom.xml compile exec:java -Dexec.mainClass=io.github.llmpool.samples.OpenAiSdkSample
 * </pre>
 */
public final class OpenAiSdkSample {

  private OpenAiSdkSample() {}

  /** An SDK client whose every request goes through {@code pool}; closing it frees its OkHttp resources. */
  public static OpenAIClient client(ProviderPool pool) {
    return LlmPoolOpenAI.client(pool);
  }

  /** A pool over fake providers {@code a} and {@code b}: two priority tiers, a first, b as fallback. */
  public static ProviderPool pool(FakeLlmServer a, FakeLlmServer b, UsageListener onUsage) {
    return ProviderPool.builder()
        .tier(provider(a))
        .tier(provider(b))
        .onUsage(onUsage)
        .build();
  }

  private static Provider provider(FakeLlmServer fake) {
    // name, base URL and key ("key-NAME") of the fake; the model the pool puts in each request's body.
    return fake.provider().model("model-" + fake.name()).build();
  }

  /** The chat request of the sample. */
  public static ChatCompletionCreateParams.Builder chatRequest(String prompt) {
    return ChatCompletionCreateParams.builder().model("gpt-4o-mini").addUserMessage(prompt);
  }

  /** What one streaming call gave the caller. */
  public record Streamed(String text, CompletionUsage usage, int chunks) {}

  /** One streaming chat completion, with {@code stream_options.include_usage}. */
  public static Streamed stream(OpenAIClient client, String prompt) {
    StringBuilder text = new StringBuilder();
    AtomicReference<CompletionUsage> usage = new AtomicReference<>();
    int[] chunks = {0};
    ChatCompletionCreateParams params = chatRequest(prompt)
        .streamOptions(ChatCompletionStreamOptions.builder().includeUsage(true).build())
        .build();
    try (StreamResponse<ChatCompletionChunk> stream = client.chat().completions().createStreaming(params)) {
      stream.stream().forEach(chunk -> {
        chunks[0]++;
        chunk.choices().forEach(choice -> choice.delta().content().ifPresent(text::append));
        chunk.usage().ifPresent(usage::set);
      });
    }
    return new Streamed(text.toString(), usage.get(), chunks[0]);
  }

  public static void main(String[] args) {
    List<TokenUsage> usages = new CopyOnWriteArrayList<>();
    try (FakeLlmServer a = FakeLlmServer.start("a"); FakeLlmServer b = FakeLlmServer.start("b")) {
      ProviderPool pool = pool(a, b, usages::add);
      OpenAIClient client = client(pool);
      PrintStream out = System.out;
      try {
        ChatCompletion chat = client.chat().completions().create(chatRequest("Say hello").build());
        out.println("chat:      " + chat.choices().get(0).message().content().orElse("")
            + "   (model " + chat.model() + ", " + usageText(chat.usage().orElse(null)) + ")");
        printLast(out, usages);

        Streamed streamed = stream(client, "Say hello, streaming");
        out.println("streaming: " + streamed.text() + "   (" + streamed.chunks() + " chunks, "
            + usageText(streamed.usage()) + ")");
        printLast(out, usages);

        a.failAlways(Fault.rateLimited());
        ChatCompletion failedOver = client.chat().completions().create(chatRequest("Say hello again").build());
        out.println("failover:  " + failedOver.choices().get(0).message().content().orElse("")
            + "   (a answered 429 with retry-after: 2; the pool moved on, the SDK retried nothing)");
        out.println("upstream requests: {a=" + a.requestCount() + ", b=" + b.requestCount() + "}, pool attempts: "
            + pool.snapshot().providers().stream().map(p -> p.name() + "=" + p.requests()).toList());
      } finally {
        client.close();
      }
    }
  }

  private static void printLast(PrintStream out, List<TokenUsage> usages) {
    if (!usages.isEmpty()) {
      TokenUsage u = usages.get(usages.size() - 1);
      out.printf(Locale.ROOT, "           onUsage: provider=%s tier=%d prompt=%d completion=%d total=%d streamed=%s attempt=%d%n",
          u.provider(), u.tier(), u.tokens().prompt(), u.tokens().completion(), u.totalTokens(), u.streamed(), u.attempt());
    }
  }

  private static String usageText(CompletionUsage usage) {
    return usage == null ? "no usage"
        : "prompt " + usage.promptTokens() + " + completion " + usage.completionTokens() + " = "
            + usage.totalTokens() + " tokens";
  }
}
