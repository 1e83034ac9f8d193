package io.github.llmpool.redis;

import io.github.llmpool.Ticker;
import io.github.llmpool.spi.SharedAffinity;
import io.github.llmpool.spi.SharedBudget;
import io.github.llmpool.spi.SharedBudgets;
import io.github.llmpool.spi.SharedDispatch;
import io.github.llmpool.spi.SharedEviction;
import io.github.llmpool.spi.SharedLimit;
import io.github.llmpool.spi.SharedLimits;
import io.github.llmpool.spi.SharedQuota;
import io.github.llmpool.spi.SharedState;
import io.lettuce.core.ClientOptions;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisCommandExecutionException;
import io.lettuce.core.RedisCommandTimeoutException;
import io.lettuce.core.RedisConnectionException;
import io.lettuce.core.RedisFuture;
import io.lettuce.core.RedisURI;
import io.lettuce.core.ScriptOutputType;
import io.lettuce.core.SocketOptions;
import io.lettuce.core.TimeoutOptions;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.api.async.RedisAsyncCommands;
import io.lettuce.core.codec.StringCodec;
import io.lettuce.core.pubsub.RedisPubSubAdapter;
import io.lettuce.core.pubsub.StatefulRedisPubSubConnection;
import io.lettuce.core.resource.ClientResources;
import io.lettuce.core.resource.DefaultClientResources;
import io.lettuce.core.resource.Delay;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A {@link SharedState} on Redis (or Valkey): instances of one pool, in one JVM or many, share the
 * evictions they decide, the quota windows their providers' rate-limit headers announce, and
 * their session-affinity bindings.
 *
 * <pre>{@code
 * RedisSharedState shared = RedisSharedState.builder().uri(System.getenv("REDIS_URL")).build();
 * ProviderPool pool = ProviderPool.builder().name("chat").sharedState(shared)
 *     .tier(a, b).build();
 * // on shutdown, after the pools: shared.close();
 * }</pre>
 *
 * <p>How it works:
 * <ul>
 *   <li><b>No Redis round trip on the pick path.</b> A pool picks from its own memory. What it
 *       learns is put in a small map (latest value per provider or key) and written by a
 *       background thread every {@link Builder#publishInterval publish interval} (20 ms): one
 *       pipelined batch per pool, a Lua script per kind (atomic, merging as the core merges) and one
 *       {@code PUBLISH}. Others' news arrives by subscription, and a periodic read of the pool's
 *       hashes every {@link Builder#resyncInterval resync interval} (250 ms) catches what a lost
 *       message missed: the bound on how stale an instance can be while Redis is up.</li>
 *   <li><b>Keys</b>, for pool {@code chat} and the default prefix {@code llmpool:}:
 *       {@code llmpool:{chat}:evictions} (hash: provider to deadline, cause, hint),
 *       {@code llmpool:{chat}:quota} (hash: {@code r:provider} / {@code t:provider} to limit,
 *       remaining, reset, seen), {@code llmpool:{chat}:affinity} and
 *       {@code llmpool:{chat}:affinity:expiry} (hash and sorted set), channel
 *       {@code llmpool:{chat}:bus}. The hash tag {@code {chat}} puts a pool's keys in one Redis
 *       Cluster slot; every key has a TTL (evictions: a minute past the latest deadline; quota:
 *       10 minutes after the last write; affinity: the latest expiry).</li>
 *   <li><b>Configured limits</b> ({@link #limits()}): each configured dimension of a provider or
 *       quota group is one GCRA window in {@code llmpool:{chat}:limits}; each instance admits only
 *       units it holds in leases of {@link Builder#leaseShare lease share} x limit (plus one lease of
 *       credit before its first grant, a debt its first lease round pays), asks for the
 *       next one on this state's thread when a dispatch takes it below half a lease (or a request
 *       needs more than is held), renews a lease when it expires ({@link Builder#leaseTtl}; units
 *       above a full lease go back), gives everything back on {@link #close()}, lowers a window to
 *       what the provider's rate-limit headers say is left, and falls back to limit / fleet size per
 *       instance while Redis is down. The fleet admits at most instances x lease beyond one bucket
 *       of the limit (an instance spends a lease held before an interval or its credit, not both).</li>
 *   <li><b>Budgets</b> ({@link #budgets()}): each budget's current calendar window is one count in
 *       {@code llmpool:{chat}:budget:<name>:<window start>} (units granted, each instance's settled
 *       spend; TTL the window's end plus a minute); each instance reserves only from units it holds
 *       in leases of at least {@link Builder#budgetLeaseShare budget lease share} x limit, sized to
 *       its demand (plus one smallest lease of credit before a window's first grant), asks for the
 *       next one when a reservation takes it below half a lease, lets a request short only until
 *       that lease wait for it (at most 60 ms), and gives unused units back when a lease expires or
 *       on {@link #close()}. Idle units move: an instance short while others hold spare units records
 *       its demand and waits (the same 60 ms); the script tells the fleet on the pool's channel, a
 *       holder gives back exactly what is lacking, and the script earmarks it for the short instance.
 *       The fleet's settled spend stays within limit + instances x lease + what attempts in flight
 *       cost beyond their reservations; while Redis is down each instance falls back to what the
 *       window had left over the fleet size.</li>
 *   <li><b>Header windows</b>: besides the windows themselves, what each instance dispatched
 *       against them goes out in batches every publish interval (only on the channel), and the
 *       others count it; a quota group's window is shared by the group's name.</li>
 *   <li><b>Identity</b>: pool name + provider name, as the core shares them. Renaming a provider
 *       starts it afresh in Redis as in memory; two deployments that must not share use different
 *       pool names or {@link Builder#keyPrefix key prefixes}. Names are chosen by the operator
 *       and stable across restarts, unlike base URLs, which may change with a proxy; a base URL
 *       is also no identity for two accounts on one URL.</li>
 *   <li><b>Redis down, stalled, restarted or flushed</b>: calls never wait on Redis (commands run
 *       on Lettuce's event loop, answers are applied on this state's thread) and never fail
 *       because of it. The first failed command (refused, rejected while disconnected, timed out
 *       after {@link Builder#commandTimeout command timeout}) makes every joined pool log one WARN
 *       and emit {@code PoolEvent.SharedStateDown}; the pools then decide alone. Lettuce
 *       reconnects and resubscribes; the next successful read resynchronises (remote state applied,
 *       and what this instance knows but Redis lost is written back) and the pools emit
 *       {@code SharedStateUp}.</li>
 *   <li><b>Credentials</b> are passed to Lettuce as given ({@code rediss://} for TLS, an ACL user
 *       and password in the URI or a {@link RedisURI} built with a credentials provider) and
 *       never logged: this class logs the host and port only, and {@link #toString()} shows no
 *       password.</li>
 * </ul>
 *
 * <p>One instance may serve several pools (by name); close it after them. Thread-safe.
 */
public final class RedisSharedState implements SharedState, AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger("io.github.llmpool.redis");

  /** Default {@link Builder#keyPrefix}. */
  public static final String DEFAULT_KEY_PREFIX = "llmpool:";
  /** Default {@link Builder#publishInterval}: 20 ms. */
  public static final Duration DEFAULT_PUBLISH_INTERVAL = Duration.ofMillis(20);
  /** Default {@link Builder#resyncInterval}: 250 ms. */
  public static final Duration DEFAULT_RESYNC_INTERVAL = Duration.ofMillis(250);
  /** Default {@link Builder#commandTimeout}: 500 ms. */
  public static final Duration DEFAULT_COMMAND_TIMEOUT = Duration.ofMillis(500);
  /** Default {@link Builder#leaseShare}: a lease is 0.5% of a limit (at least 1 unit). */
  public static final double DEFAULT_LEASE_SHARE = 0.005;
  /** Default {@link Builder#leaseTtl}: 5 s. */
  public static final Duration DEFAULT_LEASE_TTL = Duration.ofSeconds(5);
  /** Default {@link Builder#budgetLeaseShare}: a budget's lease is 1% of its limit (at least 1 unit). */
  public static final double DEFAULT_BUDGET_LEASE_SHARE = 0.01;
  /**
   * The largest budget limit this store counts exactly, in units (10^-9 of the currency, or
   * tokens): 2^53, so that Lua's numbers are exact (9,007,199.254740992 of a currency).
   */
  public static final long MAX_BUDGET_UNITS = 1L << 53;
  /** How long a budget window's key outlives the window. */
  static final long BUDGET_TTL_SLACK_MILLIS = 60_000;
  /**
   * How long an instance's report that its waiting requests lack units counts for the others: a
   * little over the pool's longest wait for a lease (60 ms); a waiting instance renews it each round.
   */
  static final long BUDGET_DEMAND_FRESH_MILLIS = 100;

  static final long QUOTA_TTL_MILLIS = 600_000;
  /** At most this many affinity entries wait for the next write (per pool); more are dropped (counted). */
  static final int MAX_PENDING_AFFINITY = 10_000;

  private final RedisURI uri; // holds the credentials: never logged
  private final String where;
  private final String prefix;
  private final Duration publishInterval;
  private final Duration resyncInterval;
  private final Duration commandTimeout;
  private final boolean shareQuota;
  private final boolean shareAffinity;
  private final boolean shareLimits;
  private final boolean shareBudgets;
  private final double leaseShare;
  private final double budgetLeaseShare;
  private final long leaseTtlMillis;
  /** This instance's id among a pool's lease holders (fleet size). */
  private final String instanceId;
  private final Limits limits = new Limits();
  private final Budgets budgets = new Budgets();
  private final ConcurrentHashMap<String, PoolLines> lines = new ConcurrentHashMap<>();
  private final AtomicBoolean leaseRoundQueued = new AtomicBoolean();
  private final Ticker ticker;
  private final ClientResources resources;
  private final boolean ownResources;
  private final RedisClient client;
  /** One daemon thread: every write, read and apply runs on it, in order. */
  private final ScheduledExecutorService executor;
  private final List<Member> members = new CopyOnWriteArrayList<>();
  private final AtomicLong ids = new AtomicLong();
  private final AtomicLong droppedAffinity = new AtomicLong();
  private final AtomicLong malformed = new AtomicLong();
  private final AtomicLong resyncs = new AtomicLong();

  // Executor-thread state.
  private StatefulRedisConnection<String, String> conn;
  private boolean connecting;
  private StatefulRedisPubSubConnection<String, String> pubsub;
  private boolean pubsubConnecting;
  private boolean flushInFlight;
  private boolean resyncInFlight;
  private List<CompletableFuture<Void>> waiting = new ArrayList<>();
  private boolean leaseInFlight;
  private boolean leaseAgain;
  private List<CompletableFuture<Void>> leaseWaiting = new ArrayList<>();
  private volatile boolean down;
  /** Why the store is down, while {@link #down}: told to a pool that joins meanwhile. Executor only. */
  private String downReason;
  private volatile boolean closed;

  private RedisSharedState(Builder b) {
    this.uri = b.uri;
    this.where = where(b.uri);
    this.prefix = b.prefix;
    this.publishInterval = b.publishInterval;
    this.resyncInterval = b.resyncInterval;
    this.commandTimeout = b.commandTimeout;
    this.shareQuota = b.shareQuota;
    this.shareAffinity = b.shareAffinity;
    this.shareLimits = b.shareLimits;
    this.shareBudgets = b.shareBudgets;
    this.leaseShare = b.leaseShare;
    this.budgetLeaseShare = b.budgetLeaseShare;
    this.leaseTtlMillis = b.leaseTtl.toMillis();
    this.instanceId = Long.toString(System.nanoTime() ^ System.identityHashCode(this) * 31L, 36) + "-"
        + Long.toString(Double.doubleToLongBits(Math.random()) & 0xffffffffL, 36);
    this.ticker = b.ticker;
    this.ownResources = b.resources == null;
    this.resources = b.resources != null ? b.resources
        : DefaultClientResources.builder().ioThreadPoolSize(2).computationThreadPoolSize(2)
            .reconnectDelay(Delay.exponential(Duration.ofMillis(50), Duration.ofSeconds(2), 2, TimeUnit.MILLISECONDS))
            .build();
    this.client = RedisClient.create(resources);
    client.setOptions(ClientOptions.builder().autoReconnect(true)
        .disconnectedBehavior(ClientOptions.DisconnectedBehavior.REJECT_COMMANDS)
        .timeoutOptions(TimeoutOptions.enabled(commandTimeout))
        .socketOptions(SocketOptions.builder().connectTimeout(max(commandTimeout, Duration.ofSeconds(1))).build())
        .build());
    this.executor = Executors.newSingleThreadScheduledExecutor(r -> {
      Thread t = new Thread(r, "llmpool-redis");
      t.setDaemon(true);
      return t;
    });
    executor.scheduleWithFixedDelay(this::safeFlush, publishInterval.toNanos(), publishInterval.toNanos(),
        TimeUnit.NANOSECONDS);
    executor.scheduleWithFixedDelay(this::safeResync, 0, resyncInterval.toNanos(), TimeUnit.NANOSECONDS);
  }

  private static Duration max(Duration a, Duration b) {
    return a.compareTo(b) >= 0 ? a : b;
  }

  /** A new builder; {@link Builder#uri(String)} is required. */
  public static Builder builder() {
    return new Builder();
  }

  // ------------------------------------------------------------------ SharedState

  /**
   * Joins a pool: subscribes to its channel and reads its state in the background (never blocks,
   * not even when Redis is down).
   *
   * @throws IllegalStateException if this shared state is closed
   */
  @Override
  public Publisher join(String pool, Receiver receiver) {
    Objects.requireNonNull(pool, "pool");
    Objects.requireNonNull(receiver, "receiver");
    if (closed) {
      throw new IllegalStateException("RedisSharedState is closed");
    }
    Member m = new Member(pool, receiver, Long.toString(ids.incrementAndGet(), 36) + "-"
        + Long.toString(System.nanoTime() ^ System.identityHashCode(this), 36));
    members.add(m);
    execute(() -> {
      if (down && !m.toldDown) { // the store went down before this pool joined: it must hear so too
        m.toldDown = true;
        String reason = downReason;
        deliver(m, () -> m.receiver.onSharedStateDown(reason));
      }
      if (pubsub != null) {
        subscribe(pubsub, List.of(m));
      }
    });
    return m;
  }

  /**
   * A future that completes when a full read of every joined pool's state, begun after this call
   * (and after writing what was published before it), has succeeded and been applied: while
   * Redis is down it waits for it to come back. For health checks and tests; use a timeout.
   *
   * @return the future
   */
  public CompletableFuture<Void> nextResync() {
    CompletableFuture<Void> f = new CompletableFuture<>();
    execute(() -> waiting.add(f));
    return f;
  }

  /**
   * Fleet-wide windows for the pools' configured limits, taken in leases of
   * {@link Builder#leaseShare lease share} x limit units (at least 1) that expire after
   * {@link Builder#leaseTtl lease TTL}; null with {@code shareLimits(false)}.
   */
  @Override
  public SharedLimits limits() {
    return shareLimits ? limits : null;
  }

  /**
   * Budgets shared by the fleet: each budget's current calendar window counted in Redis, taken in
   * leases of {@link Builder#budgetLeaseShare budget lease share} x limit units (at least 1) that
   * expire after {@link Builder#leaseTtl lease TTL}; null with {@code shareBudgets(false)}. A
   * budget whose limit is above {@value #MAX_BUDGET_UNITS} units is refused when the pool is built
   * (it could not be counted exactly).
   */
  @Override
  public SharedBudgets budgets() {
    return shareBudgets ? budgets : null;
  }

  /**
   * A future that completes when a lease round begun after this call (expired leases given back,
   * leases asked for by every window below its low-water mark whose retry time has come) has been
   * answered and applied; at once while Redis is down. For tests; use a timeout.
   *
   * @return the future
   */
  public CompletableFuture<Void> nextLeaseRound() {
    CompletableFuture<Void> f = new CompletableFuture<>();
    execute(() -> {
      leaseWaiting.add(f);
      leaseRound();
    });
    return f;
  }

  /** Whether the last command failed (Redis down, stalled or unreachable) and no read has succeeded since. */
  public boolean isDown() {
    return down;
  }

  /** Successful full reads so far. */
  public long resyncCount() {
    return resyncs.get();
  }

  /** Affinity entries dropped because more than {@value #MAX_PENDING_AFFINITY} waited to be written. */
  public long droppedAffinityEntries() {
    return droppedAffinity.get();
  }

  /** Values read from Redis or received that could not be decoded (written by something else). */
  public long malformedValues() {
    return malformed.get();
  }

  /** Closes the connections and the thread; publishing afterwards is ignored. Idempotent. */
  @Override
  public void close() {
    if (closed) {
      return;
    }
    lines.values().forEach(pl -> {
      pl.lines.forEach(l -> l.closed = true);
      pl.budgetLines.forEach(l -> l.closed = true);
    });
    try {
      nextLeaseRound().get(commandTimeout.toMillis() + 1_000, TimeUnit.MILLISECONDS); // held units go back
    } catch (ExecutionException | java.util.concurrent.TimeoutException e) {
      log.debug("llmpool redis: leases not given back on close: {}", e.getClass().getSimpleName());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    closed = true;
    CompletableFuture<Void> done = new CompletableFuture<>();
    try {
      executor.execute(() -> {
        closeConnections();
        done.complete(null);
      });
      done.get(5, TimeUnit.SECONDS);
    } catch (RejectedExecutionException | ExecutionException | java.util.concurrent.TimeoutException e) {
      log.debug("llmpool redis: close did not finish cleanly: {}", e.getClass().getSimpleName());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    executor.shutdownNow();
    client.shutdown(Duration.ZERO, Duration.ofSeconds(2));
    if (ownResources) {
      resources.shutdown(0, 2, TimeUnit.SECONDS);
    }
  }

  private void closeConnections() {
    if (pubsub != null) {
      pubsub.closeAsync();
    }
    if (conn != null) {
      conn.closeAsync();
    }
    for (CompletableFuture<Void> f : waiting) {
      f.completeExceptionally(new IllegalStateException("RedisSharedState is closed"));
    }
    waiting.clear();
    leaseWaiting.forEach(f -> f.complete(null));
    leaseWaiting.clear();
  }

  /** {@code RedisSharedState{redis://host:port, prefix=llmpool:}}: never a password. */
  @Override
  public String toString() {
    return "RedisSharedState{" + (uri.isSsl() ? "rediss://" : "redis://") + where + ", prefix=" + prefix + "}";
  }

  // ------------------------------------------------------------------ one joined pool

  /** A joined pool: its keys, what waits to be written, what it knows (the last two by the executor). */
  private final class Member implements Publisher {
    final String pool;
    final Receiver receiver;
    final String id;
    final String evictionsKey;
    final String quotaKey;
    final String affinityKey;
    final String affinityExpiryKey;
    final String channel;
    final ConcurrentHashMap<String, SharedEviction> pendingEvictions = new ConcurrentHashMap<>();
    final ConcurrentHashMap<String, SharedQuota.Window> pendingQuota = new ConcurrentHashMap<>();
    final ConcurrentHashMap<String, SharedAffinity> pendingAffinity = new ConcurrentHashMap<>();
    /** Dispatches against header windows since the last batch, per provider or group (never removed: a few). */
    final ConcurrentHashMap<String, Dispatched> pendingDispatch = new ConcurrentHashMap<>();
    /** The same for quota groups, by group name. */
    final ConcurrentHashMap<String, Dispatched> pendingGroupDispatch = new ConcurrentHashMap<>();
    /** The wall time of the last batch of dispatches (executor only). */
    long dispatchedSince = -1;
    // Executor only.
    /** Whether this pool was told the store is down (and not yet that it is up again). */
    boolean toldDown;
    final Map<String, SharedEviction> knownEvictions = new HashMap<>();
    final Map<String, String> knownQuota = new HashMap<>();
    final Map<String, SharedQuota.Window> ownQuota = new HashMap<>();
    boolean affinitySynced;
    /**
     * Whether Redis confirmed this pool's channel subscription. The affinity hash is read once, but
     * a read made before the subscription took effect may miss a binding published in between (its
     * message reached no subscriber here): such a read does not count as the sync, and the next
     * resync reads the hash again.
     */
    boolean subscribed;

    Member(String pool, Receiver receiver, String id) {
      this.pool = pool;
      this.receiver = receiver;
      this.id = id;
      String base = prefix + "{" + pool + "}:";
      this.evictionsKey = base + "evictions";
      this.quotaKey = base + "quota";
      this.affinityKey = base + "affinity";
      this.affinityExpiryKey = base + "affinity:expiry";
      this.channel = base + "bus";
    }

    @Override
    public void publish(SharedEviction e) {
      if (!closed) {
        pendingEvictions.merge(e.provider(), e, RedisSharedState::later);
      }
    }

    @Override
    public void publishQuota(SharedQuota q) {
      if (closed || !shareQuota) {
        return;
      }
      if (q.requests() != null) {
        pendingQuota.put(Wire.quotaField(true, q), q.requests());
      }
      if (q.tokens() != null) {
        pendingQuota.put(Wire.quotaField(false, q), q.tokens());
      }
    }

    @Override
    public void publishDispatched(String scope, boolean group, long requests, long tokens) {
      if (closed || !shareQuota) {
        return;
      }
      ConcurrentHashMap<String, Dispatched> map = group ? pendingGroupDispatch : pendingDispatch;
      Dispatched d = map.get(scope); // no allocation once the counter exists
      if (d == null) {
        d = map.computeIfAbsent(scope, k -> new Dispatched(scope, group));
      }
      if (requests != 0) {
        d.requests.add(requests);
      }
      if (tokens != 0) {
        d.tokens.add(tokens);
      }
    }

    @Override
    public void publishAffinity(SharedAffinity a) {
      if (closed || !shareAffinity) {
        return;
      }
      if (pendingAffinity.size() >= MAX_PENDING_AFFINITY && !pendingAffinity.containsKey(a.key())) {
        droppedAffinity.incrementAndGet();
        return;
      }
      pendingAffinity.put(a.key(), a);
    }

    @Override
    public String toString() {
      return "RedisSharedState.Publisher[pool " + pool + "]";
    }
  }

  /** One provider's or group's dispatch counters (added on the dispatching threads, sent in batches). */
  private static final class Dispatched {
    final String scope;
    final boolean group;
    final java.util.concurrent.atomic.LongAdder requests = new java.util.concurrent.atomic.LongAdder();
    final java.util.concurrent.atomic.LongAdder tokens = new java.util.concurrent.atomic.LongAdder();

    Dispatched(String scope, boolean group) {
      this.scope = scope;
      this.group = group;
    }
  }

  private static SharedEviction later(SharedEviction a, SharedEviction b) {
    return b.deadlineEpochMillis() > a.deadlineEpochMillis() ? b : a;
  }

  // ------------------------------------------------------------------ the executor's work

  private void execute(Runnable r) {
    try {
      executor.execute(r);
    } catch (RejectedExecutionException closing) {
      // closed: nothing more to do
    }
  }

  private void safeFlush() {
    try {
      flush();
    } catch (RuntimeException e) {
      log.debug("llmpool redis: flush failed: {}", e.getClass().getName());
    }
    try {
      leaseRound();
    } catch (RuntimeException e) {
      log.debug("llmpool redis: lease round failed: {}", e.getClass().getName());
    }
  }

  private void safeResync() {
    try {
      resync();
    } catch (RuntimeException e) {
      log.debug("llmpool redis: resync failed: {}", e.getClass().getName());
    }
  }

  /** Subscribes to the channels of {@code ms}; each is marked {@link Member#subscribed} once Redis confirms (executor only). */
  private void subscribe(StatefulRedisPubSubConnection<String, String> c, List<Member> ms) {
    String[] channels = ms.stream().map(m -> m.channel).distinct().toArray(String[]::new);
    c.async().subscribe(channels).whenComplete((v, e) -> {
      if (e == null) {
        execute(() -> ms.forEach(m -> m.subscribed = true));
      }
    });
  }

  /** Opens the command connection (and the subscription) if needed; false while not connected. */
  private boolean connected() {
    if (closed) {
      return false;
    }
    if (pubsub == null && !pubsubConnecting) {
      pubsubConnecting = true;
      client.connectPubSubAsync(StringCodec.UTF8, uri).toCompletableFuture().whenComplete((c, e) -> execute(() -> {
        pubsubConnecting = false;
        if (e != null) {
          return; // the command connection reports the outage
        }
        if (closed) {
          c.closeAsync();
          return;
        }
        pubsub = c;
        c.addListener(new RedisPubSubAdapter<>() {
          @Override
          public void message(String channel, String message) {
            execute(() -> onMessage(channel, message));
          }
        });
        if (!members.isEmpty()) {
          subscribe(c, List.copyOf(members));
        }
      }));
    }
    if (conn != null) {
      return true;
    }
    if (!connecting) {
      connecting = true;
      client.connectAsync(StringCodec.UTF8, uri).toCompletableFuture().whenComplete((c, e) -> execute(() -> {
        connecting = false;
        if (e != null) {
          markDown(e);
          return;
        }
        if (closed) {
          c.closeAsync();
          return;
        }
        c.setAutoFlushCommands(false); // pipelined: this thread flushes once per batch
        conn = c;
        resync();
      }));
    }
    return false;
  }

  /** Writes what the pools published since the last flush: one pipelined batch. */
  private void flush() {
    if (flushInFlight || down || !connected()) {
      return;
    }
    long now = ticker.wallMillis();
    RedisAsyncCommands<String, String> cmd = conn.async();
    List<RedisFuture<?>> futures = new ArrayList<>();
    List<Runnable> undo = new ArrayList<>();
    for (Member m : members) {
      StringBuilder bus = new StringBuilder();
      List<SharedEviction> evictions = drain(m.pendingEvictions);
      List<String> args = new ArrayList<>();
      args.add(Long.toString(now));
      for (SharedEviction e : evictions) {
        if (e.deadlineEpochMillis() <= now) {
          continue;
        }
        m.knownEvictions.merge(e.provider(), e, RedisSharedState::later);
        args.add(Wire.enc(e.provider()));
        args.add(Long.toString(e.deadlineEpochMillis()));
        args.add(Wire.evictionValue(e));
        line(bus, "E", m.id, Wire.enc(e.provider()), e.deadlineEpochMillis() + " " + e.cause().name() + " "
            + (e.serverHint() ? 1 : 0));
        undo.add(() -> m.pendingEvictions.merge(e.provider(), e, RedisSharedState::later));
      }
      if (args.size() > 1) {
        futures.add(cmd.eval(Scripts.EVICTIONS, ScriptOutputType.INTEGER, new String[] {m.evictionsKey},
            args.toArray(String[]::new)));
      }
      Map<String, SharedQuota.Window> quota = drainMap(m.pendingQuota);
      if (!quota.isEmpty()) {
        List<String> q = new ArrayList<>();
        q.add(Long.toString(now));
        q.add(Long.toString(QUOTA_TTL_MILLIS));
        quota.forEach((field, w) -> {
          m.ownQuota.put(field, w);
          m.knownQuota.put(field, Wire.windowValue(w));
          q.add(field);
          q.add(Long.toString(w.limit()));
          q.add(Long.toString(w.remaining()));
          q.add(Long.toString(w.resetEpochMillis()));
          q.add(Long.toString(w.seenEpochMillis()));
          q.add(w.dated() ? "1" : "0");
          line(bus, "Q", m.id, field, Wire.windowValue(w).replace('|', ' '));
          undo.add(() -> m.pendingQuota.putIfAbsent(field, w));
        });
        futures.add(cmd.eval(Scripts.QUOTA, ScriptOutputType.INTEGER, new String[] {m.quotaKey},
            q.toArray(String[]::new)));
      }
      Map<String, SharedAffinity> affinity = drainMap(m.pendingAffinity);
      if (!affinity.isEmpty()) {
        List<String> a = new ArrayList<>();
        a.add(Long.toString(now));
        affinity.forEach((key, entry) -> {
          if (entry.expiresEpochMillis() <= now) {
            return;
          }
          a.add(Wire.enc(key));
          a.add(Wire.affinityValue(entry));
          a.add(Long.toString(entry.expiresEpochMillis()));
          line(bus, "A", m.id, Wire.enc(key), Wire.enc(entry.provider()) + " " + entry.expiresEpochMillis());
          undo.add(() -> m.pendingAffinity.putIfAbsent(key, entry));
        });
        if (a.size() > 1) {
          futures.add(cmd.eval(Scripts.AFFINITY, ScriptOutputType.INTEGER,
              new String[] {m.affinityKey, m.affinityExpiryKey}, a.toArray(String[]::new)));
        }
      }
      long since = m.dispatchedSince < 0 ? now : Math.min(now, m.dispatchedSince);
      m.dispatchedSince = now;
      // Counts older than a second (Redis was down meanwhile) are dropped: headers since then count them.
      boolean stale = now - since > Math.max(1_000, 10 * publishInterval.toMillis());
      for (ConcurrentHashMap<String, Dispatched> map : List.of(m.pendingDispatch, m.pendingGroupDispatch)) {
        for (Dispatched d : map.values()) {
          long r = d.requests.sumThenReset();
          long t = d.tokens.sumThenReset();
          if (!stale && (r != 0 || t != 0)) { // only on the channel: a count the next header makes moot needs no storing
            line(bus, "D", m.id, Wire.dispatchField(d.scope, d.group), r + " " + t + " " + since + " " + now);
          }
        }
      }
      if (bus.length() > 0) {
        futures.add(cmd.publish(m.channel, bus.toString()));
      }
    }
    if (futures.isEmpty()) {
      return;
    }
    flushInFlight = true;
    conn.flushCommands();
    CompletableFuture.allOf(futures.stream().map(RedisFuture::toCompletableFuture).toArray(CompletableFuture[]::new))
        .whenComplete((v, e) -> execute(() -> {
          flushInFlight = false;
          if (e != null) {
            undo.forEach(Runnable::run); // written when Redis is back
            markDown(e);
          }
        }));
  }

  private static void line(StringBuilder bus, String type, String origin, String name, String rest) {
    if (bus.length() > 0) {
      bus.append('\n');
    }
    bus.append(type).append(' ').append(origin).append(' ').append(name).append(' ').append(rest);
  }

  private static <V> List<V> drain(ConcurrentHashMap<String, V> map) {
    List<V> out = new ArrayList<>();
    for (String k : map.keySet()) {
      V v = map.remove(k);
      if (v != null) {
        out.add(v);
      }
    }
    return out;
  }

  private static <V> Map<String, V> drainMap(ConcurrentHashMap<String, V> map) {
    Map<String, V> out = new HashMap<>();
    for (String k : map.keySet()) {
      V v = map.remove(k);
      if (v != null) {
        out.put(k, v);
      }
    }
    return out;
  }

  /** Reads every joined pool's hashes (after writing what is pending) and applies them. */
  private void resync() {
    if (resyncInFlight || !connected()) {
      return;
    }
    if (!down) {
      flush(); // writes first: on one connection they are answered before the reads below
    }
    List<Member> ms = List.copyOf(members);
    RedisAsyncCommands<String, String> cmd = conn.async();
    List<CompletableFuture<Map<String, String>>> evictions = new ArrayList<>();
    List<CompletableFuture<Map<String, String>>> quotas = new ArrayList<>();
    List<CompletableFuture<Map<String, String>>> affinities = new ArrayList<>();
    boolean[] subscribedAtRead = new boolean[ms.size()];
    CompletableFuture<Map<String, String>> none = CompletableFuture.completedFuture(Map.of());
    for (int i = 0; i < ms.size(); i++) {
      Member m = ms.get(i);
      subscribedAtRead[i] = m.subscribed;
      evictions.add(cmd.hgetall(m.evictionsKey).toCompletableFuture());
      quotas.add(shareQuota ? cmd.hgetall(m.quotaKey).toCompletableFuture() : none);
      affinities.add(shareAffinity && !m.affinitySynced ? cmd.hgetall(m.affinityKey).toCompletableFuture() : none);
    }
    if (ms.isEmpty()) {
      evictions.add(cmd.ping().toCompletableFuture().thenApply(pong -> Map.of())); // a liveness check alone
    }
    resyncInFlight = true;
    List<CompletableFuture<Void>> round = waiting;
    waiting = new ArrayList<>();
    conn.flushCommands();
    List<CompletableFuture<?>> all = new ArrayList<>(evictions);
    all.addAll(quotas);
    all.addAll(affinities);
    CompletableFuture.allOf(all.toArray(CompletableFuture[]::new)).whenComplete((v, e) -> execute(() -> {
      resyncInFlight = false;
      if (e != null) {
        waiting.addAll(round); // they wait for Redis to come back
        markDown(e);
        return;
      }
      long now = ticker.wallMillis();
      for (int i = 0; i < ms.size(); i++) {
        Member m = ms.get(i);
        applyEvictions(m, evictions.get(i).join(), now);
        applyQuota(m, quotas.get(i).join(), now);
        if (shareAffinity && !m.affinitySynced) {
          applyAffinity(m, affinities.get(i).join(), now);
          m.affinitySynced = subscribedAtRead[i]; // read before the subscription took effect: read again
        }
      }
      resyncs.incrementAndGet();
      markUp();
      round.forEach(f -> f.complete(null));
    }));
  }

  private void applyEvictions(Member m, Map<String, String> stored, long now) {
    Map<String, Long> inRedis = new HashMap<>();
    stored.forEach((field, value) -> {
      String provider = Wire.dec(field);
      SharedEviction e = Wire.eviction(m.pool, provider, value);
      if (e == null) {
        malformed.incrementAndGet();
        return;
      }
      inRedis.put(provider, e.deadlineEpochMillis());
      receiveEviction(m, e, now);
    });
    // What this instance knows is in force but Redis lost (a restart, a FLUSHALL): written back.
    m.knownEvictions.values().removeIf(e -> e.deadlineEpochMillis() <= now);
    for (SharedEviction e : m.knownEvictions.values()) {
      Long d = inRedis.get(e.provider());
      if (d == null || d < e.deadlineEpochMillis()) {
        m.pendingEvictions.merge(e.provider(), e, RedisSharedState::later);
      }
    }
  }

  private void receiveEviction(Member m, SharedEviction e, long now) {
    SharedEviction known = m.knownEvictions.get(e.provider());
    if (e.deadlineEpochMillis() <= now || (known != null && known.deadlineEpochMillis() >= e.deadlineEpochMillis())) {
      return; // past, or nothing new: the pool already has it
    }
    m.knownEvictions.put(e.provider(), e);
    deliver(m, () -> m.receiver.onEviction(e));
  }

  private void applyQuota(Member m, Map<String, String> stored, long now) {
    stored.forEach((field, value) -> receiveQuota(m, field, value));
    m.ownQuota.values().removeIf(w -> now - w.seenEpochMillis() > QUOTA_TTL_MILLIS);
    m.ownQuota.forEach((field, w) -> {
      if (!stored.containsKey(field)) {
        m.pendingQuota.putIfAbsent(field, w); // lost by Redis: written back
      }
    });
  }

  private void receiveQuota(Member m, String field, String value) {
    if (value.equals(m.knownQuota.get(field))) {
      return;
    }
    SharedQuota q = Wire.quota(m.pool, field, value);
    if (q == null) {
      malformed.incrementAndGet();
      return;
    }
    m.knownQuota.put(field, value);
    deliver(m, () -> m.receiver.onQuota(q));
  }

  private void applyAffinity(Member m, Map<String, String> stored, long now) {
    stored.forEach((field, value) -> {
      SharedAffinity a = Wire.affinity(m.pool, field, value);
      if (a == null) {
        malformed.incrementAndGet();
      } else if (a.expiresEpochMillis() > now) {
        deliver(m, () -> m.receiver.onAffinity(a));
      }
    });
  }

  /** A pub/sub message: one line per value; a member's own lines are skipped. */
  private void onMessage(String channel, String message) {
    long now = ticker.wallMillis();
    if (message.startsWith("B ") || message.contains("\nB ")) {
      for (String line : message.split("\n")) {
        if (line.startsWith("B ")) {
          onBudgetNotice(channel, line.split(" "));
        }
      }
    }
    for (Member m : members) {
      if (!m.channel.equals(channel)) {
        continue;
      }
      for (String line : message.split("\n")) {
        String[] f = line.split(" ");
        if (f.length < 3 || f[1].equals(m.id)) {
          continue;
        }
        try {
          switch (f[0]) {
            case "E" -> {
              SharedEviction e = Wire.eviction(m.pool, Wire.dec(f[2]), f[3] + "|" + f[4] + "|" + f[5]);
              if (e == null) {
                malformed.incrementAndGet();
              } else {
                receiveEviction(m, e, now);
              }
            }
            case "Q" -> {
              if (shareQuota) {
                receiveQuota(m, f[2], f[3] + "|" + f[4] + "|" + f[5] + "|" + f[6] + (f.length > 7 ? "|" + f[7] : ""));
              }
            }
            case "A" -> {
              if (shareAffinity) {
                SharedAffinity a = Wire.affinity(m.pool, f[2], f[3] + "|" + f[4]);
                if (a == null) {
                  malformed.incrementAndGet();
                } else if (a.expiresEpochMillis() > now) {
                  deliver(m, () -> m.receiver.onAffinity(a));
                }
              }
            }
            case "D" -> {
              if (shareQuota) {
                boolean group = f[2].startsWith("g:");
                if (!group && !f[2].startsWith("p:")) {
                  malformed.incrementAndGet();
                } else {
                  SharedDispatch d = SharedDispatch.of(m.pool, Wire.dec(f[2].substring(2)), group,
                      Long.parseLong(f[3]), Long.parseLong(f[4]), Long.parseLong(f[5]), Long.parseLong(f[6]));
                  deliver(m, () -> m.receiver.onDispatched(d));
                }
              }
            }
            case "B" -> {
              // a budget notice: handled once per message above, not per pool member
            }
            default -> malformed.incrementAndGet();
          }
        } catch (ArrayIndexOutOfBoundsException | IllegalArgumentException bad) {
          malformed.incrementAndGet();
        }
      }
    }
  }

  private void deliver(Member m, Runnable r) {
    try {
      r.run();
    } catch (RuntimeException e) {
      log.debug("llmpool redis: pool {} refused a shared value: {}", m.pool, e.getClass().getName());
    }
  }

  private void markDown(Throwable e) {
    if (closed) {
      return;
    }
    String reason = reason(e);
    if (!down) {
      down = true;
      downReason = reason;
      log.debug("llmpool redis: {} (the pools log it)", reason);
      eachLine(l -> l.holder.storeDown()); // first: a pool told "down" already decides locally
      eachBudgetLine(l -> l.holder.storeDown());
      for (Member m : members) {
        m.affinitySynced = false;
        if (!m.toldDown) {
          m.toldDown = true;
          deliver(m, () -> m.receiver.onSharedStateDown(reason));
        }
      }
      leaseWaiting.forEach(f -> f.complete(null));
      leaseWaiting.clear();
    }
  }

  private void markUp() {
    if (down) {
      down = false;
      eachLine(l -> l.holder.storeUp()); // first: a pool told "up" is back on leases
      eachBudgetLine(l -> l.holder.storeUp());
      for (Member m : members) {
        if (m.toldDown) {
          m.toldDown = false;
          deliver(m, m.receiver::onSharedStateUp);
        }
      }
      flush(); // what waited, and what Redis lost, now
      leaseRound();
    }
  }

  /** What failed, by exception class and Redis error code, with host and port: never the URI or a password. */
  String reason(Throwable e) {
    Throwable t = e;
    while ((t instanceof CompletionException || t instanceof ExecutionException) && t.getCause() != null) {
      t = t.getCause();
    }
    String what;
    if (t instanceof RedisCommandTimeoutException) {
      what = "no answer within " + commandTimeout.toMillis() + " ms";
    } else if (t instanceof RedisCommandExecutionException) {
      String msg = t.getMessage() == null ? "" : t.getMessage();
      int sp = msg.indexOf(' ');
      String code = sp > 0 ? msg.substring(0, sp) : msg;
      what = "Redis error " + (code.matches("[A-Z]{2,20}") ? code : "(not shown)");
    } else if (t instanceof RedisConnectionException) {
      Throwable c = t;
      while (c.getCause() != null && c.getCause() != c) {
        c = c.getCause();
      }
      what = "cannot connect" + (c != t ? " (" + c.getClass().getSimpleName() + ")" : "");
    } else if (t != null && t.getMessage() != null && t.getMessage().contains("not connected")) {
      what = "not connected";
    } else {
      what = t == null ? "unknown" : t.getClass().getSimpleName();
    }
    return what + " to " + where;
  }

  private static String where(RedisURI u) {
    if (u.getSocket() != null) {
      return "unix socket";
    }
    if (u.getSentinels() != null && !u.getSentinels().isEmpty()) {
      return "sentinel master " + u.getSentinelMasterId();
    }
    return u.getHost() + ":" + u.getPort();
  }

  // ------------------------------------------------------------------ configured limits: leases

  /** The {@link SharedLimits} of this shared state: opens lines, grouped by pool. */
  private final class Limits implements SharedLimits {
    @Override
    public Line open(SharedLimit limit, Holder holder) {
      Objects.requireNonNull(limit, "limit");
      Objects.requireNonNull(holder, "holder");
      if (closed) {
        throw new IllegalStateException("RedisSharedState is closed");
      }
      PoolLines pl = lines.computeIfAbsent(limit.pool(), PoolLines::new);
      LineImpl l = new LineImpl(limit, holder, Math.max(1, (long) Math.floor(limit.perMinute() * leaseShare)));
      pl.lines.add(l);
      if (down) {
        holder.storeDown();
      }
      l.wake(); // the first lease, at once
      return l;
    }

    @Override
    public String toString() {
      return "RedisSharedState.limits[" + where + "]";
    }
  }

  /** One pool's windows: its keys and the lines open on them. */
  private final class PoolLines {
    final String base;
    final String limitsKey;
    final String holdersKey;
    final List<LineImpl> lines = new CopyOnWriteArrayList<>();
    final List<BudgetLine> budgetLines = new CopyOnWriteArrayList<>();

    PoolLines(String pool) {
      this.base = prefix + "{" + pool + "}:";
      this.limitsKey = base + "limits";
      this.holdersKey = base + "holders";
    }
  }

  // ------------------------------------------------------------------ budgets: leases

  /** The {@link SharedBudgets} of this shared state: opens budget lines, grouped by pool. */
  private final class Budgets implements SharedBudgets {
    @Override
    public Line open(SharedBudget budget, Holder holder) {
      Objects.requireNonNull(budget, "budget");
      Objects.requireNonNull(holder, "holder");
      if (closed) {
        throw new IllegalStateException("RedisSharedState is closed");
      }
      if (budget.limitUnits() > MAX_BUDGET_UNITS) {
        throw new IllegalArgumentException("budget '" + budget.name() + "' of " + budget.budget().describeLimit()
            + " is too large to share through Redis: a shared budget counts at most " + MAX_BUDGET_UNITS
            + " units (10^-9 of its currency, or tokens)");
      }
      PoolLines pl = lines.computeIfAbsent(budget.pool(), PoolLines::new);
      BudgetLine l = new BudgetLine(budget, holder, pl,
          Math.max(1, (long) Math.floor(budget.limitUnits() * budgetLeaseShare)));
      pl.budgetLines.add(l);
      if (down) {
        holder.storeDown();
      }
      return l; // the holder wakes it for the first lease
    }

    @Override
    public String toString() {
      return "RedisSharedState.budgets[" + where + "]";
    }
  }

  /** One budget of one pool as this instance holds it. */
  private final class BudgetLine implements SharedBudgets.Line {
    final SharedBudget budget;
    final SharedBudgets.Holder holder;
    final PoolLines pool;
    final long lease;
    final long lowWater;
    /** This pool instance's field in the window's hash ({@code s:<id>}): one per line, so two pools of one name differ. */
    final String id;
    volatile boolean closed;
    // Executor only.
    final Deque<long[]> leases = new ArrayDeque<>(); // [window start, expires epoch ms, units], oldest first
    long retryAt;
    /** The window {@link #retryAt} holds back (a short answer says nothing of the next window). */
    long retryWindow;
    long reportedAt;
    /** What other instances said they lack (a notice or this line's last answer): give spare units back. */
    long othersWanted;
    /** What the window's hash holds as this instance's spare units (its last report, less what the grant covered). */
    long reportedSpare;
    /** What the window's hash holds as what this instance lacks (its last report, less what the grant covered). */
    long reportedShort;
    /** The window's call count ({@code n}) of the newest answer or notice applied: older notices are ignored. */
    long lastSeq;
    /** The window of this line's last answer (a notice updates a holder's view only after one), and its figures. */
    long answeredWindow = Long.MIN_VALUE;
    long lastFleetSettled;
    int lastFleet = 1;
    /** The view of the newest notice applied ({@link #lastSeq}): what the window had left, what the others lack and spare. */
    long viewLeft;
    long viewOthersWanted;
    long viewOthersSpare;
    /** Units others gave back and Redis earmarked for this line (a notice said so), until a call of a later {@code n} collects them. */
    long pendingHandover;
    long pendingSeq;

    BudgetLine(SharedBudget budget, SharedBudgets.Holder holder, PoolLines pool, long lease) {
      this.budget = budget;
      this.holder = holder;
      this.pool = pool;
      this.lease = lease;
      this.lowWater = Math.max(1, (lease + 1) / 2);
      this.id = instanceId + "." + Long.toString(ids.incrementAndGet(), 36);
    }

    @Override
    public long leaseSize() {
      return lease;
    }

    @Override
    public long lowWater() {
      return lowWater;
    }

    @Override
    public void wake() {
      if (leaseRoundQueued.compareAndSet(false, true)) {
        execute(() -> {
          leaseRoundQueued.set(false);
          leaseRound();
        });
      }
    }

    @Override
    public void close() {
      closed = true;
      wake();
    }

    @Override
    public String toString() {
      return "RedisSharedState.BudgetLine[" + budget + ", lease " + lease + "]";
    }
  }

  private void eachBudgetLine(java.util.function.Consumer<BudgetLine> action) {
    for (PoolLines pl : lines.values()) {
      for (BudgetLine l : pl.budgetLines) {
        try {
          action.accept(l);
        } catch (RuntimeException e) {
          log.debug("llmpool redis: a pool refused a budget notice: {}", e.getClass().getName());
        }
      }
    }
  }

  /**
   * The budget part of a lease round for one pool (executor thread): one {@code EVAL} of
   * {@link Scripts#BUDGET_LEASE} carrying every budget that gives units of expired leases back,
   * wants units (retry time come), or was last reported a resync interval ago (its settled spend
   * out, the fleet's and what the window has left back). Returns null when no budget needs the
   * round.
   */
  private BudgetAsk budgetAsk(PoolLines pl, long now) {
    List<String> keys = new ArrayList<>();
    List<String> args = new ArrayList<>();
    List<BudgetLine> inRound = new ArrayList<>();
    List<long[]> entries = new ArrayList<>(); // [window start, want, settled, must, spare, given back]
    for (BudgetLine l : pl.budgetLines) {
      long start = l.holder.windowStartMillis();
      long end = l.budget.budget().windowEnd(Instant.ofEpochMilli(start)).toEpochMilli();
      long give = 0;
      long want = 0;
      long asked = 0;
      if (l.closed) {
        give = l.holder.reclaim(start, 0);
        l.leases.clear();
        pl.budgetLines.remove(l);
      } else {
        l.leases.removeIf(x -> x[0] != start); // leases of a window the holder has left died with it
        while (!l.leases.isEmpty() && l.leases.peekFirst()[1] <= now) {
          l.leases.pollFirst();
          long keep = 0;
          for (long[] x : l.leases) {
            keep += x[2];
          }
          give += l.holder.reclaim(start, keep);
        }
        asked = l.othersWanted;
        l.othersWanted = 0;
        if (asked > 0) {
          // Others are short: units this instance holds above its own waiting requests' need go back to
          // the window, which earmarks them for the short instances (the oldest lease records shrink first).
          long back = l.holder.giveBack(start, asked);
          if (back > 0) {
            give += back;
            for (java.util.Iterator<long[]> it = l.leases.iterator(); it.hasNext() && back > 0; ) {
              long[] x = it.next();
              long cut = Math.min(back, x[2]);
              x[2] -= cut;
              back -= cut;
              if (x[2] == 0) {
                it.remove();
              }
            }
          }
        }
        // Requests waiting here for units ask at every wake (bounded: they wait 60 ms at most), not at
        // the retry time of a short answer: units may come back from other instances meanwhile.
        if (end > now && (now >= l.retryAt || start != l.retryWindow || l.holder.lacking() > 0)) {
          want = l.holder.want();
          if (l.holder.windowStartMillis() != start) {
            want = 0; // the holder rolled to the next window meanwhile: ask for that one next round, not this
            l.wake();
          }
        }
      }
      long settled = l.holder.settled();
      long lacking = l.closed ? 0 : l.holder.lacking();
      long spare = l.closed ? 0 : l.holder.spare();
      // What it must have: what its waiting requests lack (a debt included), else its debt: the window is charged for it.
      long must = l.closed ? 0 : lacking > 0 ? lacking : Math.max(0, -l.holder.held());
      // Once per resync interval, with or without news: this instance's spend out, the fleet's back.
      boolean report = end > now && now - l.reportedAt >= resyncInterval.toMillis();
      // Told others are short: say what this instance can spare now (its last report may be out of date).
      boolean correct = end > now && !l.closed && (asked > 0 || l.viewOthersWanted > 0) && spare != l.reportedSpare;
      boolean collect = end > now && !l.closed && l.pendingHandover > 0; // units earmarked for this instance
      if (want <= 0 && give <= 0 && !report && !correct && !collect) {
        continue;
      }
      keys.add(Wire.budgetKey(pl.base, l.budget.name(), start));
      args.add(l.id);
      args.add(Long.toString(l.budget.limitUnits()));
      args.add(Long.toString(Math.max(0, want)));
      args.add(Long.toString(Math.max(0, give)));
      args.add(Long.toString(Math.max(0, settled)));
      args.add(Long.toString(Math.max(0, end - now) + BUDGET_TTL_SLACK_MILLIS));
      args.add(Long.toString(Math.max(0, must)));
      args.add(Long.toString(Math.max(0, spare)));
      inRound.add(l);
      entries.add(new long[] {start, want, settled, must, spare, give});
    }
    if (inRound.isEmpty()) {
      return null;
    }
    List<String> head = List.of(Long.toString(now), pl.base + "bus", Long.toString(BUDGET_DEMAND_FRESH_MILLIS),
        Long.toString(3 * resyncInterval.toMillis()));
    args.addAll(0, head);
    return new BudgetAsk(keys.toArray(String[]::new), args.toArray(String[]::new), inRound, entries);
  }

  /** One pool's budget {@code EVAL}: its keys and arguments, and what each entry asked. */
  private record BudgetAsk(String[] keys, String[] args, List<BudgetLine> lines, List<long[]> entries) {}

  private void applyBudgetGrants(List<Object> reply, BudgetAsk ask, long now) {
    if (reply == null || reply.size() != 7 * ask.lines().size()) {
      malformed.incrementAndGet();
      return;
    }
    for (int j = 0; j < ask.lines().size(); j++) {
      BudgetLine l = ask.lines().get(j);
      long[] e = ask.entries().get(j);
      long granted = Math.max(0, asLong(reply.get(7 * j)));
      long left = Math.max(0, asLong(reply.get(7 * j + 1)));
      long spent = Math.max(0, asLong(reply.get(7 * j + 2)));
      int fleet = (int) Math.max(1, Math.min(Integer.MAX_VALUE, asLong(reply.get(7 * j + 3))));
      long othersWanted = Math.max(0, asLong(reply.get(7 * j + 4)));
      long othersSpare = Math.max(0, asLong(reply.get(7 * j + 5)));
      long seq = asLong(reply.get(7 * j + 6));
      l.reportedAt = now;
      l.reportedSpare = e[4] + Math.max(0, granted - e[3]);
      l.reportedShort = Math.max(0, e[3] - granted);
      if (l.answeredWindow == e[0] && seq > l.pendingSeq) {
        l.pendingHandover = 0; // collected by this call (the units granted include them)
      }
      if (l.answeredWindow == e[0] && seq < l.lastSeq) {
        // A notice of a later call arrived first (pub/sub and commands are two connections): its view
        // of the window is the newer one (it counts this grant already); the grant's units still count.
        left = l.viewLeft;
        othersWanted = l.viewOthersWanted;
        othersSpare = l.viewOthersSpare;
      }
      l.viewOthersWanted = othersWanted;
      if (l.answeredWindow != e[0]) {
        l.lastSeq = 0; // a new window's key counts from 1
      }
      l.lastSeq = Math.max(l.lastSeq, seq);
      l.answeredWindow = e[0];
      l.lastFleetSettled = spent;
      l.lastFleet = fleet;
      left += l.pendingHandover; // units on their way to this instance (earmarked for it, not yet collected)
      if (l.closed) {
        if (granted > 0) {
          l.leases.clear(); // closed meanwhile: the next round gives it all back
        }
        continue;
      }
      // Short of what was asked: the window has too little; units come back only as leases expire.
      // (Not for a window the holder has left: it asks for its new one at once.)
      boolean moved = e[0] != l.holder.windowStartMillis();
      l.retryAt = granted < e[1] && !moved ? now + resyncInterval.toMillis() : now;
      l.retryWindow = e[0];
      if (moved) {
        l.wake();
      }
      if (granted > 0) {
        l.leases.addLast(new long[] {e[0], now + leaseTtlMillis, granted});
      }
      try {
        l.holder.granted(SharedBudgets.Grant.of(e[0], granted, left, spent, fleet, othersWanted, othersSpare));
      } catch (RuntimeException ex) {
        log.debug("llmpool redis: a pool refused a budget lease: {}", ex.getClass().getName());
      }
      // Others are short and this instance holds spare units: the next round gives them back (not when this
      // round gave already: the answer cannot show yet whether that was enough).
      if (othersWanted > 0 && e[5] == 0 && !moved && l.holder.spare() > 0) {
        l.othersWanted = othersWanted;
        l.wake();
      }
    }
  }

  /**
   * A budget notice on a pool's channel (executor thread), published by another instance's lease
   * request when units came back to the window, an instance is short, or it holds more spare units
   * than the window has left: {@code B <line id> <key> <n> <units left> <lacking> <spare>
   * [<line id>:<units>,...]}, lacking and spare for the whole fleet, then the units it earmarked for
   * short instances (the named line collects them with its next call). Every other line of that window
   * takes it as a fresh view (no grant: what the window has left, what the others lack and hold spare,
   * so that units given back are seen at once); a line holding spare units while others lack gives
   * them back; a line whose requests wait asks again when the window or the others have units.
   * Notices older than the line's newest answer ({@code n}) are ignored.
   */
  private void onBudgetNotice(String channel, String[] f) {
    long seq;
    long left;
    long lacking;
    long spare;
    try {
      seq = Long.parseLong(f[3]);
      left = Long.parseLong(f[4]);
      lacking = Long.parseLong(f[5]);
      spare = Long.parseLong(f[6]);
    } catch (ArrayIndexOutOfBoundsException | NumberFormatException bad) {
      malformed.incrementAndGet();
      return;
    }
    for (PoolLines pl : lines.values()) {
      if (!(pl.base + "bus").equals(channel)) {
        continue;
      }
      for (BudgetLine l : pl.budgetLines) {
        long start = l.holder.windowStartMillis();
        if (l.closed || l.id.equals(f[1]) || l.answeredWindow != start
            || !Wire.budgetKey(pl.base, l.budget.name(), start).equals(f[2]) || seq <= l.lastSeq) {
          continue; // not this window, or not yet answered in it (a view would end its credit), or old news
        }
        l.lastSeq = seq;
        if (f.length > 7) {
          for (String h : f[7].split(",")) {
            int c = h.lastIndexOf(':');
            if (c > 0 && h.substring(0, c).equals(l.id)) {
              try {
                l.pendingHandover += Math.max(0, Long.parseLong(h.substring(c + 1)));
                l.pendingSeq = seq;
              } catch (NumberFormatException bad) {
                malformed.incrementAndGet();
              }
            }
          }
        }
        long othersWanted = Math.max(0, lacking - l.reportedShort);
        long othersSpare = Math.max(0, spare - l.reportedSpare);
        l.viewLeft = Math.max(0, left);
        l.viewOthersWanted = othersWanted;
        l.viewOthersSpare = othersSpare;
        try {
          l.holder.granted(SharedBudgets.Grant.of(start, 0, Math.max(0, left) + l.pendingHandover, l.lastFleetSettled,
              l.lastFleet, othersWanted, othersSpare));
        } catch (RuntimeException ex) {
          log.debug("llmpool redis: a pool refused a budget notice: {}", ex.getClass().getName());
        }
        if (l.pendingHandover > 0) {
          l.wake(); // collect the units earmarked for this instance
        } else if (othersWanted > 0 && (l.holder.spare() > 0 || l.reportedSpare > 0)) {
          l.othersWanted = Math.max(l.othersWanted, othersWanted);
          l.wake(); // give back what this instance can spare, or say it has none
        } else if (l.holder.lacking() > 0 && (left > 0 || othersSpare > 0)) {
          l.wake(); // units came back, or others hold some: ask again
        }
      }
    }
  }

  /** One window of one pool as this instance holds it. */
  private final class LineImpl implements SharedLimits.Line {
    final SharedLimit limit;
    final SharedLimits.Holder holder;
    final String field;
    final long lease;
    final long lowWater;
    volatile boolean closed;
    /** The latest announcement of the provider's headers, [remaining, epoch ms], for the next round. */
    final java.util.concurrent.atomic.AtomicReference<long[]> announced = new java.util.concurrent.atomic.AtomicReference<>();
    // Executor only.
    final Deque<long[]> leases = new ArrayDeque<>(); // [expires epoch ms, units], oldest first
    long retryAt;

    LineImpl(SharedLimit limit, SharedLimits.Holder holder, long lease) {
      this.limit = limit;
      this.holder = holder;
      this.field = Wire.limitField(limit);
      this.lease = lease;
      this.lowWater = Math.max(1, (lease + 1) / 2);
    }

    @Override
    public long leaseSize() {
      return lease;
    }

    @Override
    public long lowWater() {
      return lowWater;
    }

    @Override
    public void wake() {
      if (leaseRoundQueued.compareAndSet(false, true)) {
        execute(() -> {
          leaseRoundQueued.set(false);
          leaseRound();
        });
      }
    }

    @Override
    public void announced(long remaining, long ageNanos) {
      if (closed || remaining < 0 || ageNanos < 0) {
        return;
      }
      long at = ticker.wallMillis() - TimeUnit.NANOSECONDS.toMillis(ageNanos);
      long[] next = {remaining, Math.max(0, at)};
      announced.accumulateAndGet(next, (old, n) -> old == null || n[1] >= old[1] ? n : old);
      // sent with the next round (every publish interval): no round trip per response
    }

    @Override
    public void close() {
      closed = true;
      wake();
    }

    @Override
    public String toString() {
      return "RedisSharedState.Line[" + limit + ", lease " + lease + "]";
    }
  }

  private void eachLine(java.util.function.Consumer<LineImpl> action) {
    for (PoolLines pl : lines.values()) {
      for (LineImpl l : pl.lines) {
        try {
          action.accept(l);
        } catch (RuntimeException e) {
          log.debug("llmpool redis: a pool refused a lease notice: {}", e.getClass().getName());
        }
      }
    }
  }

  /**
   * One lease round (executor thread): per pool, one {@code EVAL} of {@link Scripts#LEASE} carrying
   * every window that gives back units of expired leases or wants a lease (held below its low-water
   * mark, retry time come). Rounds do not overlap; one asked for meanwhile runs after.
   */
  private void leaseRound() {
    if (leaseInFlight) {
      leaseAgain = true;
      return;
    }
    List<CompletableFuture<Void>> round = leaseWaiting;
    leaseWaiting = new ArrayList<>();
    if (down || lines.isEmpty() || !connected()) {
      if (down || lines.isEmpty() || closed) {
        round.forEach(f -> f.complete(null));
      } else {
        leaseWaiting.addAll(round); // connecting: the next round answers them
      }
      return;
    }
    long now = ticker.wallMillis();
    RedisAsyncCommands<String, String> cmd = conn.async();
    List<CompletableFuture<List<Object>>> futures = new ArrayList<>();
    List<List<long[]>> asked = new ArrayList<>(); // per EVAL: [line index, want, give]
    List<List<LineImpl>> askedLines = new ArrayList<>();
    List<CompletableFuture<List<Object>>> budgetFutures = new ArrayList<>();
    List<BudgetAsk> budgetAsks = new ArrayList<>();
    for (PoolLines pl : lines.values()) {
      BudgetAsk ask = budgetAsk(pl, now);
      if (ask != null) {
        budgetFutures.add(cmd.eval(Scripts.BUDGET_LEASE, ScriptOutputType.MULTI, ask.keys(), ask.args())
            .toCompletableFuture().thenApply(r -> (List<Object>) r));
        budgetAsks.add(ask);
      }
      List<String> args = new ArrayList<>();
      args.add(Long.toString(now));
      args.add(instanceId);
      List<long[]> entries = new ArrayList<>();
      List<LineImpl> entryLines = new ArrayList<>();
      for (LineImpl l : pl.lines) {
        long give = 0;
        long want = 0;
        if (l.closed) {
          give = l.holder.reclaim(0);
          l.leases.clear();
          pl.lines.remove(l);
        } else {
          boolean expired = false;
          while (!l.leases.isEmpty() && l.leases.peekFirst()[0] <= now) {
            l.leases.pollFirst();
            expired = true;
          }
          if (expired) {
            // Unused units of expired leases go back only above a full lease (what corrections gave
            // back beyond it); the rest is renewed (a fresh record). Taking every unused unit back and
            // re-leasing in the same round left the holder with nothing for a round trip at each
            // expiry, refusing calls far below the limit (issue 18: "out of quota headroom for 20 ms
            // more"); the re-lease took the same units again anyway, so an idle instance held a
            // lease then as now (within the I x L bound).
            long live = 0;
            for (long[] x : l.leases) {
              live += x[1];
            }
            give += l.holder.reclaim(Math.max(live, l.lease));
            long renewed = Math.min(Math.max(0, l.holder.held()), l.lease) - live;
            if (renewed > 0) {
              l.leases.addLast(new long[] {now + leaseTtlMillis, renewed});
            }
          }
          long held = l.holder.held();
          // Below the low-water mark, or short of what a refused request needs (a token estimate
          // above what is held but not below the mark: nothing else would ask until it expired).
          // A held below zero (the start credit spent before the first grant, a race for the last
          // units, a request above a lease) is a debt: asking lease - held charges it to the window.
          if ((held < l.lowWater || held < Math.min(l.holder.wanted(), l.lease)) && now >= l.retryAt) {
            want = l.lease - held;
          }
        }
        long[] said = l.announced.getAndSet(null);
        if (want <= 0 && give <= 0 && said == null) {
          continue;
        }
        args.add(l.field);
        args.add(Long.toString(l.limit.perMinute()));
        args.add(Long.toString(Math.max(0, want)));
        args.add(Long.toString(Math.max(0, give)));
        args.add(Long.toString(l.lease));
        args.add(said == null ? "-" : said[0] + "@" + said[1]);
        entries.add(new long[] {want, give});
        entryLines.add(l);
      }
      if (entries.isEmpty()) {
        continue;
      }
      futures.add(cmd.eval(Scripts.LEASE, ScriptOutputType.MULTI, new String[] {pl.limitsKey, pl.holdersKey},
          args.toArray(String[]::new)).toCompletableFuture().thenApply(r -> (List<Object>) r));
      asked.add(entries);
      askedLines.add(entryLines);
    }
    if (futures.isEmpty() && budgetFutures.isEmpty()) {
      round.forEach(f -> f.complete(null));
      return;
    }
    leaseInFlight = true;
    conn.flushCommands();
    List<CompletableFuture<List<Object>>> all = new ArrayList<>(futures);
    all.addAll(budgetFutures);
    CompletableFuture.allOf(all.toArray(CompletableFuture[]::new)).whenComplete((v, e) -> execute(() -> {
      leaseInFlight = false;
      if (e != null) {
        markDown(e); // the units given back stay taken in Redis (the safe side); asked again when it is back
      } else {
        for (int i = 0; i < futures.size(); i++) {
          applyGrants(futures.get(i).join(), asked.get(i), askedLines.get(i), now);
        }
        for (int i = 0; i < budgetFutures.size(); i++) {
          applyBudgetGrants(budgetFutures.get(i).join(), budgetAsks.get(i), now);
        }
      }
      round.forEach(f -> f.complete(null));
      if (leaseAgain) {
        leaseAgain = false;
        leaseRound();
      }
    }));
  }

  private void applyGrants(List<Object> reply, List<long[]> entries, List<LineImpl> entryLines, long now) {
    if (reply == null || reply.size() != 1 + 3 * entries.size()) {
      malformed.incrementAndGet();
      return;
    }
    int fleet = (int) Math.max(1, Math.min(Integer.MAX_VALUE, asLong(reply.get(0))));
    for (int j = 0; j < entries.size(); j++) {
      LineImpl l = entryLines.get(j);
      long granted = Math.max(0, asLong(reply.get(1 + 3 * j)));
      long left = Math.max(0, asLong(reply.get(2 + 3 * j)));
      long retry = Math.max(0, asLong(reply.get(3 + 3 * j)));
      if (l.closed) {
        if (granted > 0) {
          l.leases.clear(); // closed meanwhile: the next round gives it all back
        }
        continue;
      }
      l.retryAt = now + retry;
      if (granted > 0) {
        l.leases.addLast(new long[] {now + leaseTtlMillis, granted});
      }
      try {
        l.holder.granted(SharedLimits.Grant.of(granted, left, retry, fleet));
      } catch (RuntimeException ex) {
        log.debug("llmpool redis: a pool refused a lease: {}", ex.getClass().getName());
      }
    }
  }

  private static long asLong(Object o) {
    return o instanceof Number n ? n.longValue() : 0;
  }

  // ------------------------------------------------------------------ builder

  /** Builds a {@link RedisSharedState}. Mutable, not thread-safe. */
  public static final class Builder {
    private RedisURI uri;
    private String prefix = DEFAULT_KEY_PREFIX;
    private Duration publishInterval = DEFAULT_PUBLISH_INTERVAL;
    private Duration resyncInterval = DEFAULT_RESYNC_INTERVAL;
    private Duration commandTimeout = DEFAULT_COMMAND_TIMEOUT;
    private boolean shareQuota = true;
    private boolean shareAffinity = true;
    private boolean shareLimits = true;
    private boolean shareBudgets = true;
    private double leaseShare = DEFAULT_LEASE_SHARE;
    private double budgetLeaseShare = DEFAULT_BUDGET_LEASE_SHARE;
    private Duration leaseTtl = DEFAULT_LEASE_TTL;
    private Ticker ticker = Ticker.system();
    private ClientResources resources;

    private Builder() {}

    /**
     * The server, as a Lettuce URI: {@code redis://[[user]:password@]host[:port][/database]},
     * {@code rediss://...} for TLS, {@code redis-sentinel://...}, {@code redis-socket://...}.
     * Required. The value never appears in a message.
     *
     * @param uri the URI
     * @return this builder
     * @throws NullPointerException if {@code uri} is null
     * @throws IllegalArgumentException if it is not such a URI ({@code uri must be a redis://, rediss://,
     *     redis-sentinel:// or redis-socket:// URI (the value is not shown)})
     */
    public Builder uri(String uri) {
      Objects.requireNonNull(uri, "uri");
      RedisURI parsed;
      try {
        parsed = RedisURI.create(uri.trim());
      } catch (RuntimeException e) {
        parsed = null;
      }
      if (parsed == null || (parsed.getHost() == null && parsed.getSocket() == null
          && (parsed.getSentinels() == null || parsed.getSentinels().isEmpty()))) {
        throw new IllegalArgumentException("uri must be a redis://, rediss://, redis-sentinel:// or redis-socket:// URI"
            + " (the value is not shown)");
      }
      this.uri = parsed;
      return this;
    }

    /**
     * The server as a Lettuce {@link RedisURI} (TLS settings, a credentials provider, client name),
     * passed to Lettuce as is.
     *
     * @param uri the URI
     * @return this builder
     * @throws NullPointerException if {@code uri} is null
     */
    public Builder uri(RedisURI uri) {
      this.uri = Objects.requireNonNull(uri, "uri");
      return this;
    }

    /**
     * The prefix of every key and channel. Default {@value RedisSharedState#DEFAULT_KEY_PREFIX}. 1 to
     * 64 characters, no braces (the pool name is the hash tag) and no whitespace.
     *
     * @param prefix the prefix
     * @return this builder
     * @throws IllegalArgumentException if it is empty, longer, or has a brace or whitespace
     *     ("keyPrefix must be 1 to 64 characters without braces or whitespace but was 'a&#123;b'")
     */
    public Builder keyPrefix(String prefix) {
      Objects.requireNonNull(prefix, "keyPrefix");
      if (prefix.isEmpty() || prefix.length() > 64 || !prefix.chars().noneMatch(c -> c == '{' || c == '}'
          || Character.isWhitespace(c))) {
        throw new IllegalArgumentException("keyPrefix must be 1 to 64 characters without braces or whitespace but was '"
            + prefix + "'");
      }
      this.prefix = prefix;
      return this;
    }

    /**
     * How often what the pools learned is written (one pipelined batch per pool). Default 20 ms;
     * 1 ms to 10 s.
     *
     * @param interval the interval
     * @return this builder
     * @throws IllegalArgumentException if outside that range
     */
    public Builder publishInterval(Duration interval) {
      this.publishInterval = range("publishInterval", interval, Duration.ofMillis(1), Duration.ofSeconds(10));
      return this;
    }

    /**
     * How often every joined pool's state is read back whole: the bound on staleness when a
     * message was missed. Default 250 ms; 10 ms to 1 minute.
     *
     * @param interval the interval
     * @return this builder
     * @throws IllegalArgumentException if outside that range
     */
    public Builder resyncInterval(Duration interval) {
      this.resyncInterval = range("resyncInterval", interval, Duration.ofMillis(10), Duration.ofMinutes(1));
      return this;
    }

    /**
     * How long a command may go unanswered before Redis counts as down. Default 500 ms; 10 ms to
     * 1 minute. Calls never wait for it.
     *
     * @param timeout the timeout
     * @return this builder
     * @throws IllegalArgumentException if outside that range
     */
    public Builder commandTimeout(Duration timeout) {
      this.commandTimeout = range("commandTimeout", timeout, Duration.ofMillis(10), Duration.ofMinutes(1));
      return this;
    }

    /**
     * Whether quota windows from rate-limit headers are shared. Default true.
     *
     * @param share whether to share
     * @return this builder
     */
    public Builder shareQuota(boolean share) {
      this.shareQuota = share;
      return this;
    }

    /**
     * Whether session-affinity entries are shared (their keys are stored in Redis as the pool's
     * {@code Affinity} gives them). Default true.
     *
     * @param share whether to share
     * @return this builder
     */
    public Builder shareAffinity(boolean share) {
      this.shareAffinity = share;
      return this;
    }

    /**
     * Whether configured limits ({@code requestsPerMinute}, {@code tokensPerMinute}) are fleet-wide
     * windows taken in leases ({@link RedisSharedState#limits()}). Default true; false keeps them
     * local buckets of each instance.
     *
     * @param share whether to share
     * @return this builder
     */
    public Builder shareLimits(boolean share) {
      this.shareLimits = share;
      return this;
    }

    /**
     * The size of one lease as a share of the limit (at least 1 unit). The fleet admits at most
     * {@code instances x lease} beyond a single bucket of the limit (see the module's page), so
     * {@code share = acceptable overshoot / instances}: the default 0.005 keeps 8 instances within
     * 4%. Smaller shares mean more lease round trips (one per lease used). Default
     * {@value RedisSharedState#DEFAULT_LEASE_SHARE}; above 0, at most 1.
     *
     * @param share the share
     * @return this builder
     * @throws IllegalArgumentException if outside that range ({@code leaseShare must be > 0 and <= 1 but was 0.0})
     */
    public Builder leaseShare(double share) {
      if (!(share > 0 && share <= 1)) {
        throw new IllegalArgumentException("leaseShare must be > 0 and <= 1 but was " + share);
      }
      this.leaseShare = share;
      return this;
    }

    /**
     * Whether budgets ({@code ProviderPool.Builder.budget}) are counted for the fleet in Redis,
     * taken in leases ({@link RedisSharedState#budgets()}). Default true; false keeps each
     * instance's budgets its own (N instances then spend up to N x the limit).
     *
     * @param share whether to share
     * @return this builder
     */
    public Builder shareBudgets(boolean share) {
      this.shareBudgets = share;
      return this;
    }

    /**
     * The size of the smallest budget lease as a share of the budget's limit (at least 1 unit; 10^-9
     * of the currency for a money budget); also the credit of a window's first requests. Leases grow
     * with demand above it (twice what an instance has in flight or reserves per lease round, at most
     * its share of what the window has left over the fleet size), and a request short only until a
     * lease waits up to 60 ms for it, so the share need not hold an instance's concurrency. The
     * fleet's settled spend stays within {@code limit + instances x lease} plus what attempts in
     * flight cost beyond their reservations, so {@code share = acceptable overshoot / instances}.
     * Default
     * {@value RedisSharedState#DEFAULT_BUDGET_LEASE_SHARE}; above 0, at most 1.
     *
     * @param share the share
     * @return this builder
     * @throws IllegalArgumentException if outside that range ({@code budgetLeaseShare must be > 0 and <= 1 but was 2.0})
     */
    public Builder budgetLeaseShare(double share) {
      if (!(share > 0 && share <= 1)) {
        throw new IllegalArgumentException("budgetLeaseShare must be > 0 and <= 1 but was " + share);
      }
      this.budgetLeaseShare = share;
      return this;
    }

    /**
     * How long a lease holds: then its unused units go back to the window and a fresh lease is taken
     * (in one script call). Bounds how long units taken by an instance stay unused. Default 5 s;
     * 100 ms to 10 minutes.
     *
     * @param ttl the time
     * @return this builder
     * @throws IllegalArgumentException if outside that range
     */
    public Builder leaseTtl(Duration ttl) {
      this.leaseTtl = range("leaseTtl", ttl, Duration.ofMillis(100), Duration.ofMinutes(10));
      return this;
    }

    /**
     * The wall clock for TTLs and expiry checks ({@link Ticker#wallMillis()}); give the pools'
     * ticker in tests. Default {@link Ticker#system()}.
     *
     * @param ticker the ticker
     * @return this builder
     * @throws NullPointerException if {@code ticker} is null
     */
    public Builder ticker(Ticker ticker) {
      this.ticker = Objects.requireNonNull(ticker, "ticker");
      return this;
    }

    /**
     * Lettuce client resources to share (an application's event loops, e.g. Spring Data Redis's);
     * not shut down by {@link RedisSharedState#close()}. Default: resources of its own (2 I/O
     * threads), shut down by close.
     *
     * @param resources the resources
     * @return this builder
     * @throws NullPointerException if {@code resources} is null
     */
    public Builder clientResources(ClientResources resources) {
      this.resources = Objects.requireNonNull(resources, "clientResources");
      return this;
    }

    /**
     * The shared state: its thread starts and it connects in the background (never blocks; a
     * Redis down now is reported to the pools that join as {@code SharedStateDown}).
     *
     * @return the shared state
     * @throws IllegalStateException if no URI was set ({@code uri is required})
     */
    public RedisSharedState build() {
      if (uri == null) {
        throw new IllegalStateException("uri is required");
      }
      return new RedisSharedState(this);
    }

    private static Duration range(String name, Duration d, Duration min, Duration max) {
      Objects.requireNonNull(d, name);
      if (d.compareTo(min) < 0 || d.compareTo(max) > 0) {
        throw new IllegalArgumentException(name + " must be between " + min.toMillis() + " ms and " + max.toMillis()
            + " ms but was " + d);
      }
      return d;
    }
  }
}
