package io.github.llmpool.redis;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.github.llmpool.PoolEvent;
import io.github.llmpool.ProviderPool;
import io.github.llmpool.ProviderSnapshot;
import io.github.llmpool.spi.SharedAffinity;
import io.github.llmpool.spi.SharedDispatch;
import io.github.llmpool.spi.SharedEviction;
import io.github.llmpool.spi.SharedLimits;
import io.github.llmpool.spi.SharedQuota;
import io.github.llmpool.spi.SharedState;
import io.github.llmpool.testing.ManualTicker;
import java.io.IOException;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.UnaryOperator;
import okhttp3.MediaType;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import okhttp3.RequestBody;
import okhttp3.Response;

/**
 * One instance of a pool as the tests run several in one JVM: its own {@link RedisSharedState}
 * (its own Redis connections), its own {@link ManualTicker} (its own monotonic time, the common
 * wall clock), its own HTTP client. What the shared state hands the pool is also recorded
 * ({@link #received}), so a test waits for news with a timeout instead of sleeping.
 */
final class Instance implements AutoCloseable {
  static final Instant WALL = Instant.parse("2026-06-01T12:00:00Z");
  static final MediaType JSON = MediaType.get("application/json");

  final ManualTicker ticker;
  final RedisSharedState shared;
  final ProviderPool pool;
  final OkHttpClient http;
  final BlockingQueue<PoolEvent> events = new LinkedBlockingQueue<>();
  /** Every value the shared state handed the pool: SharedEviction, SharedQuota, SharedAffinity, SharedDispatch. */
  final BlockingQueue<Object> received = new LinkedBlockingQueue<>();
  /** The pool's side of each shared budget it opened, by budget name (what it holds: {@code held()}). */
  final java.util.Map<String, io.github.llmpool.spi.SharedBudgets.Holder> budgetHolders =
      new java.util.concurrent.ConcurrentHashMap<>();

  Instance(String uri, long nanosOffset, UnaryOperator<ProviderPool.Builder> pool) {
    this(uri, nanosOffset, pool, b -> {});
  }

  Instance(String uri, long nanosOffset, UnaryOperator<ProviderPool.Builder> pool,
      Consumer<RedisSharedState.Builder> shared) {
    this(uri, nanosOffset, pool, shared, false);
  }

  /**
   * As above; {@code parksMoveTime}: the pool's parks (a request waiting for a lease) advance this
   * instance's ticker by what they park, as a real clock would while they wait.
   */
  Instance(String uri, long nanosOffset, UnaryOperator<ProviderPool.Builder> pool,
      Consumer<RedisSharedState.Builder> shared, boolean parksMoveTime) {
    this.ticker = new ManualTicker(WALL).setNanos(1_000_000_000L + nanosOffset).setWall(WALL);
    RedisSharedState.Builder sb = RedisSharedState.builder().uri(uri).ticker(ticker);
    shared.accept(sb);
    this.shared = sb.build();
    SharedState recording = new SharedState() {
      @Override
      public SharedLimits limits() {
        return Instance.this.shared.limits();
      }

      @Override
      public io.github.llmpool.spi.SharedBudgets budgets() {
        io.github.llmpool.spi.SharedBudgets b = Instance.this.shared.budgets();
        return b == null ? null : (budget, holder) -> {
          budgetHolders.put(budget.name(), holder);
          return b.open(budget, holder);
        };
      }

      @Override
      public Publisher join(String name, Receiver receiver) {
        return Instance.this.shared.join(name, new SharedState.Receiver() {
      @Override
      public void onEviction(SharedEviction e) {
        receiver.onEviction(e);
        received.add(e);
      }

      @Override
      public void onQuota(SharedQuota q) {
        receiver.onQuota(q);
        received.add(q);
      }

      @Override
      public void onAffinity(SharedAffinity a) {
        receiver.onAffinity(a);
        received.add(a);
      }

      @Override
      public void onDispatched(SharedDispatch d) {
        receiver.onDispatched(d);
        received.add(d);
      }

      @Override
      public void onSharedStateDown(String reason) {
        receiver.onSharedStateDown(reason);
      }

      @Override
      public void onSharedStateUp() {
        receiver.onSharedStateUp();
      }
    });
      }
    };
    ManualTicker t = ticker;
    io.github.llmpool.Ticker poolTicker = !parksMoveTime ? t : new io.github.llmpool.Ticker() {
      @Override
      public long read() {
        return t.read();
      }

      @Override
      public long wallMillis() {
        return t.wallMillis();
      }

      @Override
      public void park(long nanos) {
        t.advance(Duration.ofNanos(nanos));
        java.util.concurrent.locks.LockSupport.parkNanos(nanos); // a grant still wakes it early
      }
    };
    this.pool = pool.apply(ProviderPool.builder().name("chat").ticker(poolTicker).sharedState(recording)
        .onEvent(events::add)).build();
    this.http = this.pool.newHttpClient();
  }

  /** One chat call; returns the HTTP status. */
  int call() throws IOException {
    return call(null);
  }

  /** One chat call with {@code X-Session-Id: session} (none when null); returns the HTTP status. */
  int call(String session) throws IOException {
    Request.Builder r = new Request.Builder().url(pool.baseUrl().resolve("chat/completions").toString())
        .post(RequestBody.create("{\"model\":\"gpt-4o-mini\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}",
            JSON));
    if (session != null) {
      r.header("X-Session-Id", session);
    }
    try (Response response = http.newCall(r.build()).execute()) {
      response.body().string();
      return response.code();
    }
  }

  /** One chat call: true when it was answered 200, false when the pool refused it (no provider has headroom). */
  boolean admitted() throws IOException {
    try {
      return call() == 200;
    } catch (io.github.llmpool.NoProviderAvailableException refused) {
      return false;
    }
  }

  /** Waits for a lease round of this instance's shared state, begun now. */
  void leased() throws Exception {
    shared.nextLeaseRound().get(10, TimeUnit.SECONDS);
  }

  ProviderSnapshot provider(String name) {
    return pool.snapshot().provider(name).orElseThrow();
  }

  /** Waits for the next value of {@code type} the shared state hands the pool. */
  <T> T next(Class<T> type, Duration timeout) throws InterruptedException {
    long end = System.nanoTime() + timeout.toNanos();
    while (true) {
      long left = end - System.nanoTime();
      Object o = left > 0 ? received.poll(left, TimeUnit.NANOSECONDS) : null;
      if (o == null) {
        throw new AssertionError("no " + type.getSimpleName() + " arrived within " + timeout);
      }
      if (type.isInstance(o)) {
        return type.cast(o);
      }
    }
  }

  /** Waits for the next event of {@code type}. */
  <T extends PoolEvent> T event(Class<T> type, Duration timeout) throws InterruptedException {
    long end = System.nanoTime() + timeout.toNanos();
    while (true) {
      long left = end - System.nanoTime();
      PoolEvent e = left > 0 ? events.poll(left, TimeUnit.NANOSECONDS) : null;
      if (e == null) {
        throw new AssertionError("no " + type.getSimpleName() + " within " + timeout);
      }
      if (type.isInstance(e)) {
        return type.cast(e);
      }
    }
  }

  /** Waits for a full read of Redis by this instance, begun now. */
  void resynced() throws Exception {
    shared.nextResync().get(10, TimeUnit.SECONDS);
  }

  void advance(Duration d) {
    ticker.advance(d);
  }

  static void assertOk(int status) {
    assertEquals(200, status);
  }

  @Override
  public void close() {
    http.dispatcher().executorService().shutdown();
    http.connectionPool().evictAll();
    shared.close();
  }
}
