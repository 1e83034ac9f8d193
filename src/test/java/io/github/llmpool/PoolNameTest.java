package io.github.llmpool;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import mockwebserver3.MockWebServer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** A pool's name: default, validation, {@code toString} and the log lines of that pool. */
class PoolNameTest {
  private final Upstreams up = new Upstreams();

  @AfterEach
  void close() {
    up.close();
  }

  private static Provider p(String name) {
    return Provider.builder(name).baseUrl("http://127.0.0.1:9/v1").build();
  }

  private static String iae(String name) {
    return assertThrows(IllegalArgumentException.class, () -> ProviderPool.builder().name(name)).getMessage();
  }

  @Test
  void defaultsToItsConstant() {
    ProviderPool pool = ProviderPool.builder().tier(p("a")).build();
    assertEquals(ProviderPool.DEFAULT_NAME, pool.name());
    assertEquals("default", pool.name());
    assertTrue(pool.toString().startsWith("ProviderPool{default, http://llmpool.invalid/v1/"), pool.toString());
  }

  @Test
  void aNameIsKeptAndShown() {
    ProviderPool pool = ProviderPool.builder().name("chat-eu_1.v2").tier(p("a")).build();
    assertEquals("chat-eu_1.v2", pool.name());
    assertTrue(pool.toString().contains("ProviderPool{chat-eu_1.v2, "), pool.toString());
    String longest = "a".repeat(ProviderPool.MAX_NAME_LENGTH);
    assertEquals(longest, ProviderPool.builder().name(longest).tier(p("a")).build().name());
  }

  @Test
  void aNameMustBeAShortToken() {
    String rule = "name must be 1 to 64 letters, digits, '.', '_' or '-', starting with a letter or digit, but was ";
    assertEquals(rule + "''", iae(""));
    assertEquals(rule + "'   '", iae("   "));
    assertEquals(rule + "'my pool'", iae("my pool"));
    assertEquals(rule + "'-chat'", iae("-chat"));
    assertEquals(rule + "'chat/eu'", iae("chat/eu"));
    assertEquals(rule + "'" + "b".repeat(64) + "...' (65 characters)", iae("b".repeat(65)));
    assertEquals("name", assertThrows(NullPointerException.class, () -> ProviderPool.builder().name(null)).getMessage());
  }

  @Test
  void thePoolsLogLinesCarryItsName() throws Exception {
    MockWebServer bad = up.start(r -> Fixtures.http("openai-429-rate-limit.http"));
    MockWebServer good = up.startChat();
    ProviderPool pool = ProviderPool.builder().name("chat").ticker(new FakeTicker()).strategy(Strategy.ROUND_ROBIN)
        .tier(Provider.builder("bad").baseUrl(Upstreams.baseUrl(bad)).build())
        .tier(Provider.builder("good").baseUrl(Upstreams.baseUrl(good)).build())
        .build();
    String logged = ListenerCompositionTest.capturingStderr(
        () -> assertEquals("200", Upstreams.call(up.client(pool), Upstreams.chat(pool))[0]));
    assertTrue(logged.contains("WARN io.github.llmpool - llmpool[chat] provider bad evicted for 2000 ms after"
        + " RATE_LIMITED 429 (ejection 1)"), logged);
    assertFalse(logged.contains("llmpool provider"), logged);
  }
}
