package io.github.llmpool.spring.boot;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Function;
import javax.net.ServerSocketFactory;
import mockwebserver3.Dispatcher;
import mockwebserver3.MockResponse;
import mockwebserver3.MockWebServer;
import mockwebserver3.RecordedRequest;

/**
 * A fake OpenAI endpoint: a real HTTP server ({@link MockWebServer}) on loopback answering with the
 * wire fixtures the way api.openai.com does: 401 to a request without {@code Authorization: Bearer
 * <its key>}, {@code POST .../chat/completions} with the chat fixture (or the SSE fixture when the
 * body says {@code "stream": true}), {@code POST .../responses} with the Responses fixture, anything
 * else 404. {@link #answer(Function)} scripts other answers. It records and counts every request.
 */
final class FakeOpenAi implements AutoCloseable {
  private static final ObjectMapper JSON = new ObjectMapper();

  final String name;
  final String key;
  private final MockWebServer server = new MockWebServer();
  private final List<RecordedRequest> received = new CopyOnWriteArrayList<>();
  private final AtomicReference<Function<RecordedRequest, MockResponse>> script = new AtomicReference<>();

  private FakeOpenAi(String name, String key) {
    this.name = name;
    this.key = key;
  }

  /** Starts a fake provider named {@code name} whose API key is {@code "key-" + name}. */
  static FakeOpenAi start(String name) {
    FakeOpenAi fake = new FakeOpenAi(name, "key-" + name);
    fake.server.setDispatcher(new Dispatcher() {
      @Override
      public MockResponse dispatch(RecordedRequest request) {
        fake.received.add(request);
        Function<RecordedRequest, MockResponse> s = fake.script.get();
        return s != null ? s.apply(request) : fake.openAi(request);
      }
    });
    fake.server.setServerSocketFactory(new NoDelayServerSocketFactory());
    try {
      fake.server.start(InetAddress.getLoopbackAddress(), 0);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return fake;
  }

  /** Answers every request with {@code answer} from now on ({@code null}: like OpenAI again). */
  FakeOpenAi answer(Function<RecordedRequest, MockResponse> answer) {
    script.set(answer);
    return this;
  }

  /** What api.openai.com would answer, from the fixtures. */
  MockResponse openAi(RecordedRequest request) {
    if (!("Bearer " + key).equals(request.getHeaders().get("Authorization"))) {
      return Fixtures.http("openai-401-missing-key.http");
    }
    String path = request.getUrl().encodedPath();
    if ("POST".equals(request.getMethod()) && path.endsWith("/chat/completions")) {
      return body(request).path("stream").asBoolean()
          ? Fixtures.sse("openai-chat-stream-usage.sse")
          : Fixtures.json("openai-chat.json");
    }
    if ("POST".equals(request.getMethod()) && path.endsWith("/responses")) {
      return Fixtures.json("responses.json");
    }
    return Fixtures.http("openai-404-unknown-url.http");
  }

  /** The provider's base URL, as a pool's provider is configured with it. */
  String baseUrl() {
    return "http://127.0.0.1:" + server.getPort() + "/v1";
  }

  /** Requests received so far (every one, errors included). */
  int requests() {
    return received.size();
  }

  List<RecordedRequest> received() {
    return List.copyOf(received);
  }

  RecordedRequest last() {
    if (received.isEmpty()) {
      throw new AssertionError(name + " received no request");
    }
    return received.get(received.size() - 1);
  }

  static JsonNode body(RecordedRequest request) {
    try {
      return request.getBody() == null || request.getBody().size() == 0
          ? JSON.missingNode() : JSON.readTree(request.getBody().utf8());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  @Override
  public void close() {
    server.close();
  }

  /**
   * Accepted sockets get TCP_NODELAY: MockWebServer writes a response's headers and body
   * separately, and Nagle's algorithm against the client's delayed ACK would add ~40 ms to each.
   */
  private static final class NoDelayServerSocketFactory extends ServerSocketFactory {
    @Override
    public ServerSocket createServerSocket() throws IOException {
      return new ServerSocket() {
        @Override
        public Socket accept() throws IOException {
          Socket s = super.accept();
          s.setTcpNoDelay(true);
          return s;
        }
      };
    }

    @Override
    public ServerSocket createServerSocket(int port) throws IOException {
      return createServerSocket(port, 50, null);
    }

    @Override
    public ServerSocket createServerSocket(int port, int backlog) throws IOException {
      return createServerSocket(port, backlog, null);
    }

    @Override
    public ServerSocket createServerSocket(int port, int backlog, InetAddress address) throws IOException {
      ServerSocket socket = createServerSocket();
      socket.bind(new InetSocketAddress(address, port), backlog);
      return socket;
    }
  }
}
