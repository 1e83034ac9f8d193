package io.github.llmpool.bench;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import javax.net.ServerSocketFactory;
import javax.net.SocketFactory;

/**
 * Socket factories with Nagle's algorithm off on both ends, as production servers and proxies
 * run: with it on, a response written in two segments waits for the peer's delayed ACK (~40 ms on
 * Linux loopback) and a benchmark would measure the kernel's timer instead of the library. Shared
 * by the JMH benchmarks and the quality experiment. Server sockets always reuse their address, so a
 * fake provider taken off its port can come back on it.
 */
public final class NoDelay {
  private NoDelay() {}

  public static SocketFactory client() {
    return new Client();
  }

  public static ServerSocketFactory server() {
    return new Server();
  }

  private static final class Client extends SocketFactory {
    private final SocketFactory delegate = SocketFactory.getDefault();

    private static Socket on(Socket s) throws IOException {
      s.setTcpNoDelay(true);
      return s;
    }

    @Override
    public Socket createSocket() throws IOException {
      return on(delegate.createSocket());
    }

    @Override
    public Socket createSocket(String host, int port) throws IOException {
      return on(delegate.createSocket(host, port));
    }

    @Override
    public Socket createSocket(String host, int port, InetAddress local, int localPort) throws IOException {
      return on(delegate.createSocket(host, port, local, localPort));
    }

    @Override
    public Socket createSocket(InetAddress host, int port) throws IOException {
      return on(delegate.createSocket(host, port));
    }

    @Override
    public Socket createSocket(InetAddress address, int port, InetAddress local, int localPort) throws IOException {
      return on(delegate.createSocket(address, port, local, localPort));
    }
  }

  private static final class Server extends ServerSocketFactory {
    @Override
    public ServerSocket createServerSocket() throws IOException {
      return new NoDelayServerSocket();
    }

    @Override
    public ServerSocket createServerSocket(int port) throws IOException {
      ServerSocket s = new NoDelayServerSocket();
      s.setReuseAddress(true);
      s.bind(new java.net.InetSocketAddress(port));
      return s;
    }

    @Override
    public ServerSocket createServerSocket(int port, int backlog) throws IOException {
      ServerSocket s = new NoDelayServerSocket();
      s.setReuseAddress(true);
      s.bind(new java.net.InetSocketAddress(port), backlog);
      return s;
    }

    @Override
    public ServerSocket createServerSocket(int port, int backlog, InetAddress address) throws IOException {
      ServerSocket s = new NoDelayServerSocket();
      s.setReuseAddress(true);
      s.bind(new java.net.InetSocketAddress(address, port), backlog);
      return s;
    }
  }

  private static final class NoDelayServerSocket extends ServerSocket {
    NoDelayServerSocket() throws IOException {
      super();
      setReuseAddress(true);
    }

    /**
     * Always on: MockWebServer turns it off for an ephemeral port, and then a server taken off its
     * port could not come back while the old connections sit in TIME_WAIT.
     */
    @Override
    public void setReuseAddress(boolean on) throws java.net.SocketException {
      super.setReuseAddress(true);
    }

    @Override
    public Socket accept() throws IOException {
      Socket s = super.accept();
      s.setTcpNoDelay(true);
      return s;
    }
  }
}
