package io.github.llmpool.bench.quality;

import io.github.llmpool.bench.NoDelay;
import io.github.llmpool.LlmPoolException;
import io.github.llmpool.P2cSettings;
import io.github.llmpool.PoolEvent;
import io.github.llmpool.PoolSnapshot;
import io.github.llmpool.Provider;
import io.github.llmpool.ProviderPool;
import io.github.llmpool.ProviderSnapshot;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.SynchronousQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import okhttp3.ConnectionPool;
import okhttp3.Dispatcher;
import okhttp3.MediaType;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import okhttp3.RequestBody;
import okhttp3.Response;
import okio.BufferedSource;

/**
 * One run of one scenario with one routing configuration: a fresh pool and OkHttp client over the
 * scenario's fake providers, an open-loop load (Poisson arrivals at the scenario's rate, the same
 * seeded arrival times and request mix for every strategy), a sampler of the pool's snapshot for
 * the per-provider traffic over time, and the pool's events. Every request gets its own client
 * thread and its latency is measured from its scheduled arrival (no coordinated omission).
 *
 * <p>Attempts per logical request come from the pool itself: the {@code attempt} number of the
 * {@link io.github.llmpool.TokenUsage} of the request's last attempt (delivered on the calling
 * thread), or the attempt list of the pool's exception.
 */
final class LoadRun {
  private static final MediaType JSON = MediaType.get("application/json");
  private static final ThreadLocal<Rec> CURRENT = new ThreadLocal<>();
  private static final boolean DEBUG = Boolean.getBoolean("quality.debug");
  /** Sampling bins of the pool's snapshot per run. */
  static final int BINS = 150;

  /** One logical request and what became of it. */
  static final class Rec {
    final long at; // scheduled arrival, loopback nanos from the run's start
    final boolean stream;
    final int tokens;
    volatile long end = -1; // nanos from start
    volatile long firstToken = -1; // nanos from start
    volatile boolean ok;
    volatile int attempts;
    volatile int status = -1;
    volatile String provider;
    volatile String error;

    Rec(long at, boolean stream, int tokens) {
      this.at = at;
      this.stream = stream;
      this.tokens = tokens;
    }
  }

  /** A pool event, timestamped in nanos from the run's start. */
  record Ev(long t, String type, String provider) {}

  final Scenario scenario;
  final String label;
  final Contender contender;
  final World world;
  final Map<String, FakeProvider> fakes;
  final long seed;

  final List<Rec> recs = new ArrayList<>();
  final List<Ev> events = Collections.synchronizedList(new ArrayList<>());
  final List<String> names = new ArrayList<>();
  /** Cumulative attempts per provider at each sample; statuses ('A', 'E', 'P') at each sample. */
  final List<long[]> cumulative = new ArrayList<>();
  /** Per sample, each provider's probes sent so far ({@code P2cSettings.probes}; not in {@link #cumulative}). */
  final List<long[]> cumulativeProbes = new ArrayList<>();
  final List<char[]> statuses = new ArrayList<>();
  final List<Long> sampleTimes = new ArrayList<>();
  long binNanos;
  long durationNanos;
  long[] finalAttempts;

  LoadRun(Scenario scenario, String label, Contender contender, World world, Map<String, FakeProvider> fakes,
      long seed) {
    this.scenario = scenario;
    this.label = label;
    this.contender = contender;
    this.world = world;
    this.fakes = fakes;
    this.seed = seed;
  }

  /** The request mix: Poisson arrivals, stream or not, log-uniform answer lengths; seeded. */
  static List<Rec> workload(Scenario sc, World world, long seed) {
    Random r = new Random(seed);
    List<Rec> out = new ArrayList<>();
    double durationNanos = world.nanos(sc.durationSec() * 1000);
    double meanGap = 1e9 / sc.ratePerSec();
    double t = 0;
    double lo = Math.log(sc.minTokens());
    double hi = Math.log(sc.maxTokens());
    while (true) {
      t += -Math.log(1 - r.nextDouble()) * meanGap;
      if (t >= durationNanos) {
        break;
      }
      boolean stream = r.nextDouble() < sc.streamShare();
      int tokens = (int) Math.round(Math.exp(lo + (hi - lo) * r.nextDouble()));
      out.add(new Rec((long) t, stream, tokens));
    }
    return out;
  }

  /**
   * Runs the workload from {@code t0} (a {@link System#nanoTime()} in the near future; runs of the
   * same scenario share it so they see the same machine at the same moments).
   */
  void run(long t0) throws Exception {
    durationNanos = world.nanos(scenario.durationSec() * 1000);
    binNanos = Math.max(durationNanos / BINS, 10_000_000L);
    recs.addAll(workload(scenario, world, seed));

    int i = 0;
    for (Scenario.Spec spec : scenario.providers()) {
      names.add(spec.name());
      fakes.get(spec.name()).reset(t0, seed * 31 + i++);
    }

    ProviderPool.Builder b = ProviderPool.builder()
        .eviction(world.eviction())
        .retry(world.retry())
        .onUsage(u -> {
          Rec r = CURRENT.get();
          if (r != null && u.attempt() >= r.attempts) {
            r.attempts = u.attempt();
            r.provider = u.provider();
          }
        })
        .onEvent(e -> {
          String type = e instanceof PoolEvent.Evicted ? "evicted"
              : e instanceof PoolEvent.Restored ? "restored"
              : e instanceof PoolEvent.Probing ? "probing"
              : e instanceof PoolEvent.Retried ? "retried"
              : e instanceof PoolEvent.FailedOver ? "failed-over"
              : e instanceof PoolEvent.Exhausted ? "exhausted"
              : e.getClass().getSimpleName(); // PoolEvent is open: a newer type is kept under its own name
          events.add(new Ev(System.nanoTime() - t0, type, e.provider()));
        });
    P2cSettings.Builder p2c = P2cSettings.builder().latencyDecay(world.latencyDecay())
        .initialLatency(world.initialLatency());
    contender.configure(b, p2c);
    b.p2c(p2c.build());
    for (List<Scenario.Spec> tier : scenario.tiers()) {
      List<Provider> ps = new ArrayList<>();
      for (Scenario.Spec spec : tier) {
        ps.add(Provider.builder(spec.name()).baseUrl(fakes.get(spec.name()).baseUrl()).apiKey("sk-quality-fake")
            .weight(spec.weight()).concurrency(contender.concurrency).build());
      }
      b.tier(ps);
    }
    ProviderPool pool = b.build();

    Dispatcher dispatcher = new Dispatcher();
    dispatcher.setMaxRequests(1024);
    dispatcher.setMaxRequestsPerHost(1024); // every call names the pool's one virtual host
    OkHttpClient client = new OkHttpClient.Builder()
        .addInterceptor(pool.interceptor())
        .dispatcher(dispatcher)
        .connectionPool(new ConnectionPool(512, 1, TimeUnit.MINUTES))
        .socketFactory(NoDelay.client())
        .connectTimeout(2, TimeUnit.SECONDS)
        .readTimeout(30, TimeUnit.SECONDS)
        .build();
    String url = pool.baseUrl().resolve("chat/completions").toString();

    // Outages that take a server off its port.
    Thread outages = new Thread(() -> outages(t0), "quality-outages");
    outages.setDaemon(true);
    outages.start();
    // The sampler of the pool's per-provider attempt counters and states.
    Thread sampler = new Thread(() -> sample(pool, t0), "quality-sampler");
    sampler.setDaemon(true);
    sampler.start();

    AtomicInteger threadNo = new AtomicInteger();
    // One thread per request in flight (an open loop: no request waits for a client thread).
    ThreadPoolExecutor clients = new ThreadPoolExecutor(0, Integer.MAX_VALUE, 5, TimeUnit.SECONDS,
        new SynchronousQueue<>(), r -> {
          Thread t = new Thread(r, "quality-client-" + threadNo.incrementAndGet());
          t.setDaemon(true);
          return t;
        });
    if (scenario.closedLoop()) {
      recs.clear();
      List<Rec> done = Collections.synchronizedList(new ArrayList<>());
      for (int c = 0; c < scenario.clients(); c++) {
        Random r = new Random(seed * 1_000_003L + c);
        clients.execute(() -> closedLoop(client, url, t0, r, done));
      }
      clients.shutdown();
      if (!clients.awaitTermination(durationNanos / 1_000_000 + 60_000, TimeUnit.MILLISECONDS)) {
        clients.shutdownNow();
      }
      synchronized (done) {
        done.sort((x, y) -> Long.compare(x.at, y.at));
        recs.addAll(done);
      }
    } else {
      for (Rec rec : recs) {
        FakeProvider.sleepUntil(t0 + rec.at);
        clients.execute(() -> call(client, url, rec, t0));
      }
    }
    clients.shutdown();
    if (!clients.awaitTermination(30, TimeUnit.SECONDS)) {
      clients.shutdownNow();
      clients.awaitTermination(5, TimeUnit.SECONDS);
    }
    sampler.interrupt();
    outages.interrupt();
    sampler.join(5000);
    outages.join(5000);
    PoolSnapshot last = pool.snapshot();
    finalAttempts = new long[names.size()];
    for (ProviderSnapshot p : last.providers()) {
      finalAttempts[names.indexOf(p.name())] = p.requests();
    }
    for (FakeProvider f : fakes.values()) {
      f.up();
      f.drain();
    }
    client.connectionPool().evictAll();
    client.dispatcher().executorService().shutdown();
  }

  /**
   * One caller of a closed loop: from {@code t0} to the end of the run, a request (the scenario's
   * mix, drawn from {@code r}), then the next as soon as it ended.
   */
  private void closedLoop(OkHttpClient client, String url, long t0, Random r, List<Rec> done) {
    try {
      FakeProvider.sleepUntil(t0);
    } catch (InterruptedException e) {
      return;
    }
    double lo = Math.log(scenario.minTokens());
    double hi = Math.log(scenario.maxTokens());
    while (true) {
      long at = System.nanoTime() - t0;
      if (at >= durationNanos) {
        return;
      }
      boolean stream = r.nextDouble() < scenario.streamShare();
      int tokens = (int) Math.round(Math.exp(lo + (hi - lo) * r.nextDouble()));
      Rec rec = new Rec(at, stream, tokens);
      call(client, url, rec, t0);
      done.add(rec);
    }
  }

  private void call(OkHttpClient client, String url, Rec rec, long t0) {
    CURRENT.set(rec);
    String body = "{\"model\":\"fake-model\",\"max_tokens\":" + rec.tokens + ",\"stream\":" + rec.stream
        + ",\"messages\":[{\"role\":\"user\",\"content\":\"Say something.\"}]}";
    Request req = new Request.Builder().url(url).post(RequestBody.create(body, JSON)).build();
    try (Response resp = client.newCall(req).execute()) {
      rec.status = resp.code();
      if (rec.stream && resp.code() == 200) {
        BufferedSource src = resp.body().source();
        boolean done = false;
        String line;
        while ((line = src.readUtf8Line()) != null) {
          if (line.startsWith("data:")) {
            if (rec.firstToken < 0) {
              rec.firstToken = System.nanoTime() - t0;
            }
            if (line.equals("data: [DONE]")) {
              done = true;
            }
          }
        }
        rec.ok = done;
        if (!done) {
          rec.error = "stream ended without [DONE]";
        }
      } else {
        String s = resp.body().string();
        rec.ok = resp.code() == 200 && s.contains("\"usage\"");
        if (!rec.ok) {
          rec.error = "HTTP " + resp.code();
        }
      }
    } catch (LlmPoolException e) {
      rec.attempts = Math.max(rec.attempts, e.attempts().size());
      rec.error = e.getClass().getSimpleName();
      if (DEBUG) {
        System.err.println("request failed: " + e);
      }
    } catch (IOException | RuntimeException e) {
      rec.error = e.getClass().getSimpleName();
    } finally {
      rec.end = System.nanoTime() - t0;
      if (rec.attempts == 0) {
        rec.attempts = 1;
      }
      CURRENT.remove();
    }
  }

  private void outages(long t0) {
    record Switch(long at, FakeProvider provider, boolean up) {}
    List<Switch> switches = new ArrayList<>();
    for (Scenario.Spec spec : scenario.providers()) {
      for (Behavior.Phase p : spec.phases()) {
        if (p.behavior().refuse()) {
          FakeProvider f = fakes.get(spec.name());
          switches.add(new Switch(world.nanos(p.fromSec() * 1000), f, false));
          if (p.toSec() < scenario.durationSec()) {
            switches.add(new Switch(world.nanos(p.toSec() * 1000), f, true));
          }
        }
      }
    }
    switches.sort((a, c) -> Long.compare(a.at, c.at));
    try {
      for (Switch s : switches) {
        FakeProvider.sleepUntil(t0 + s.at);
        if (s.up) {
          s.provider.up();
        } else {
          s.provider.down();
        }
        events.add(new Ev(System.nanoTime() - t0, s.up ? "server-up" : "server-down", s.provider.name));
      }
    } catch (InterruptedException e) {
      // run over
    } catch (IOException e) {
      throw new IllegalStateException("could not bring " + e.getMessage() + " back up", e);
    }
  }

  private void sample(ProviderPool pool, long t0) {
    try {
      for (long k = 0; ; k++) {
        FakeProvider.sleepUntil(t0 + k * binNanos);
        PoolSnapshot snap = pool.snapshot();
        long[] cum = new long[names.size()];
        long[] probes = new long[names.size()];
        char[] st = new char[names.size()];
        for (ProviderSnapshot p : snap.providers()) {
          int idx = names.indexOf(p.name());
          cum[idx] = p.requests() - p.probes(); // the callers' attempts: a probe is the pool's own
          probes[idx] = p.probes();
          st[idx] = switch (p.status()) {
            case AVAILABLE -> 'A';
            case EVICTED -> 'E';
            case PROBING -> 'P';
            case DRAINED -> 'D';
          };
        }
        synchronized (this) {
          sampleTimes.add(System.nanoTime() - t0);
          cumulative.add(cum);
          cumulativeProbes.add(probes);
          statuses.add(st);
        }
      }
    } catch (InterruptedException e) {
      // run over
    }
  }
}
