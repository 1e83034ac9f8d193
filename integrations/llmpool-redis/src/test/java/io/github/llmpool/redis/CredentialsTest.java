package io.github.llmpool.redis;

import static io.github.llmpool.redis.Instance.assertOk;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.llmpool.PoolEvent;
import io.github.llmpool.spi.SharedEviction;
import io.github.llmpool.testing.FakeLlmServer;
import io.lettuce.core.RedisURI;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/**
 * Redis credentials: an ACL user and password in the URI reach Redis (it refuses anonymous
 * clients here), a wrong password is an outage whose reason names no secret, and neither the
 * shared state nor Lettuce's {@link RedisURI} shows the password. Bad settings name the setting.
 */
class CredentialsTest {
  private static final String SECRET = "s3cret-Pa55word";

  @Test
  void anAclUserAndPasswordArePassedThroughAndNeverShown() throws Exception {
    try (RedisServerProcess redis = RedisServerProcess.start("--user", "default", "off", "--user", "llm", "on",
        ">" + SECRET, "~*", "&*", "+@all");
        FakeLlmServer a = FakeLlmServer.start("a");
        FakeLlmServer b = FakeLlmServer.start("b")) {
      String good = "redis://llm:" + SECRET + "@127.0.0.1:" + redis.port();
      String bad = "redis://llm:wrong-" + SECRET + "@127.0.0.1:" + redis.port();
      ByteArrayOutputStream err = new ByteArrayOutputStream();
      PrintStream old = System.err;
      System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
      try (Instance ia = new Instance(good, 0, p -> p.tier(a.provider().build()).tier(b.provider().build()));
          Instance ib = new Instance(good, 1_000, p -> p.tier(a.provider().build()).tier(b.provider().build()));
          Instance wrong = new Instance(bad, 2_000, p -> p.tier(a.provider().build()).tier(b.provider().build()))) {
        ia.resynced();
        ib.resynced();
        a.rateLimitNext(1, Duration.ofSeconds(30));
        assertOk(ia.call());
        assertEquals("a", ib.next(SharedEviction.class, Duration.ofSeconds(5)).provider(), "authenticated and shared");

        PoolEvent.SharedStateDown down = wrong.event(PoolEvent.SharedStateDown.class, Duration.ofSeconds(10));
        assertFalse(down.reason().contains(SECRET), down.reason());
        assertTrue(down.reason().endsWith("to 127.0.0.1:" + redis.port()), down.reason());
        assertOk(wrong.call()); // calls go on

        for (Object o : new Object[] {ia.shared, wrong.shared, down, RedisURI.create(good)}) {
          assertFalse(o.toString().contains(SECRET), o.toString());
        }
        assertEquals("RedisSharedState{redis://127.0.0.1:" + redis.port() + ", prefix=llmpool:}", ia.shared.toString());
      } finally {
        System.setErr(old);
      }
      String logged = err.toString(StandardCharsets.UTF_8);
      assertTrue(logged.contains("shared state down"), logged);
      assertFalse(logged.contains(SECRET), logged);
    }
  }

  @Test
  void badSettingsNameTheSettingAndNeverTheUri() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> RedisSharedState.builder().uri("http://user:" + SECRET + "@host"));
    assertEquals("uri must be a redis://, rediss://, redis-sentinel:// or redis-socket:// URI (the value is not shown)",
        e.getMessage());
    assertFalse(String.valueOf(e.getCause()).contains(SECRET));
    assertEquals("uri is required", assertThrows(IllegalStateException.class,
        () -> RedisSharedState.builder().build()).getMessage());
    assertEquals("keyPrefix must be 1 to 64 characters without braces or whitespace but was 'a{b'",
        assertThrows(IllegalArgumentException.class, () -> RedisSharedState.builder().keyPrefix("a{b")).getMessage());
    assertEquals("resyncInterval must be between 10 ms and 60000 ms but was PT0.001S",
        assertThrows(IllegalArgumentException.class,
            () -> RedisSharedState.builder().resyncInterval(Duration.ofMillis(1))).getMessage());
    assertEquals("publishInterval must be between 1 ms and 10000 ms but was PT1M",
        assertThrows(IllegalArgumentException.class,
            () -> RedisSharedState.builder().publishInterval(Duration.ofMinutes(1))).getMessage());
    assertTrue(RedisSharedState.builder().uri("rediss://u:" + SECRET + "@example.invalid:6380").build().toString()
        .equals("RedisSharedState{rediss://example.invalid:6380, prefix=llmpool:}"));
  }
}
