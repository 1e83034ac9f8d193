package io.github.llmpool.spring.web;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.InetAddress;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.Supplier;
import mockwebserver3.MockWebServer;
import mockwebserver3.RecordedRequest;
import okhttp3.OkHttpClient;
import org.springframework.http.HttpStatus;
import org.springframework.http.MediaType;
import org.springframework.http.ResponseEntity;

/**
 * What the tests of {@link LlmPoolClientHttpConnector} and {@link LlmPoolClientHttpRequestFactory}
 * check alike: the upstream server, the same GET exchange through either transport, the timeout
 * setters both have. A class of its own because llmpool-spring-web-spring7-test compiles only some
 * of this module's test classes.
 */
final class TransportChecks {
  private TransportChecks() {}

  /** A started MockWebServer on loopback. */
  static MockWebServer loopbackServer() throws IOException {
    MockWebServer server = new MockWebServer();
    server.start(InetAddress.getLoopbackAddress(), 0);
    return server;
  }

  /**
   * The exchange both transports' GET test makes: the server answered 200, JSON {@code {"ok":true}},
   * X-Multi one and two, to GET /v1/models?limit=2 with X-Custom: yes, Accept: application/json and no body.
   *
   * @return the request the server received, for further checks
   */
  static RecordedRequest assertModelsGet(ResponseEntity<String> entity, MockWebServer server) throws InterruptedException {
    assertNotNull(entity);
    assertEquals(HttpStatus.OK, entity.getStatusCode());
    assertEquals(List.of("one", "two"), entity.getHeaders().get("X-Multi"));
    assertEquals(MediaType.APPLICATION_JSON, entity.getHeaders().getContentType());
    assertEquals("{\"ok\":true}", entity.getBody());
    RecordedRequest r = server.takeRequest(10, TimeUnit.SECONDS);
    assertNotNull(r, "no request reached the server");
    assertEquals("GET", r.getMethod());
    assertEquals("/v1/models", r.getUrl().encodedPath());
    assertEquals("2", r.getUrl().queryParameter("limit"));
    assertEquals("yes", r.getHeaders().get("X-Custom"));
    assertEquals("application/json", r.getHeaders().get("Accept"));
    assertEquals(0, r.getBodySize());
    return r;
  }

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
