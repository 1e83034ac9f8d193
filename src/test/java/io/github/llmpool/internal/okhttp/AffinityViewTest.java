package io.github.llmpool.internal.okhttp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.llmpool.Affinity;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.function.Function;
import okhttp3.MediaType;
import okhttp3.Request;
import okhttp3.RequestBody;
import org.junit.jupiter.api.Test;

/**
 * {@link AffinityView#key}: whatever a key function throws (short of a {@link VirtualMachineError})
 * routes the request without affinity, and the log line names the failure without its message,
 * which may quote the request (a session id).
 */
class AffinityViewTest {
  private static final String SESSION = "user-42-session-" + UUID.randomUUID().toString().substring(24);

  private static RequestPlan plan() throws Exception {
    Request r = new Request.Builder().url("http://llmpool.invalid/v1/chat/completions")
        .header("X-Session-Id", SESSION)
        .post(RequestBody.create("{\"model\":\"m\"}", MediaType.get("application/json"))).build();
    return RequestPlan.of(r, "/v1");
  }

  private static String key(Function<Affinity.RequestView, String> f) throws Exception {
    return AffinityView.key(Affinity.key(f), plan());
  }

  @Test
  void anErrorFromTheKeyFunctionRoutesWithoutAffinityButAVirtualMachineErrorIsNotSwallowed() throws Exception {
    assertEquals(SESSION, key(r -> r.header("X-Session-Id").orElse(null)));
    assertNull(key(r -> {
      throw new AssertionError("session " + r.header("X-Session-Id").orElse(null) + " is not a UUID");
    }));
    assertNull(key(r -> {
      throw new NoClassDefFoundError("com/example/Sessions");
    }));
    // The JVM's own errors are not the function's verdict.
    assertThrows(StackOverflowError.class, () -> key(r -> {
      throw new StackOverflowError();
    }));
    assertThrows(OutOfMemoryError.class, () -> key(r -> {
      throw new OutOfMemoryError("test");
    }));
  }

  @Test
  void aCheckedExceptionThrownUndeclaredRoutesWithoutAffinityAndKeepsTheInterrupt() throws Exception {
    try {
      assertNull(key(r -> sneaky(new InterruptedException("sleeping while keying"))));
      assertTrue(Thread.interrupted(), "the interrupt the function swallowed is restored");
      assertNull(key(r -> sneaky(new java.io.IOException("lookup failed"))));
      assertFalse(Thread.currentThread().isInterrupted());
    } finally {
      Thread.interrupted();
    }
  }

  /**
   * The test JVM's slf4j-simple logs WARN to {@code System.err}, looked up at each line, so the
   * line can be captured here; {@code SecretReachabilityTest}'s child JVM checks every level.
   */
  @Test
  void theLogLineNamesTheFailureButNotItsMessage() throws Exception {
    String logged = capturingStderr(() -> assertNull(key(r -> UUID.fromString(r.header("X-Session-Id").orElse(null)).toString())));
    assertTrue(logged.contains("affinity key function threw java.lang.IllegalArgumentException"), logged);
    assertTrue(logged.contains("at java.util.UUID.fromString"), "where it was thrown from: " + logged);
    assertFalse(logged.contains(SESSION), logged);
    assertFalse(logged.contains("Invalid UUID string"), logged);
    assertFalse(logged.contains("\tat "), "no stack trace: " + logged);
  }

  interface Action {
    void run() throws Exception;
  }

  private static String capturingStderr(Action action) throws Exception {
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

  @SuppressWarnings("unchecked")
  private static <T extends Throwable> String sneaky(Throwable t) throws T {
    throw (T) t;
  }

  @Test
  void theViewsLookupsAreEmptyWhenTheRequestLacksTheValue() throws Exception {
    Request get = new Request.Builder().url("http://llmpool.invalid/v1/models").build();
    List<Optional<String>> seen = new java.util.ArrayList<>();
    AffinityView.key(Affinity.key(r -> {
      seen.addAll(List.of(r.header("X-Session-Id"), r.model(), r.user(), r.promptCacheKey()));
      return null;
    }), RequestPlan.of(get, "/v1"));
    assertEquals(List.of(Optional.empty(), Optional.empty(), Optional.empty(), Optional.empty()), seen);

    seen.clear();
    Request post = new Request.Builder().url("http://llmpool.invalid/v1/chat/completions").header("X-Session-Id", "s")
        .post(RequestBody.create("{\"model\":\"m\",\"user\":\"u\",\"prompt_cache_key\":\"k\"}",
            MediaType.get("application/json"))).build();
    assertEquals("s", AffinityView.key(Affinity.key(r -> {
      seen.addAll(List.of(r.header("X-Session-Id"), r.model(), r.user(), r.promptCacheKey()));
      return r.header("X-Session-Id").orElseThrow();
    }), RequestPlan.of(post, "/v1")));
    assertEquals(List.of(Optional.of("s"), Optional.of("m"), Optional.of("u"), Optional.of("k")), seen);
  }
}
