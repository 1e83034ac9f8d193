package io.github.llmpool.reliability;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.github.llmpool.EvictionPolicy;
import io.github.llmpool.FakeTicker;
import io.github.llmpool.Fixtures;
import io.github.llmpool.Provider;
import io.github.llmpool.ProviderPool;
import io.github.llmpool.ProviderSnapshot;
import io.github.llmpool.Strategy;
import io.github.llmpool.TokenUsage;
import io.github.llmpool.Upstreams;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import mockwebserver3.MockResponse;
import mockwebserver3.MockWebServer;
import mockwebserver3.SocketEffect;
import okhttp3.Call;
import okhttp3.Interceptor;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import okhttp3.Response;
import okio.Buffer;
import okio.BufferedSource;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Bounded stress, once per strategy: {@value #THREADS} threads send {@value #REQUESTS} requests
 * (plain and streaming chat completions; 20,016 over the three strategies) through one pool over four loopback providers in two tiers that
 * inject seeded random faults (429 with a delay, 500, 503, 400, reset before headers, reset
 * mid-body, truncated streams, malformed JSON, the occasional read timeout). Callers read the whole
 * body, part of it, none of it, or cancel mid-read; every 97th request reconfigures the pool (new
 * weights, a provider moving between tiers), as {@code pool.update} may at any time. Pool time is a {@link FakeTicker} that every
 * request moves by 1 ms, so evictions come and go with the load. Afterwards:
 * <ul>
 *   <li>every call ended in a response or an exception, within {@link #CAP} (else the threads are
 *       dumped);
 *   <li>every usage record is attributed to its logical request (the usage listener runs on the
 *       caller's thread) and to one attempt: an application interceptor placed after the pool's
 *       sees every attempt and whether it got a response; each attempt that got one has exactly
 *       one record, no other attempt has any, and the total equals the sum of the providers'
 *       {@code requests()} minus the attempts that failed before a response;
 *   <li>the attempts the pool discarded are {@code DISCARDED}, the one returned to the caller is
 *       not, and carries the status the caller saw;
 *   <li>per provider: {@code requests == successes + failures + clientErrors}, in-flight 0, and the
 *       tokens in the snapshot equal the tokens in the records;
 *   <li>no connection still carries a call, and OkHttp's leak detection (after a forced GC) finds
 *       nothing.
 * </ul>
 * Seeded: {@code -Dstress.seed=N} (printed).
 */
class StressTest {
  static final int THREADS = 12;
  /** Per strategy; the three strategies together make {@value #REQUESTS} x 3 = 20,016 calls. */
  static final int REQUESTS = 6_672;
  /** Per strategy. */
  static final Duration CAP = Duration.ofSeconds(40);
  private static final AtomicLong TOTAL_CALLS = new AtomicLong();
  private static final AtomicLong TOTAL_ATTEMPTS = new AtomicLong();
  private static final AtomicLong TOTAL_RECORDS = new AtomicLong();
  private static final long SEED = Long.getLong("stress.seed", 20_261_122L);
  private static final String CHAT = Fixtures.text("openai-chat.json");
  private static final String SSE = Fixtures.text("openai-chat-stream-usage.sse");
  private static final String SSE_CUT = SSE.substring(0, SSE.indexOf("\"finish_reason\":\"stop\"") - 200);

  /** One logical request, as seen by the caller's thread. */
  static final class Ctx {
    final int id;
    final AtomicInteger attempts = new AtomicInteger();
    final Set<Integer> responded = new TreeSet<>();
    final Set<Integer> failedBefore = new TreeSet<>();
    final List<TokenUsage> records = new ArrayList<>();
    int status = -1; // the response the caller got, or -1
    IOException thrown; // execute() threw
    IOException readError; // reading the body threw

    Ctx(int id) {
      this.id = id;
    }

    @Override
    public String toString() {
      return "request " + id + ": attempts " + attempts + ", responded " + responded + ", failed before "
          + failedBefore + ", status " + status + ", thrown " + thrown + ", read error " + readError + ", records "
          + records;
    }
  }

  private static final ThreadLocal<Ctx> CURRENT = new ThreadLocal<>();

  /** Faults the providers inject, with their weights (out of 1000). */
  enum Fault {
    OK(780), RATE_LIMITED(50), SERVER_ERROR(40), UNAVAILABLE(20), CLIENT_ERROR(20), RESET_BEFORE_HEADERS(25),
    RESET_MID_BODY(25), TRUNCATED_OR_MALFORMED(30), SLOW_HEADERS(10);

    final int weight;

    Fault(int weight) {
      this.weight = weight;
    }

    static Fault pick(Random r) {
      int x = r.nextInt(1000);
      for (Fault f : values()) {
        x -= f.weight;
        if (x < 0) {
          return f;
        }
      }
      return OK;
    }
  }

  private static MockResponse answer(Fault f, boolean stream) {
    MockResponse.Builder b = new MockResponse.Builder();
    switch (f) {
      case OK -> b.addHeader("content-type", stream ? "text/event-stream" : "application/json").body(stream ? SSE : CHAT);
      case RATE_LIMITED -> b.code(429).addHeader("retry-after-ms", "20").addHeader("content-type", "application/json")
          .body("{\"error\":{\"type\":\"requests\",\"code\":\"rate_limit_exceeded\"}}");
      case SERVER_ERROR -> b.code(500).body("{\"error\":{\"type\":\"server_error\"}}");
      case UNAVAILABLE -> b.code(503).body("{\"error\":{\"type\":\"server_error\"}}");
      case CLIENT_ERROR -> b.code(400).addHeader("content-type", "application/json")
          .body("{\"error\":{\"type\":\"invalid_request_error\"}}");
      case RESET_BEFORE_HEADERS -> b.onResponseStart(new SocketEffect.CloseSocket());
      case RESET_MID_BODY -> b.addHeader("content-type", stream ? "text/event-stream" : "application/json")
          .body(stream ? SSE : CHAT).onResponseBody(new SocketEffect.CloseSocket());
      case TRUNCATED_OR_MALFORMED -> b.addHeader("content-type", stream ? "text/event-stream" : "application/json")
          .body(stream ? SSE_CUT : CHAT.substring(0, CHAT.length() / 3));
      case SLOW_HEADERS -> b.headersDelay(2, TimeUnit.SECONDS).body(CHAT);
      default -> throw new AssertionError(f);
    }
    return b.build();
  }

  @AfterAll
  static void summary() {
    System.out.println("StressTest: " + TOTAL_CALLS + " calls, " + TOTAL_ATTEMPTS + " attempts, " + TOTAL_RECORDS
        + " usage records over " + Strategy.values().length + " strategies: every call answered, every record"
        + " accounted for once, nothing in flight, nothing leaked");
  }

  @ParameterizedTest
  @EnumSource(Strategy.class)
  void nothingIsLostUnderConcurrentFaults(Strategy strategy) throws Exception {
    System.out.println("StressTest seed " + SEED + " (-Dstress.seed=" + SEED + "): " + THREADS + " threads x "
        + REQUESTS / THREADS + " requests, strategy " + strategy);
    FakeTicker ticker = new FakeTicker();
    ConcurrentLinkedQueue<TokenUsage> all = new ConcurrentLinkedQueue<>();
    ConcurrentLinkedQueue<TokenUsage> orphans = new ConcurrentLinkedQueue<>();
    ConcurrentLinkedQueue<Ctx> done = new ConcurrentLinkedQueue<>();
    Map<Fault, AtomicInteger> injected = new EnumMap<>(Fault.class);
    for (Fault f : Fault.values()) {
      injected.put(f, new AtomicInteger());
    }
    try (Upstreams up = new Upstreams(); Leaks leaks = new Leaks()) {
      List<MockWebServer> servers = new ArrayList<>();
      for (int i = 0; i < 4; i++) {
        Random r = new Random(SEED + i);
        servers.add(up.start(req -> {
          Fault f;
          synchronized (r) {
            f = Fault.pick(r);
          }
          injected.get(f).incrementAndGet();
          return answer(f, req.getBody() != null && req.getBody().utf8().contains("\"stream\":true"));
        }));
      }
      ProviderPool pool = ProviderPool.builder().strategy(strategy).ticker(ticker)
          .eviction(EvictionPolicy.builder().baseDuration(Duration.ofMillis(50)).maxDuration(Duration.ofMillis(500))
              .build())
          .tier(provider("p0", servers.get(0), 3), provider("p1", servers.get(1), 2), provider("p2", servers.get(2), 1))
          .tier(provider("p3", servers.get(3), 1))
          .onUsage(u -> {
            all.add(u);
            Ctx c = CURRENT.get();
            if (c == null) {
              orphans.add(u);
            } else {
              c.records.add(u);
            }
          })
          .build();
      // Placed after the pool's interceptor: runs once per attempt, on the caller's thread.
      Interceptor attempts = chain -> {
        Ctx c = CURRENT.get();
        int n = c.attempts.incrementAndGet();
        try {
          Response r = chain.proceed(chain.request());
          c.responded.add(n);
          return r;
        } catch (IOException | RuntimeException e) {
          c.failedBefore.add(n);
          throw e;
        }
      };
      // Every 97th request also reconfigures the pool under load: new weights, and p2 moving between tiers.
      List<Provider> ps = new ArrayList<>();
      for (int i = 0; i < 4; i++) {
        ps.add(provider("p" + i, servers.get(i), 1));
      }
      AtomicInteger updates = new AtomicInteger();
      Runnable reconfigure = () -> {
        int u = updates.incrementAndGet();
        int w = 1 + (u % 5);
        List<List<Provider>> tiers = u % 4 == 0
            ? List.of(List.of(ps.get(0).withWeight(w), ps.get(1).withWeight(6 - w)), List.of(ps.get(2), ps.get(3)))
            : List.of(List.of(ps.get(0).withWeight(w), ps.get(1).withWeight(6 - w), ps.get(2).withWeight(1 + u % 2)),
                List.of(ps.get(3)));
        pool.update(tiers);
      };
      OkHttpClient client = up.client(pool).newBuilder().addInterceptor(attempts)
          .readTimeout(500, TimeUnit.MILLISECONDS).build();

      ExecutorService workers = Executors.newFixedThreadPool(THREADS);
      AtomicInteger ids = new AtomicInteger();
      AtomicLong calls = new AtomicLong();
      long started = System.nanoTime();
      List<Future<?>> futures = new ArrayList<>();
      for (int t = 0; t < THREADS; t++) {
        Random r = new Random(SEED * 31 + t);
        futures.add(workers.submit(() -> {
          for (int i = 0; i < REQUESTS / THREADS; i++) {
            calls.incrementAndGet();
            int id = ids.incrementAndGet();
            if (id % 97 == 0) {
              reconfigure.run();
            }
            done.add(one(client, pool, ticker, r, id));
          }
          return null;
        }));
      }
      long deadline = started + CAP.toNanos();
      try {
        for (Future<?> f : futures) {
          f.get(Math.max(1, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
        }
      } catch (TimeoutException e) {
        String dump = threadDump();
        workers.shutdownNow();
        fail("stress run exceeded " + CAP + " with " + done.size() + " of " + calls + " calls done; threads:\n" + dump);
      } finally {
        workers.shutdownNow();
      }
      long elapsedMs = (System.nanoTime() - started) / 1_000_000;

      // Every call ended: a response or an exception.
      int total = THREADS * (REQUESTS / THREADS);
      assertEquals(total, calls.get());
      assertEquals(total, done.size());
      long responses = done.stream().filter(c -> c.thrown == null).count();
      long exceptions = done.stream().filter(c -> c.thrown != null).count();
      assertEquals(total, responses + exceptions);
      assertEquals(List.of(), List.copyOf(orphans), "usage records delivered off the caller's thread");

      // Every attempt that got a response has exactly one record; no other attempt has any.
      long attemptsSeen = 0;
      long failedBefore = 0;
      Map<TokenUsage.End, Integer> ends = new TreeMap<>();
      for (Ctx c : done) {
        attemptsSeen += c.attempts.get();
        failedBefore += c.failedBefore.size();
        List<Integer> recordAttempts = c.records.stream().map(TokenUsage::attempt).sorted().toList();
        assertEquals(List.copyOf(c.responded), recordAttempts, c::toString);
        assertEquals(c.attempts.get(), c.responded.size() + c.failedBefore.size(), c::toString);
        for (TokenUsage u : c.records) {
          ends.merge(u.end(), 1, Integer::sum);
          boolean returned = c.thrown == null && u.attempt() == c.attempts.get();
          if (returned) {
            assertNotEquals(TokenUsage.End.DISCARDED, u.end(), c::toString);
            assertEquals(c.status, u.status(), c::toString);
          } else {
            assertEquals(TokenUsage.End.DISCARDED, u.end(), c::toString);
          }
        }
        if (c.thrown == null) {
          assertTrue(c.responded.contains(c.attempts.get()), c::toString);
        }
      }
      long requests = pool.snapshot().providers().stream().mapToLong(ProviderSnapshot::requests).sum();
      assertEquals(requests, attemptsSeen, "attempts seen by the interceptor vs requests() of the providers");
      assertEquals(requests - failedBefore, all.size(), "records vs attempts that got a response");

      // Counters.
      Map<String, Long> tokens = new HashMap<>();
      for (TokenUsage u : all) {
        if (u.reported()) {
          tokens.merge(u.provider(), u.totalTokens(), Long::sum);
        }
      }
      for (ProviderSnapshot p : pool.snapshot().providers()) {
        assertEquals(0, p.inFlight(), p.name());
        assertEquals(p.requests(), p.successes() + p.failures() + p.clientErrors(), p::toString);
        assertEquals(tokens.getOrDefault(p.name(), 0L), p.totalTokens(), p.name());
      }

      // Nothing left open.
      assertEquals(0, Leaks.inUse(client.connectionPool()), "connections still carrying a call");
      leaks.detect(client.connectionPool(), 2);
      assertEquals(List.of(), leaks.seenFor(servers.stream().map(MockWebServer::getPort).toList()));

      TOTAL_CALLS.addAndGet(total);
      TOTAL_ATTEMPTS.addAndGet(attemptsSeen);
      TOTAL_RECORDS.addAndGet(all.size());
      System.out.printf("StressTest %s: %d calls in %d ms (%d responses, %d exceptions), %d attempts (%d failed before a"
              + " response), %d usage records %s, %d reconfigurations, faults injected %s, nothing lost%n", strategy,
          total, elapsedMs, responses, exceptions, attemptsSeen, failedBefore, all.size(), ends, updates.get(), injected);
    }
  }

  private static Provider provider(String name, MockWebServer s, int weight) {
    return Provider.builder(name).baseUrl(Upstreams.baseUrl(s)).apiKey("sk-" + name).weight(weight).build();
  }

  /** One logical request, read one of four ways. */
  private static Ctx one(OkHttpClient client, ProviderPool pool, FakeTicker ticker, Random r, int id) {
    Ctx c = new Ctx(id);
    CURRENT.set(c);
    try {
      ticker.advance(Duration.ofMillis(1));
      boolean stream = r.nextBoolean();
      Request req = Upstreams.post(pool, "chat/completions", stream
          ? "{\"model\":\"gpt-4o-mini\",\"stream\":true,\"messages\":[]}" : Upstreams.CHAT);
      int mode = r.nextInt(100);
      Call call = client.newCall(req);
      try (Response resp = call.execute()) {
        c.status = resp.code();
        BufferedSource src = resp.body().source();
        try {
          if (mode < 80) {
            src.readByteArray(); // all of it
          } else if (mode < 90) {
            src.read(new Buffer(), 1 + r.nextInt(64)); // some, then close
          } else if (mode < 97) {
            // none: close at once
          } else {
            src.read(new Buffer(), 1);
            call.cancel();
            src.readByteArray();
          }
        } catch (IOException e) {
          c.readError = e;
        }
      } catch (IOException e) {
        c.thrown = e;
      }
      return c;
    } finally {
      CURRENT.remove();
    }
  }

  static String threadDump() {
    StringBuilder sb = new StringBuilder();
    for (Map.Entry<Thread, StackTraceElement[]> e : Thread.getAllStackTraces().entrySet()) {
      sb.append('"').append(e.getKey().getName()).append("\" ").append(e.getKey().getState()).append('\n');
      for (StackTraceElement s : e.getValue()) {
        sb.append("    at ").append(s).append('\n');
      }
    }
    return sb.toString();
  }
}
