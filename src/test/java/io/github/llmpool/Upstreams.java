package io.github.llmpool;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;

import mockwebserver3.MockResponse;
import mockwebserver3.MockWebServer;
import mockwebserver3.RecordedRequest;
import okhttp3.ConnectionPool;
import okhttp3.MediaType;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import okhttp3.RequestBody;
import okhttp3.Response;

/**
 * Real HTTP servers on loopback standing in for providers, each answering through a function of
 * the recorded request, and an OkHttp client wired to a pool. Close it to stop everything.
 */
public final class Upstreams implements AutoCloseable {
  public static final MediaType JSON = MediaType.get("application/json");
  public static final String CHAT = "{\"model\":\"gpt-4o-mini\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}";

  private final List<MockWebServer> servers = new ArrayList<>();
  private final List<AtomicInteger> counts = new ArrayList<>();
  private final List<OkHttpClient> clients = new ArrayList<>();

  /** Starts a server answering with {@code answer}; returns its index. */
  public MockWebServer start(Function<RecordedRequest, MockResponse> answer) {
    MockWebServer server = new MockWebServer();
    AtomicInteger count = new AtomicInteger();
    server.setDispatcher(new mockwebserver3.Dispatcher() {
      @Override
      public MockResponse dispatch(RecordedRequest request) {
        count.incrementAndGet();
        return answer.apply(request);
      }
    });
    server.setServerSocketFactory(new NoDelayServerSocketFactory());
    try {
      server.start();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    servers.add(server);
    counts.add(count);
    return server;
  }

  /** A server that answers every request with the chat fixture. */
  public MockWebServer startChat() {
    return start(r -> Fixtures.json("openai-chat.json"));
  }

  public static String baseUrl(MockWebServer server) {
    return "http://127.0.0.1:" + server.getPort() + "/v1";
  }

  public int count(MockWebServer server) {
    return counts.get(servers.indexOf(server)).get();
  }

  /** A client with the pool's interceptor and enough per-host capacity for concurrent tests. */
  public OkHttpClient client(ProviderPool pool) {
    return client(pool, new OkHttpClient.Builder());
  }

  public OkHttpClient client(ProviderPool pool, OkHttpClient.Builder builder) {
    okhttp3.Dispatcher d = new okhttp3.Dispatcher();
    d.setMaxRequests(256);
    d.setMaxRequestsPerHost(256);
    OkHttpClient c = builder.addInterceptor(pool.interceptor()).dispatcher(d)
        .connectionPool(new ConnectionPool(8, 1, TimeUnit.MINUTES))
        .readTimeout(10, TimeUnit.SECONDS).build();
    clients.add(c);
    return c;
  }

  public static Request chat(ProviderPool pool) {
    return post(pool, "chat/completions", CHAT);
  }

  public static Request post(ProviderPool pool, String path, String json) {
    return new Request.Builder().url(pool.baseUrl().resolve(path).toString())
        .post(RequestBody.create(json, JSON)).build();
  }

  /** Executes and reads the whole body; returns status and body. */
  public static String[] call(OkHttpClient client, Request request) throws IOException {
    try (Response r = client.newCall(request).execute()) {
      return new String[] {String.valueOf(r.code()), r.body().string()};
    }
  }

  /**
   * Accepted sockets get TCP_NODELAY: MockWebServer writes a delayed response's headers and body
   * separately, and Nagle's algorithm against the client's delayed ACK would add ~40 ms to each.
   */
  static final class NoDelayServerSocketFactory extends javax.net.ServerSocketFactory {
    @Override
    public java.net.ServerSocket createServerSocket() throws IOException {
      return new java.net.ServerSocket() {
        @Override
        public java.net.Socket accept() throws IOException {
          java.net.Socket s = super.accept();
          s.setTcpNoDelay(true);
          return s;
        }
      };
    }

    @Override
    public java.net.ServerSocket createServerSocket(int port) throws IOException {
      throw new UnsupportedOperationException();
    }

    @Override
    public java.net.ServerSocket createServerSocket(int port, int backlog) throws IOException {
      throw new UnsupportedOperationException();
    }

    @Override
    public java.net.ServerSocket createServerSocket(int port, int backlog, java.net.InetAddress ifAddress) throws IOException {
      throw new UnsupportedOperationException();
    }
  }

  @Override
  public void close() {
    for (OkHttpClient c : clients) {
      c.dispatcher().executorService().shutdown();
      c.connectionPool().evictAll();
    }
    for (MockWebServer s : servers) {
      s.close();
    }
  }

}
