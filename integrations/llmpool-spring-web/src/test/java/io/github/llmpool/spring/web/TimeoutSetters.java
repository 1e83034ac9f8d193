package io.github.llmpool.spring.web;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.Map;
import java.util.function.Consumer;
import java.util.function.Supplier;
import okhttp3.OkHttpClient;

/**
 * The timeout setters {@link LlmPoolClientHttpConnector} and {@link LlmPoolClientHttpRequestFactory}
 * both have. A class of its own because llmpool-spring-web-spring7-test compiles only some of this
 * module's test classes.
 */
final class TimeoutSetters {
  private TimeoutSetters() {}

  /**
   * Each setter rejects a negative timeout with a message naming the setting and the value, and
   * each sets its own timeout of the client {@code client} returns afterwards.
   */
  static void assertRejectNegativeAndApply(Consumer<Duration> connect, Consumer<Duration> read, Consumer<Duration> write,
      Consumer<Duration> call, Supplier<OkHttpClient> client) {
    Map<String, Consumer<Duration>> setters = Map.of("connectTimeout", connect, "readTimeout", read,
        "writeTimeout", write, "callTimeout", call);
    Duration negative = Duration.ofMillis(-5);
    setters.forEach((name, setter) -> {
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> setter.accept(negative));
      assertTrue(e.getMessage().contains(name) && e.getMessage().contains(negative.toString()), e.getMessage());
    });
    connect.accept(Duration.ofMillis(1111));
    read.accept(Duration.ofMillis(2222));
    write.accept(Duration.ofMillis(3333));
    call.accept(Duration.ofMillis(4444));
    assertEquals(1111, client.get().connectTimeoutMillis());
    assertEquals(2222, client.get().readTimeoutMillis());
    assertEquals(3333, client.get().writeTimeoutMillis());
    assertEquals(4444, client.get().callTimeoutMillis());
  }
}
