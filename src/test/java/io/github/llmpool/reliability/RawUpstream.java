package io.github.llmpool.reliability;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;

/**
 * A loopback HTTP/1.1 server that writes whatever bytes its script returns, malformed ones
 * included (MockWebServer only writes well-formed status lines and chunks). Each connection
 * serves one request: the request line and headers are read (and a {@code Content-Length} body
 * skipped), the script gets the headers (names in lower case) and returns the raw response, the
 * connection is closed. Close the server to stop it.
 */
public final class RawUpstream implements AutoCloseable {
  private final ServerSocket server;
  private final Thread acceptor;
  private final AtomicInteger requests = new AtomicInteger();
  private final List<Socket> open = new CopyOnWriteArrayList<>();

  public RawUpstream(Function<Map<String, String>, String> script) {
    try {
      server = new ServerSocket(0, 50, InetAddress.getByName("127.0.0.1"));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    acceptor = new Thread(() -> {
      while (!server.isClosed()) {
        try (Socket s = server.accept()) {
          open.add(s);
          serve(s, script);
          open.remove(s);
        } catch (IOException e) {
          // closed, or the client went away
        }
      }
    }, "raw-upstream-" + server.getLocalPort());
    acceptor.setDaemon(true);
    acceptor.start();
  }

  private void serve(Socket s, Function<Map<String, String>, String> script) throws IOException {
    InputStream in = s.getInputStream();
    Map<String, String> headers = new LinkedHashMap<>();
    String requestLine = line(in);
    if (requestLine == null) {
      return;
    }
    for (String l = line(in); l != null && !l.isEmpty(); l = line(in)) {
      int colon = l.indexOf(':');
      if (colon > 0) {
        headers.put(l.substring(0, colon).trim().toLowerCase(Locale.ROOT), l.substring(colon + 1).trim());
      }
    }
    long length = Long.parseLong(headers.getOrDefault("content-length", "0"));
    for (long i = 0; i < length; i++) {
      if (in.read() < 0) {
        break;
      }
    }
    requests.incrementAndGet();
    OutputStream out = s.getOutputStream();
    out.write(script.apply(headers).getBytes(StandardCharsets.ISO_8859_1));
    out.flush();
    s.shutdownOutput();
  }

  private static String line(InputStream in) throws IOException {
    ByteArrayOutputStream b = new ByteArrayOutputStream();
    int c;
    while ((c = in.read()) >= 0 && c != '\n') {
      if (c != '\r') {
        b.write(c);
      }
    }
    return c < 0 && b.size() == 0 ? null : b.toString(StandardCharsets.ISO_8859_1);
  }

  /** The base URL a provider uses: {@code http://127.0.0.1:<port>/v1}. */
  public String baseUrl() {
    return "http://127.0.0.1:" + server.getLocalPort() + "/v1";
  }

  /** Requests served so far. */
  public int requests() {
    return requests.get();
  }

  @Override
  public void close() {
    try {
      server.close();
      for (Socket s : open) {
        s.close();
      }
      acceptor.join(5_000);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
