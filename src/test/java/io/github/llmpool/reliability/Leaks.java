package io.github.llmpool.reliability;

import java.lang.reflect.Field;
import java.lang.reflect.Method;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import okhttp3.ConnectionPool;
import okhttp3.OkHttpClient;

/**
 * Detects response bodies that were never closed, the way OkHttp itself does, but on demand.
 *
 * <p>OkHttp tracks each call on its connection through a weak reference. When the connection
 * pool's cleanup finds a reference the garbage collector cleared (the application dropped a
 * response without closing it), it logs "A connection to ... was leaked. Did you forget to close a
 * response body?" at WARNING through the {@code java.util.logging} logger {@code
 * okhttp3.OkHttpClient} ({@code RealConnectionPool.pruneAndGetAllocationCount}). That cleanup
 * normally runs on a background task only every keep-alive period, and {@code evictAll()} skips
 * connections that still carry a call, so this class runs it directly: {@link #detect} collects
 * garbage, then calls {@code RealConnectionPool.closeConnections(now)} (public in the class file,
 * reached reflectively because the {@code okhttp3} module exports that package to its own modules
 * only). {@link #inUse} is the second, GC-free signal: a connection that still carries a call
 * means a response that is open and still reachable.
 *
 * <p>Installs a handler on the OkHttp logger while open (and keeps the messages off the console);
 * close it to restore the logger. Thread-safe.
 */
final class Leaks implements AutoCloseable {
  static final String LEAK_MARK = "was leaked. Did you forget to close a response body?";

  private static final Logger OKHTTP = Logger.getLogger(OkHttpClient.class.getName());

  private final List<String> messages = new CopyOnWriteArrayList<>();
  private final boolean parentHandlers;
  private final Handler handler = new Handler() {
    @Override
    public void publish(LogRecord record) {
      String m = record.getMessage();
      if (m != null && m.contains(LEAK_MARK)) {
        messages.add(m);
      }
    }

    @Override
    public void flush() {}

    @Override
    public void close() {}
  };

  Leaks() {
    parentHandlers = OKHTTP.getUseParentHandlers();
    handler.setLevel(Level.ALL);
    OKHTTP.addHandler(handler);
    OKHTTP.setUseParentHandlers(false);
  }

  /** Connections of {@code pool} that still carry a call: responses open and reachable. */
  static int inUse(ConnectionPool pool) {
    return pool.connectionCount() - pool.idleConnectionCount();
  }

  /**
   * Runs OkHttp's leak detection on {@code pool} now, up to {@code rounds} times (GC, then the
   * pool's cleanup), stopping early once a leak was logged. Returns every leak message seen since
   * this detector was opened.
   */
  List<String> detect(ConnectionPool pool, int rounds) {
    for (int i = 0; i < rounds && messages.isEmpty(); i++) {
      System.gc();
      cleanup(pool);
    }
    return seen();
  }

  /**
   * {@link #detect} over many pools at the cost of one collection: GC once, then run every pool's
   * cleanup. Returns every leak message seen since this detector was opened.
   */
  List<String> sweep(java.util.Collection<ConnectionPool> pools) {
    System.gc();
    for (ConnectionPool p : pools) {
      cleanup(p);
    }
    return seen();
  }

  /** Every leak message seen so far (by {@link #detect} or by OkHttp's own background cleanup). */
  List<String> seen() {
    return new ArrayList<>(messages);
  }

  /**
   * The leak messages about connections to these loopback ports: other test classes in the same
   * JVM may leak too, and OkHttp's background cleanup may report them at any time.
   */
  List<String> seenFor(java.util.Collection<Integer> ports) {
    List<String> out = new ArrayList<>();
    for (String m : messages) {
      java.util.regex.Matcher x = java.util.regex.Pattern.compile("://127\\.0\\.0\\.1:(\\d+)/").matcher(m);
      if (x.find() && ports.contains(Integer.parseInt(x.group(1)))) {
        out.add(m);
      }
    }
    return out;
  }

  void clear() {
    messages.clear();
  }

  private static void cleanup(ConnectionPool pool) {
    try {
      Method delegate = ConnectionPool.class.getDeclaredMethod("getDelegate$okhttp");
      delegate.setAccessible(true);
      Object real = delegate.invoke(pool);
      Method close = real.getClass().getMethod("closeConnections", long.class);
      close.invoke(real, System.nanoTime());
    } catch (ReflectiveOperationException e) {
      // Fall back to the companion accessor if the internal getter was renamed.
      try {
        Class<?> c = Class.forName("okhttp3.internal.connection.RealConnectionPool");
        Field companion = c.getField("Companion");
        Object comp = companion.get(null);
        Object real = comp.getClass().getMethod("get", ConnectionPool.class).invoke(comp, pool);
        c.getMethod("closeConnections", long.class).invoke(real, System.nanoTime());
      } catch (ReflectiveOperationException e2) {
        e2.addSuppressed(e);
        throw new AssertionError("cannot run OkHttp's connection pool cleanup; did OkHttp's internals change?", e2);
      }
    }
  }

  @Override
  public void close() {
    OKHTTP.removeHandler(handler);
    OKHTTP.setUseParentHandlers(parentHandlers);
  }
}
