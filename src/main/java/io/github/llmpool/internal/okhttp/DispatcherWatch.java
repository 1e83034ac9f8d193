package io.github.llmpool.internal.okhttp;

import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.lang.invoke.VarHandle;
import java.util.Collections;
import java.util.Map;
import java.util.WeakHashMap;
import okhttp3.Call;
import okhttp3.Dispatcher;
import okhttp3.OkHttpClient;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Makes OkHttp's per-host limit loud where it caps a pool. Every call through a pool (or a router)
 * names one virtual host, so a client built by hand with OkHttp's default dispatcher runs 5 of its
 * async calls at once and queues the rest, silently. When a call of the pool gets its response
 * headers or finishes its body, this watch looks, at most once per {@link #PERIOD_NANOS} of the
 * pool's clock, at that call's client: if async calls naming the same host wait in its dispatcher's
 * queue while the client as a whole has room ({@code runningCallsCount() < maxRequests}) and
 * {@code maxRequestsPerHost < maxRequests}, the per-host limit is what holds them back, and one
 * WARN per watch and dispatcher names the limit, the pool and the fix.
 *
 * <p>Quiet by design where the limit is not the problem: synchronous calls ({@code execute()})
 * are never queued by the dispatcher; a limit set as high as {@code maxRequests} (as
 * {@code pool.newHttpClient()} and {@code pool.configure(builder)} do, or a deliberate cap with
 * both set to the same value) is not a per-host cap; nothing is said until calls actually wait.
 *
 * <p>Cost: on the common path one volatile read and a comparison with a time the caller already
 * has. The sample (once per period) finds the call's {@code OkHttpClient} through a method handle
 * on OkHttp's {@code RealCall.getClient()}, looked up once, and reads the dispatcher under its own
 * lock. Where that method is not accessible (on the module path {@code okhttp3} does not export
 * {@code okhttp3.internal.connection} to this module) the watch is off for good, said
 * once at DEBUG on logger {@value #LOGGER}; a call that is not OkHttp's own (a wrapped chain) is
 * skipped. Nothing here ever fails a call: an unexpected failure turns the watch off.
 *
 * <p>Thread-safe.
 */
final class DispatcherWatch {
  /** The logger of the warning, a child of {@code io.github.llmpool}: set it to ERROR to silence it. */
  static final String LOGGER = "io.github.llmpool.dispatcher";
  /** At most one sample per 100 ms of the pool's clock. */
  static final long PERIOD_NANOS = 100_000_000L;

  private static final Logger log = LoggerFactory.getLogger(LOGGER);
  /** {@code okhttp3.internal.connection.RealCall}, or null when the watch is off for good. */
  private static final Class<?> REAL_CALL;
  /** {@code (Call) -> OkHttpClient} on a {@link #REAL_CALL}, or null. */
  private static final MethodHandle CLIENT;
  private static final VarHandle NEXT;

  static {
    Class<?> type = null;
    MethodHandle client = null;
    try {
      type = Class.forName("okhttp3.internal.connection.RealCall", false, OkHttpClient.class.getClassLoader());
      client = MethodHandles.lookup().findVirtual(type, "getClient", MethodType.methodType(OkHttpClient.class))
          .asType(MethodType.methodType(OkHttpClient.class, Call.class));
    } catch (ReflectiveOperationException | RuntimeException | LinkageError e) {
      type = null;
      client = null;
      log.debug("llmpool: the check of OkHttp's per-host limit is off ({}: OkHttp's RealCall.getClient() is not"
          + " accessible here, e.g. on the module path); build clients with pool.newHttpClient() or"
          + " pool.configure(builder)", e.getClass().getSimpleName());
    }
    REAL_CALL = type;
    CLIENT = client;
    try {
      NEXT = MethodHandles.lookup().findVarHandle(DispatcherWatch.class, "nextCheck", long.class);
    } catch (ReflectiveOperationException e) {
      throw new ExceptionInInitializerError(e);
    }
  }

  private final String who;
  private final String fix;
  /** Dispatchers already warned about, shared by the watches of one router; weak keys. */
  private final Map<Dispatcher, Boolean> warned;
  /** The pool's clock reading from which the next call samples. */
  private volatile long nextCheck;
  private volatile boolean off;

  /**
   * @param who how the warning names the caller ({@code llmpool[chat]})
   * @param fix what the warning advises
   * @param warned the dispatchers warned about (shared to warn once over several watches)
   * @param now the pool's clock now: the first call samples
   */
  DispatcherWatch(String who, String fix, Map<Dispatcher, Boolean> warned, long now) {
    this.who = who;
    this.fix = fix;
    this.warned = warned;
    this.nextCheck = now;
  }

  /** The watch of a pool's own interceptor. */
  static DispatcherWatch forPool(String pool, long now) {
    return new DispatcherWatch("llmpool[" + pool + "]", "build the client with pool.newHttpClient() or"
        + " pool.configure(builder), or raise the limit: dispatcher.setMaxRequestsPerHost(n)", newWarned(), now);
  }

  /** A new set of warned dispatchers (weak keys, synchronized). */
  static Map<Dispatcher, Boolean> newWarned() {
    return Collections.synchronizedMap(new WeakHashMap<>());
  }

  /** Whether the method handle could be made here (false on the module path). */
  static boolean available() {
    return CLIENT != null;
  }

  /**
   * Called with the pool's clock when a call of the pool got its response headers or ended its
   * body. Never throws (but a {@link VirtualMachineError}).
   */
  void check(Call call, long now) {
    if (CLIENT == null || now - nextCheck < 0) {
      return;
    }
    sample(call, now);
  }

  private void sample(Call call, long now) {
    long next = nextCheck;
    if (off || now - next < 0 || !NEXT.compareAndSet(this, next, now + PERIOD_NANOS)) {
      return; // another thread samples this period
    }
    try {
      if (!REAL_CALL.isInstance(call)) {
        return; // not OkHttp's own call (a wrapped chain): nothing to read
      }
      OkHttpClient client = (OkHttpClient) CLIENT.invokeExact(call);
      Dispatcher d = client.dispatcher();
      String host = call.request().url().host();
      int perHost;
      int max;
      int queued = 0;
      synchronized (d) { // the dispatcher's own lock: one consistent view
        perHost = d.getMaxRequestsPerHost();
        max = d.getMaxRequests();
        if (perHost >= max || d.queuedCallsCount() == 0 || d.runningCallsCount() >= max) {
          return;
        }
        for (Call q : d.queuedCalls()) {
          if (host.equals(q.request().url().host())) {
            queued++;
          }
        }
      }
      if (queued == 0 || warned.putIfAbsent(d, Boolean.TRUE) != null) {
        return;
      }
      log.warn("{} async calls wait in this OkHttpClient's dispatcher queue ({} now): its maxRequestsPerHost ({})"
          + " caps the pool at {} concurrent calls, since every call names the one virtual host {} (maxRequests is {})."
          + " Fix: {}. Said once per pool and client; a deliberate cap stays quiet with maxRequests set to the same"
          + " value, or with logger " + LOGGER + " at ERROR.", who, queued, perHost, perHost, host, max, fix);
    } catch (Throwable t) {
      off = true;
      log.debug("llmpool: the check of OkHttp's per-host limit is off for {} ({})", who, t.getClass().getName());
      if (t instanceof VirtualMachineError) {
        throw (VirtualMachineError) t;
      }
    }
  }
}
