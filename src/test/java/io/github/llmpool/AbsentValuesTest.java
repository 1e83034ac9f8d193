package io.github.llmpool;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.llmpool.config.PoolConfig;
import java.io.ByteArrayInputStream;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import mockwebserver3.MockResponse;
import mockwebserver3.MockWebServer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The package's one convention for absent values (see {@code package-info.java}): a value that
 * may be absent is an {@link Optional}, and a method that returns a plain reference never returns
 * null, even on the emptiest object of its type.
 */
class AbsentValuesTest {
  private final Upstreams up = new Upstreams();

  @AfterEach
  void close() {
    up.close();
  }

  /** Objects with everything optional left out. */
  private static List<Object> emptiest() throws Exception {
    Provider provider = Provider.builder("a").baseUrl("http://127.0.0.1:9/v1").build();
    ProviderPool pool = ProviderPool.builder().tier(provider).build();
    List<Object> out = new ArrayList<>(List.of(
        TokenCounts.ZERO,
        TokenUsage.builder("a").build(),
        ProviderSnapshot.builder("a").build(),
        PoolSnapshot.builder(Strategy.WEIGHTED).build(),
        pool.snapshot(),
        pool.snapshot().providers().get(0),
        new Attempt("a", 0, 503, Outcome.SERVER_ERROR, null, Duration.ZERO),
        new Attempt("a", 0, -1, Outcome.CONNECTION_FAILURE, "ConnectException: refused", Duration.ZERO),
        new PoolEvent.Restored("a", 0),
        new PoolEvent.Evicted("a", 0, Outcome.SERVER_ERROR, 503, Duration.ZERO, false, 1),
        new PoolEvent.Exhausted("a", 0, 1, Outcome.SERVER_ERROR, 503, "r"),
        Affinity.user(),
        Affinity.key(r -> null),
        provider,
        pool,
        ModelRouter.builder().requireModelOverrides(false).route("fast", pool).build(),
        EvictionPolicy.defaults(),
        RetryPolicy.defaults(),
        PoolConfig.read(new ByteArrayInputStream(
            "{\"tiers\":[{\"providers\":[{\"name\":\"a\",\"baseUrl\":\"http://127.0.0.1:9/v1\"}]}]}".getBytes(StandardCharsets.UTF_8)),
            Map.<String, String>of()::get)));
    return out;
  }

  @Test
  void noAccessorOfTheApiReturnsNull() throws Exception {
    int checked = 0;
    for (Object o : emptiest()) {
      for (Method m : o.getClass().getMethods()) {
        if (m.getParameterCount() > 0 || m.getReturnType().isPrimitive() || Modifier.isStatic(m.getModifiers())
            || m.getDeclaringClass() == Object.class || m.getName().equals("interceptor")
            || m.getName().equals("redirectGuard") || m.getName().equals("toPoolBuilder")
            || m.getName().equals("toBuilder")) {
          continue;
        }
        assertNotNull(m.invoke(o), o.getClass().getSimpleName() + "." + m.getName() + "() returned null");
        checked++;
      }
    }
    assertTrue(checked > 40, "accessors checked: " + checked);
  }

  @Test
  void absentValuesAreEmptyOptionals() {
    TokenUsage u = TokenUsage.builder("a").build();
    assertEquals(List.of(Optional.empty(), Optional.empty(), Optional.empty()),
        List.of(u.requestedModel(), u.servedModel(), u.timeToFirstToken()));
    assertEquals(Optional.empty(), ProviderSnapshot.builder("a").build().evictedFor());
    assertEquals(Optional.empty(), PoolSnapshot.builder(Strategy.WEIGHTED).build().provider("a"));
    assertEquals(Optional.empty(), new Attempt("a", 0, 503, Outcome.SERVER_ERROR, null, Duration.ZERO).error());
    assertEquals(Optional.of("ConnectException: refused"),
        new Attempt("a", 0, -1, Outcome.CONNECTION_FAILURE, "ConnectException: refused", Duration.ZERO).error());
    assertEquals(Optional.empty(), Affinity.user().headerName());
    assertEquals(Optional.of("X-Session-Id"), Affinity.header("X-Session-Id").headerName());
  }

  @Test
  void countsThatAreNoneAreZero() {
    TokenUsage u = TokenUsage.builder("a").build();
    assertEquals(TokenCounts.ZERO, u.tokens());
    assertEquals(0, u.totalTokens());
    ProviderSnapshot p = ProviderSnapshot.builder("a").build();
    assertEquals(List.of(0L, 0L, 0L, 0L, 0L, 0L), List.of(p.requests(), p.successes(), p.failures(),
        p.clientErrors(), p.inFlight(), p.totalTokens()));
  }

  /** A request fixture for key functions and keyOf: a header and body fields, present or not. */
  private static Affinity.RequestView view(String header, String user) {
    return new Affinity.RequestView() {
      @Override
      public String method() {
        return "POST";
      }

      @Override
      public String path() {
        return "/chat/completions";
      }

      @Override
      public Optional<String> header(String name) {
        return name.equalsIgnoreCase("X-Session-Id") ? Optional.ofNullable(header) : Optional.empty();
      }

      @Override
      public Optional<String> model() {
        return Optional.empty();
      }

      @Override
      public Optional<String> user() {
        return Optional.ofNullable(user);
      }

      @Override
      public Optional<String> promptCacheKey() {
        return Optional.empty();
      }
    };
  }

  @Test
  void aRequestWithoutAKeyHasAnEmptyKey() {
    Affinity byHeader = Affinity.header("X-Session-Id");
    assertEquals(Optional.of("s1"), byHeader.keyOf(view("s1", null)));
    assertEquals(Optional.empty(), byHeader.keyOf(view(null, "u")));
    assertEquals(Optional.empty(), byHeader.keyOf(view("", "u")), "an empty key is no key");
    assertEquals(Optional.of("u"), Affinity.user().keyOf(view(null, "u")));
    assertEquals(Optional.empty(), Affinity.promptCacheKey().keyOf(view("s1", "u")));
    assertEquals(Optional.empty(), Affinity.key(r -> null).keyOf(view("s1", "u")), "a function's null is no key");
    assertEquals(Optional.empty(), Affinity.key(r -> "").keyOf(view("s1", "u")));
    assertEquals(Optional.of("s1/-"),
        Affinity.key(r -> r.header("X-Session-Id").orElse("-") + "/" + r.model().orElse("-")).keyOf(view("s1", "u")));
  }

  @Test
  void theUsageOfARequestWithoutModelOrTokensHasThemEmpty() throws Exception {
    List<TokenUsage> usages = new CopyOnWriteArrayList<>();
    MockWebServer s = up.start(r -> new MockResponse.Builder().addHeader("content-type", "text/event-stream")
        .body("").build());
    ProviderPool pool = ProviderPool.builder().onUsage(usages::add).failOnTruncatedStream(false)
        .tier(Provider.builder("p").baseUrl(Upstreams.baseUrl(s)).build()).build();
    Upstreams.call(up.client(pool), Upstreams.post(pool, "chat/completions", "{\"stream\":true}"));
    assertEquals(1, usages.size(), usages::toString);
    TokenUsage u = usages.get(0);
    assertEquals(List.of(Optional.empty(), Optional.empty(), Optional.empty()),
        List.of(u.requestedModel(), u.servedModel(), u.timeToFirstToken()), u::toString);
    assertNotNull(u.timeToFirstByte());
    assertEquals(TokenCounts.ZERO, u.tokens());
  }
}
