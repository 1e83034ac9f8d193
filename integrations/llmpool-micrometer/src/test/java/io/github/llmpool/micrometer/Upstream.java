package io.github.llmpool.micrometer;

import io.github.llmpool.Provider;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;
import mockwebserver3.Dispatcher;
import mockwebserver3.MockResponse;
import mockwebserver3.MockWebServer;
import mockwebserver3.RecordedRequest;

/** A provider on loopback: a real HTTP server answering every request from a supplier of fixtures. */
final class Upstream implements AutoCloseable {
  final String name;
  final MockWebServer server = new MockWebServer();
  final AtomicInteger requests = new AtomicInteger();
  private final int deadPort;

  private Upstream(String name, Supplier<MockResponse> answer) {
    this.name = name;
    this.deadPort = -1;
    server.setDispatcher(new Dispatcher() {
      @Override
      public MockResponse dispatch(RecordedRequest request) {
        requests.incrementAndGet();
        return answer.get();
      }
    });
    try {
      server.start(InetAddress.getLoopbackAddress(), 0);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private Upstream(String name, int deadPort) {
    this.name = name;
    this.deadPort = deadPort;
  }

  /** A provider answering {@code answer} to every request. */
  static Upstream answering(String name, Supplier<MockResponse> answer) {
    return new Upstream(name, answer);
  }

  /** A provider whose port refuses connections (nothing listens on it). */
  static Upstream dead(String name) {
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return new Upstream(name, s.getLocalPort());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  int port() {
    return deadPort >= 0 ? deadPort : server.getPort();
  }

  String baseUrl() {
    return "http://127.0.0.1:" + port() + "/v1";
  }

  Provider.Builder provider() {
    return Provider.builder(name).baseUrl(baseUrl()).apiKey("sk-secret-" + name).allowPlaintextKey(true);
  }

  @Override
  public void close() {
    if (deadPort < 0) {
      server.close();
    }
  }
}
