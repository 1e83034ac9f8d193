package io.github.llmpool;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import mockwebserver3.MockWebServer;
import okhttp3.OkHttpClient;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * {@code onUsage} and {@code onEvent} compose: every listener gets every record and event, in
 * registration order, and one that throws is logged without keeping the others from it.
 */
class ListenerCompositionTest {
  private final Upstreams up = new Upstreams();
  private final FakeTicker ticker = new FakeTicker();

  @AfterEach
  void close() {
    up.close();
  }

  @Test
  void everyUsageListenerGetsEveryRecordInOrderEvenAfterOneThrows() throws Exception {
    MockWebServer s = up.startChat();
    List<String> calls = new CopyOnWriteArrayList<>();
    List<TokenUsage> first = new CopyOnWriteArrayList<>();
    List<TokenUsage> third = new CopyOnWriteArrayList<>();
    ProviderPool pool = ProviderPool.builder().ticker(ticker)
        .tier(Provider.builder("p").baseUrl(Upstreams.baseUrl(s)).build())
        .onUsage(u -> {
          calls.add("first");
          first.add(u);
        })
        .onUsage(u -> {
          calls.add("second");
          throw new IllegalStateException("quotes " + u.requestedModel());
        })
        .onUsage(u -> {
          calls.add("third");
          third.add(u);
        })
        .build();
    OkHttpClient c = up.client(pool);
    String logged = capturingStderr(() -> {
      for (int i = 0; i < 3; i++) {
        assertEquals("200", Upstreams.call(c, Upstreams.chat(pool))[0]);
      }
    });
    assertEquals(List.of("first", "second", "third", "first", "second", "third", "first", "second", "third"), calls);
    assertEquals(3, first.size());
    for (int i = 0; i < 3; i++) {
      assertSame(first.get(i), third.get(i), "the same record goes to every listener");
    }
    assertTrue(logged.contains("llmpool[default] UsageListener threw java.lang.IllegalStateException at "), logged);
    assertTrue(logged.contains("(listener 2 of 3)"), logged);
    assertFalse(logged.contains("quotes"), "never the listener's message: " + logged);
  }

  @Test
  void everyEventListenerGetsEveryEventInOrderEvenAfterOneThrows() throws Exception {
    MockWebServer bad = up.start(r -> Fixtures.http("openai-429-rate-limit.http"));
    MockWebServer good = up.startChat();
    List<String> calls = new CopyOnWriteArrayList<>();
    List<PoolEvent> first = new CopyOnWriteArrayList<>();
    List<PoolEvent> third = new CopyOnWriteArrayList<>();
    ProviderPool pool = ProviderPool.builder().name("chat").ticker(ticker).strategy(Strategy.ROUND_ROBIN)
        .tier(Provider.builder("bad").baseUrl(Upstreams.baseUrl(bad)).build())
        .tier(Provider.builder("good").baseUrl(Upstreams.baseUrl(good)).build())
        .onEvent(e -> {
          calls.add("first");
          first.add(e);
        })
        .onEvent(e -> {
          calls.add("second");
          throw new IllegalStateException("secret text " + e);
        })
        .onEvent(e -> {
          calls.add("third");
          third.add(e);
        })
        .build();
    String logged = capturingStderr(() -> assertEquals("200", Upstreams.call(up.client(pool), Upstreams.chat(pool))[0]));
    // bad answers 429 saying no request is left: HeadroomExhausted, Evicted, then Retried, then FailedOver to tier 1
    assertEquals(4, first.size(), "events: " + first);
    assertTrue(first.get(0) instanceof PoolEvent.HeadroomExhausted, first.toString());
    assertTrue(first.get(1) instanceof PoolEvent.Evicted, first.toString());
    assertTrue(first.get(2) instanceof PoolEvent.Retried, first.toString());
    assertTrue(first.get(3) instanceof PoolEvent.FailedOver, first.toString());
    for (int i = 0; i < first.size(); i++) {
      assertSame(first.get(i), third.get(i), "one event built, the same to every listener");
    }
    assertEquals(List.of("first", "second", "third", "first", "second", "third", "first", "second", "third", "first", "second",
        "third"), calls);
    assertTrue(logged.contains("llmpool[chat] PoolListener threw java.lang.IllegalStateException at "), logged);
    assertTrue(logged.contains("(listener 2 of 3)"), logged);
    assertFalse(logged.contains("secret text"), logged);
  }

  @Test
  void nullListenersAreRefusedByName() {
    assertEquals("onUsage", assertThrows(NullPointerException.class, () -> ProviderPool.builder().onUsage(null))
        .getMessage());
    assertEquals("onEvent", assertThrows(NullPointerException.class, () -> ProviderPool.builder().onEvent(null))
        .getMessage());
  }

  interface Action {
    void run() throws Exception;
  }

  /** The test JVM's slf4j-simple logs WARN to {@code System.err}, looked up at each line. */
  static String capturingStderr(Action action) throws Exception {
    PrintStream original = System.err;
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    System.setErr(new PrintStream(out, true, StandardCharsets.UTF_8));
    try {
      action.run();
    } finally {
      System.setErr(original);
    }
    return out.toString(StandardCharsets.UTF_8);
  }
}
