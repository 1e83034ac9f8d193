package io.github.llmpool.openai;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.openai.client.OpenAIClient;
import com.openai.client.okhttp.OpenAIOkHttpClient;
import com.openai.core.Sleeper;
import com.openai.errors.OpenAIIoException;
import com.openai.models.chat.completions.ChatCompletion;
import io.github.llmpool.LlmPoolException;
import io.github.llmpool.ProviderPool;
import io.github.llmpool.ProviderSnapshot;
import io.github.llmpool.testing.FakeLlmServer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * What a user gets who puts the pool's interceptor on the SDK's own OkHttp transport
 * ({@code com.openai:openai-java-client-okhttp}, test scope here) the two ways its builder allows:
 * {@code OpenAIOkHttpClient.builder().addInterceptor(pool.interceptor())} and
 * {@code .okHttpClient(new OkHttpClient.Builder().addInterceptor(pool.interceptor()).build())}.
 *
 * <p>That transport appends a network interceptor that removes {@code Authorization} and
 * {@code api-key} whenever the wire host differs from the call's URL, which the pool's rewrite
 * (virtual host to provider) always makes it. So the provider gets no key and answers 401. The
 * pool sees that the credential it set never reached the wire and fails the call at once with an
 * {@link LlmPoolException} naming the cause and the fix ("not a bad key"), retries nothing and
 * evicts nothing. The same pool through {@link LlmPoolOpenAI} then works.
 *
 * <p>The transport is compiled against OkHttp 4 and runs here on OkHttp 5 (okhttp-jvm): llmpool-bom
 * turns its {@code okhttp:4.12.0} into OkHttp 5's class-less {@code okhttp} jar.
 */
class OpenAiOkHttpTransportTest {

  private FakeLlmServer a;
  private FakeLlmServer b;
  private ProviderPool pool;
  private final List<OpenAIClient> clients = new ArrayList<>();

  @BeforeEach
  void setUp() {
    a = LlmPoolOpenAITest.openAi("a");
    b = LlmPoolOpenAITest.openAi("b");
    pool = ProviderPool.builder()
        .tier(LlmPoolOpenAITest.provider(a), LlmPoolOpenAITest.provider(b))
        .build();
  }

  @AfterEach
  void tearDown() {
    clients.forEach(OpenAIClient::close);
    a.close();
    b.close();
  }

  private OpenAIClient track(OpenAIClient c) {
    clients.add(c);
    return c;
  }

  /** The SDK transport with the pool's interceptor added through the SDK builder. */
  private OpenAIOkHttpClient.Builder viaAddInterceptor() {
    return OpenAIOkHttpClient.builder()
        .baseUrl(pool.baseUrl().toString())
        .apiKey("unused")
        .addInterceptor(pool.interceptor());
  }

  /** The SDK transport over the user's own OkHttpClient that carries the pool's interceptor. */
  private OpenAIOkHttpClient.Builder viaOkHttpClient() {
    okhttp3.OkHttpClient own = new okhttp3.OkHttpClient.Builder().addInterceptor(pool.interceptor()).build();
    return OpenAIOkHttpClient.builder()
        .baseUrl(pool.baseUrl().toString())
        .apiKey("unused")
        .okHttpClient(own);
  }

  @Test
  void addInterceptorFailsAtTheFirstCallNamingTheFixAndEvictsNothing() {
    assertFailsAtOnceAndEvictsNothing(viaAddInterceptor().maxRetries(0).build());
  }

  @Test
  void ownOkHttpClientFailsAtTheFirstCallNamingTheFixAndEvictsNothing() {
    assertFailsAtOnceAndEvictsNothing(viaOkHttpClient().maxRetries(0).build());
  }

  @Test
  void sdkRetriesOnTopChangeNothing() {
    // A user who also leaves the SDK's retries on (2 by default): each retry is a new logical call
    // that fails the same way, one upstream request each; still nothing evicted. The sleeper
    // skips the SDK's back-off waits.
    OpenAIClient client = track(viaAddInterceptor().sleeper(new NoWait()).build());
    OpenAIIoException e = assertThrows(OpenAIIoException.class,
        () -> client.chat().completions().create(LlmPoolOpenAITest.chat().build()));
    assertNotBadKey(e);
    assertEquals(3, a.requestCount() + b.requestCount(), "1 call + 2 SDK retries, the pool retried none of them");
    assertEveryProviderAvailable();
  }

  @Test
  void theSamePoolThroughLlmPoolOpenAIWorks() {
    assertThrows(OpenAIIoException.class, () -> track(viaAddInterceptor().maxRetries(0).build())
        .chat().completions().create(LlmPoolOpenAITest.chat().build()));

    OpenAIClient working = track(LlmPoolOpenAI.client(pool));
    ChatCompletion c = working.chat().completions().create(LlmPoolOpenAITest.chat().build());

    assertEquals("agentgateway works", c.choices().get(0).message().content().orElseThrow());
    assertEveryProviderAvailable();
  }

  private void assertFailsAtOnceAndEvictsNothing(OpenAIClient client) {
    track(client);
    for (int call = 1; call <= 3; call++) {
      OpenAIIoException e = assertThrows(OpenAIIoException.class,
          () -> client.chat().completions().create(LlmPoolOpenAITest.chat().build()));
      assertNotBadKey(e);
      assertEquals(call, a.requestCount() + b.requestCount(), "one upstream request per call: nothing retried");
      assertEveryProviderAvailable();
    }
    // What reached the providers: no credential at all, so they answered 401.
    for (FakeLlmServer fake : List.of(a, b)) {
      fake.requests().forEach(r -> assertNull(r.headers().get("Authorization"), "the SDK transport removed it"));
    }
  }

  private static void assertNotBadKey(Throwable thrown) {
    LlmPoolException pool = cause(thrown, LlmPoolException.class);
    assertNotNull(pool, () -> "no LlmPoolException in the cause chain of " + thrown);
    assertTrue(pool.getMessage().contains("not a bad key"), pool.getMessage());
  }

  private void assertEveryProviderAvailable() {
    List<ProviderSnapshot> providers = pool.snapshot().providers();
    assertEquals(2, providers.size());
    for (ProviderSnapshot p : providers) {
      assertEquals(ProviderSnapshot.Status.AVAILABLE, p.status(), p.name() + " was evicted");
    }
  }

  private static <T extends Throwable> T cause(Throwable t, Class<T> type) {
    for (Throwable c = t; c != null; c = c.getCause()) {
      if (type.isInstance(c)) {
        return type.cast(c);
      }
    }
    return null;
  }

  /** The SDK's retry back-off, skipped. */
  private static final class NoWait implements Sleeper {
    @Override
    public void sleep(Duration duration) {}

    @Override
    public CompletableFuture<Void> sleepAsync(Duration duration) {
      return CompletableFuture.completedFuture(null);
    }

    @Override
    public void close() {}
  }
}
