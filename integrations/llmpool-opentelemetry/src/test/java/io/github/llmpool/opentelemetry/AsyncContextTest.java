package io.github.llmpool.opentelemetry;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import io.github.llmpool.ProviderPool;
import io.github.llmpool.testing.FakeLlmServer;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.context.Context;
import io.opentelemetry.context.Scope;
import io.opentelemetry.sdk.trace.data.SpanData;
import java.io.IOException;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.function.UnaryOperator;
import okhttp3.Call;
import okhttp3.Callback;
import okhttp3.Dispatcher;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import okhttp3.Response;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Async calls ({@code enqueue}) run the pool on OkHttp's dispatcher thread: without help the caller's
 * span is not the parent; with the context interceptor and a tagged request, or with a dispatcher
 * whose executor wraps tasks in the submitting thread's context, it is.
 */
class AsyncContextTest {
  private final Otel otel = new Otel();
  private final FakeLlmServer a = FakeLlmServer.start("a");
  private final ProviderPool pool = LlmPoolTelemetry.builder(otel.sdk).spanKinds(SpanKinds.CLIENT).build()
      .build(ProviderPool.builder().name("chat").tier(a.provider().model("gpt-4o-mini").build()));
  private ExecutorService executor;

  @AfterEach
  void close() {
    if (executor != null) {
      executor.shutdownNow();
    }
    a.close();
    otel.close();
  }

  /** Enqueues one chat call inside the test's span, waits for its body, returns the request span's parent id. */
  private String enqueueUnderTestSpan(OkHttpClient client, UnaryOperator<Request> tag) throws Exception {
    CompletableFuture<String> body = new CompletableFuture<>();
    Span test = otel.sdk.getTracer("test").spanBuilder("test").startSpan();
    try (Scope ignored = test.makeCurrent()) {
      client.newCall(tag.apply(Calls.request(pool, "gpt-4o-mini", false))).enqueue(new Callback() {
        @Override
        public void onResponse(Call call, Response response) {
          try (response) {
            body.complete(response.body().string());
          } catch (IOException e) {
            body.completeExceptionally(e);
          }
        }

        @Override
        public void onFailure(Call call, IOException e) {
          body.completeExceptionally(e);
        }
      });
    } finally {
      test.end();
    }
    assertFalse(body.get(10, TimeUnit.SECONDS).isEmpty());
    SpanData request = otel.requestSpan();
    assertEquals(1, otel.childrenOf(request).size(), "its attempt span");
    return request.getParentSpanId().equals(otel.span("test").getSpanId()) ? "test" : request.getParentSpanId();
  }

  @Test
  void withoutHelpTheCallersSpanIsLostOnTheDispatcherThread() throws Exception {
    String parent = enqueueUnderTestSpan(pool.newHttpClient(), r -> r);
    assertNotEquals("test", parent);
    assertEquals(io.opentelemetry.api.trace.SpanId.getInvalid(), parent, "a root span: the documented limit");
  }

  @Test
  void theContextInterceptorRestoresTheContextTheRequestCarries() throws Exception {
    OkHttpClient client = pool.configure(new OkHttpClient.Builder()
        .addInterceptor(LlmPoolTelemetry.contextInterceptor())).build();
    assertEquals("test", enqueueUnderTestSpan(client, LlmPoolTelemetry::withCurrentContext));
    // An untagged request through the same client: unchanged, a root span.
    otel.spans.reset();
    assertEquals(io.opentelemetry.api.trace.SpanId.getInvalid(), enqueueUnderTestSpan(client, r -> r));
  }

  @Test
  void aDispatcherOnAContextWrappingExecutorCarriesTheEnqueuingThreadsContext() throws Exception {
    executor = Executors.newCachedThreadPool();
    Dispatcher dispatcher = new Dispatcher(Context.taskWrapping(executor));
    dispatcher.setMaxRequestsPerHost(ProviderPool.DEFAULT_MAX_CONCURRENT_CALLS);
    OkHttpClient client = pool.configure(new OkHttpClient.Builder()).dispatcher(dispatcher).build();
    assertEquals("test", enqueueUnderTestSpan(client, r -> r));
  }

  @Test
  void synchronousCallsNeedNoHelp() throws Exception {
    Span test = otel.sdk.getTracer("test").spanBuilder("test").startSpan();
    try (Scope ignored = test.makeCurrent()) {
      Calls.chat(pool.newHttpClient(), pool, "gpt-4o-mini", false);
    } finally {
      test.end();
    }
    List<SpanData> children = otel.childrenOf(otel.span("test"));
    assertEquals(List.of("chat gpt-4o-mini"), children.stream().map(SpanData::getName).toList());
  }
}
