package io.github.llmpool.bench.quality;

import io.github.llmpool.LlmPoolException;
import io.github.llmpool.PoolEvent;
import io.github.llmpool.PoolSnapshot;
import io.github.llmpool.Provider;
import io.github.llmpool.ProviderPool;
import io.github.llmpool.ProviderSnapshot;
import io.github.llmpool.bench.NoDelay;
import io.github.llmpool.internal.engine.PoolCore;
import io.github.llmpool.internal.route.Slot;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
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
 * One run of one quota scenario with one contender: {@code instances} pools (each its own OkHttp
 * client) over the scenario's fake providers, or the {@link Pacer}; the seeded open-loop workload
 * (one client thread per request, latency from the scheduled arrival); a sampler of every pool's
 * provider states and of the providers' real headroom; the pools' events. World time throughout
 * ({@link ScaledTicker}).
 */
final class QuotaRun {
  private static final MediaType JSON = MediaType.get("application/json");
  private static final ThreadLocal<Rec> CURRENT = new ThreadLocal<>();
  /** World nanos between samples of the pools' states. */
  static final long SAMPLE_NANOS = 250_000_000L;
  /** {@code -Dquota.trace=true}: print the model's and the fakes' room at every sample (instance 0). */
  static final boolean TRACE = Boolean.getBoolean("quota.trace");

  /** One logical request and what became of it (world nanos from the start). */
  static final class Rec {
    final QuotaScenario.Req req;
    volatile long end = -1;
    volatile boolean ok;
    volatile int attempts;
    volatile String provider;
    volatile String error;
    /** The admission estimate the pool makes of the body (bytes / 4 + max_tokens). */
    final long estimate;

    Rec(QuotaScenario.Req req) {
      this.req = req;
      this.estimate = QuotaFake.admissionCost(body(req));
    }
  }

  /**
   * Attempts answered 429, split by what the pool's headroom model said at dispatch: it had room
   * for the request (the model was wrong, or a concurrent dispatch took the room first), or it had
   * none (sent anyway: the all-evicted policy's fail-open, or quota routing off).
   */
  final java.util.concurrent.atomic.LongAdder limitedWithRoom = new java.util.concurrent.atomic.LongAdder();
  final java.util.concurrent.atomic.LongAdder limitedWithoutRoom = new java.util.concurrent.atomic.LongAdder();
  /** Attempts dispatched while the model said the provider had no room. */
  final java.util.concurrent.atomic.LongAdder sentWithoutRoom = new java.util.concurrent.atomic.LongAdder();
  private final Map<io.github.llmpool.spi.AttemptStart, Boolean> roomAtStart =
      new java.util.concurrent.ConcurrentHashMap<>();

  /** A pool event: world time, instance, type, provider. */
  record Ev(long t, int instance, String type, String provider) {}

  final QuotaScenario scenario;
  final QuotaContender contender;
  final ScaledTicker ticker;
  final Map<String, QuotaFake> fakes;
  final List<String> names = new ArrayList<>();
  final List<Rec> recs = new ArrayList<>();
  final List<Ev> events = Collections.synchronizedList(new ArrayList<>());
  /**
   * Per sample: world time, statuses [instance][provider] ('A', 'E', 'P', 'D' as the snapshot's status; 'Q'
   * available but without quota headroom for a mean-sized request), real room per provider.
   */
  final List<Long> sampleTimes = new ArrayList<>();
  final List<char[][]> statuses = new ArrayList<>();
  final List<boolean[]> room = new ArrayList<>();

  QuotaRun(QuotaScenario scenario, QuotaContender contender, ScaledTicker ticker, Map<String, QuotaFake> fakes,
      List<QuotaScenario.Req> workload) {
    this.scenario = scenario;
    this.contender = contender;
    this.ticker = ticker;
    this.fakes = fakes;
    for (QuotaScenario.Spec s : scenario.providers()) {
      names.add(s.name());
    }
    for (QuotaScenario.Req r : workload) {
      recs.add(new Rec(r));
    }
  }

  void run() throws Exception {
    int n = contender.pooled() ? scenario.instances() : 1;
    List<ProviderPool> pools = new ArrayList<>();
    List<OkHttpClient> clients = new ArrayList<>();
    Pacer pacer = null;
    if (contender.pooled()) {
      for (int i = 0; i < n; i++) {
        int inst = i;
        ProviderPool.Builder b = ProviderPool.builder().ticker(ticker).name("quota-" + i)
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
                  : e instanceof PoolEvent.HeadroomExhausted ? "headroom-exhausted"
                  : e instanceof PoolEvent.HeadroomRestored ? "headroom-restored"
                  : e.getClass().getSimpleName();
              events.add(new Ev(ticker.read(), inst, type, e.provider()));
            });
        contender.configure(b);
        ProviderPool[] self = new ProviderPool[1];
        b.onAttempt(new io.github.llmpool.spi.AttemptListener() {
          @Override
          public void onStart(io.github.llmpool.spi.AttemptStart st) {
            Rec r = CURRENT.get();
            ProviderPool pool = self[0];
            if (r == null || pool == null) {
              return;
            }
            Slot s = core(pool).router().slot(st.provider());
            // Before the attempt's own reservation (the hook runs first in AttemptLease.dispatch).
            boolean room = s == null || s.state.headroom().admits(ticker.read(), r.estimate);
            if (!room) {
              sentWithoutRoom.increment();
            }
            roomAtStart.put(st, room);
          }

          @Override
          public void onEnd(io.github.llmpool.spi.AttemptEnd e) {
            Boolean room = roomAtStart.remove(e.start());
            if (room != null && e.status().orElse(0) == 429) {
              (room ? limitedWithRoom : limitedWithoutRoom).increment();
            }
          }
        });
        for (List<QuotaScenario.Spec> tier : scenario.tiers()) {
          List<Provider> ps = new ArrayList<>();
          for (QuotaScenario.Spec s : tier) {
            Provider.Builder p = Provider.builder(s.name()).baseUrl(fakes.get(s.name()).baseUrl())
                .apiKey("sk-quota-fake").weight(s.weight());
            ps.add(contender.provider(p, s).build());
          }
          b.tier(ps);
        }
        pools.add(b.build());
        self[0] = pools.get(i);
        clients.add(client(pools.get(i)));
      }
    } else {
      pacer = new Pacer(ticker);
      int t = 0;
      for (List<QuotaScenario.Spec> tier : scenario.tiers()) {
        for (QuotaScenario.Spec s : tier) {
          pacer.add(s.name(), fakes.get(s.name()).baseUrl(), t);
        }
        t++;
      }
      clients.add(client(null));
    }

    Thread sampler = new Thread(() -> sample(pools), "quota-sampler-" + contender.label);
    sampler.setDaemon(true);
    sampler.start();
    AtomicInteger threadNo = new AtomicInteger();
    ThreadPoolExecutor exec = new ThreadPoolExecutor(0, Integer.MAX_VALUE, 5, TimeUnit.SECONDS,
        new SynchronousQueue<>(), r -> {
          Thread th = new Thread(r, "quota-client-" + contender.label + "-" + threadNo.incrementAndGet());
          th.setDaemon(true);
          return th;
        });
    Pacer p = pacer;
    for (Rec rec : recs) {
      FakeProvider.sleepUntil(ticker.loopbackAt(rec.req.at()));
      if (p != null) {
        exec.execute(() -> paced(p, clients.get(0), rec));
      } else {
        String url = pools.get(rec.req.instance()).baseUrl().resolve("chat/completions").toString();
        OkHttpClient c = clients.get(rec.req.instance());
        exec.execute(() -> pooled(c, url, rec));
      }
    }
    exec.shutdown();
    if (!exec.awaitTermination(60, TimeUnit.SECONDS)) {
      exec.shutdownNow();
      exec.awaitTermination(5, TimeUnit.SECONDS);
    }
    sampler.interrupt();
    sampler.join(5000);
    for (OkHttpClient c : clients) {
      c.connectionPool().evictAll();
      c.dispatcher().executorService().shutdown();
    }
    fakes.values().forEach(QuotaFake::drain);
  }

  private static OkHttpClient client(ProviderPool pool) {
    Dispatcher d = new Dispatcher();
    d.setMaxRequests(1024);
    d.setMaxRequestsPerHost(1024);
    OkHttpClient.Builder b = new OkHttpClient.Builder().dispatcher(d)
        .connectionPool(new ConnectionPool(256, 1, TimeUnit.MINUTES)).socketFactory(NoDelay.client())
        .connectTimeout(2, TimeUnit.SECONDS).readTimeout(30, TimeUnit.SECONDS);
    if (pool != null) {
      b.addInterceptor(pool.interceptor());
    }
    return b.build();
  }

  /** The request body: a prompt of {@code promptChars} characters and the request's {@code max_tokens}. */
  static String body(QuotaScenario.Req q) {
    StringBuilder sb = new StringBuilder(q.promptChars() + 128);
    sb.append("{\"model\":\"fake-model\",\"max_tokens\":").append(q.maxTokens()).append(",\"stream\":")
        .append(q.stream()).append(",\"messages\":[{\"role\":\"user\",\"content\":\"");
    for (int i = 0; i < q.promptChars(); i++) {
      sb.append((char) ('a' + i % 26));
    }
    return sb.append("\"}]}").toString();
  }

  private static Request request(String url, QuotaScenario.Req q, String body, boolean auth) {
    Request.Builder b = new Request.Builder().url(url).post(RequestBody.create(body, JSON))
        .header(QuotaFake.ANSWER_HEADER, Integer.toString(q.answer()))
        .header(QuotaFake.PROMPT_HEADER, Integer.toString((q.promptChars() + 3) / 4));
    if (auth) {
      b.header("Authorization", "Bearer sk-quota-fake");
    }
    return b.build();
  }

  private void pooled(OkHttpClient client, String url, Rec rec) {
    CURRENT.set(rec);
    try (Response resp = client.newCall(request(url, rec.req, body(rec.req), false)).execute()) {
      long real = read(resp, rec);
      rec.ok = real >= 0;
      if (!rec.ok && rec.error == null) {
        rec.error = "HTTP " + resp.code();
      }
    } catch (LlmPoolException e) {
      rec.attempts = Math.max(rec.attempts, e.attempts().size());
      rec.error = e.getClass().getSimpleName();
    } catch (IOException | RuntimeException e) {
      rec.error = e.getClass().getSimpleName();
    } finally {
      rec.end = ticker.read();
      if (rec.attempts == 0) {
        rec.attempts = 1;
      }
      CURRENT.remove();
    }
  }

  private void paced(Pacer pacer, OkHttpClient client, Rec rec) {
    String body = body(rec.req);
    long cost = QuotaFake.admissionCost(body);
    List<Pacer.Gauge> tried = new ArrayList<>();
    try {
      for (int attempt = 1; attempt <= 3; attempt++) {
        Pacer.Ticket t = pacer.acquire(cost, tried);
        if (t == null) {
          rec.error = attempt == 1 ? "refused by the pacer (no room in time)" : "HTTP 429";
          return;
        }
        rec.attempts = attempt;
        tried.add(t.gauge());
        long real = -1;
        try (Response resp = client.newCall(request(t.gauge().url + "/chat/completions", rec.req, body, true))
            .execute()) {
          pacer.answered(t, resp.code(), resp.headers());
          real = read(resp, rec);
          if (resp.code() == 429) {
            continue;
          }
          rec.ok = real >= 0;
          rec.provider = t.gauge().name;
          if (!rec.ok) {
            rec.error = "HTTP " + resp.code();
          }
          return;
        } finally {
          pacer.done(t, real);
        }
      }
      rec.error = "HTTP 429";
    } catch (IOException | RuntimeException e) {
      rec.error = e.getClass().getSimpleName();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      rec.error = "interrupted";
    } finally {
      rec.end = ticker.read();
      if (rec.attempts == 0) {
        rec.attempts = 1;
      }
    }
  }

  /** Reads the whole answer; its real usage (prompt + completion tokens), or -1 if it was not a complete answer. */
  private static long read(Response resp, Rec rec) throws IOException {
    if (resp.code() != 200) {
      resp.body().string();
      return -1;
    }
    String usage = null;
    if (rec.req.stream()) {
      BufferedSource src = resp.body().source();
      boolean done = false;
      String line;
      while ((line = src.readUtf8Line()) != null) {
        if (line.contains("\"usage\"")) {
          usage = line;
        }
        if (line.equals("data: [DONE]")) {
          done = true;
        }
      }
      if (!done) {
        rec.error = "stream ended without [DONE]";
        return -1;
      }
    } else {
      usage = resp.body().string();
    }
    if (usage == null) {
      return -1;
    }
    int total = FakeProvider.intField(usage, "\"total_tokens\":", -1);
    return total < 0 ? 0 : total;
  }

  private static final java.lang.reflect.Method CORE;

  static {
    try {
      CORE = ProviderPool.class.getDeclaredMethod("core");
      CORE.setAccessible(true);
    } catch (NoSuchMethodException e) {
      throw new ExceptionInInitializerError(e);
    }
  }

  /** The pool's engine (package-private in the core; the sampler reads each provider's headroom). */
  static PoolCore core(ProviderPool pool) {
    try {
      return (PoolCore) CORE.invoke(pool);
    } catch (ReflectiveOperationException e) {
      throw new IllegalStateException(e);
    }
  }

  private void sample(List<ProviderPool> pools) {
    long cost = Math.round(QuotaScenario.Mix.INSTANCE.meanAdmissionTokens);
    try {
      for (long k = 0; ; k++) {
        FakeProvider.sleepUntil(ticker.loopbackAt(k * SAMPLE_NANOS));
        char[][] st = new char[pools.size()][names.size()];
        long now = ticker.read();
        for (int i = 0; i < pools.size(); i++) {
          PoolSnapshot snap = pools.get(i).snapshot();
          for (ProviderSnapshot p : snap.providers()) {
            st[i][names.indexOf(p.name())] = switch (p.status()) {
              case AVAILABLE -> 'A';
              case EVICTED -> 'E';
              case PROBING -> 'P';
              case DRAINED -> 'D';
            };
          }
          // Available but passed over for want of headroom (quota routing): 'Q'.
          PoolCore core = core(pools.get(i));
          if (core.router().quotaRouting()) {
            for (Slot s : core.router().slots()) {
              int j = names.indexOf(s.name());
              if (st[i][j] == 'A' && !s.state.headroom().admits(now, cost)) {
                st[i][j] = 'Q';
              }
              if (TRACE && i == 0) {
                long[] real = fakes.get(s.name()).remaining();
                io.github.llmpool.internal.health.RateWindow w = s.state.headroom().requestWindow();
                String win = w == null ? "-" : String.format(java.util.Locale.ROOT, "rem %d reset %.2f seen -%.2f adm -%.2f",
                    w.remaining, (w.resetAt - now) / 1e9, (now - w.seenAt) / 1e9,
                    (now - (w.resetAt - (long) ((w.limit - w.remaining - 0.5) * 60e9 / w.limit))) / 1e9);
                System.out.printf(java.util.Locale.ROOT, "trace %s %.2f %s %c model %.1f / %.0f real %d / %d %s%n",
                    contender.label, now / 1e9, s.name(), st[i][j], s.state.headroom().requestRoom(now),
                    s.state.headroom().tokenRoom(now), real[0], real[1], win);
              }
            }
          }
        }
        boolean[] r = new boolean[names.size()];
        for (int j = 0; j < names.size(); j++) {
          r[j] = fakes.get(names.get(j)).hasRoom(cost);
        }
        synchronized (this) {
          sampleTimes.add(ticker.read());
          statuses.add(st);
          room.add(r);
        }
      }
    } catch (InterruptedException e) {
      // run over
    }
  }
}
