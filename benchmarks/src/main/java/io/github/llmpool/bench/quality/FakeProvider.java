package io.github.llmpool.bench.quality;

import io.github.llmpool.bench.NoDelay;
import java.io.IOException;
import java.net.InetAddress;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.LockSupport;
import mockwebserver3.Dispatcher;
import mockwebserver3.MockResponse;
import mockwebserver3.MockResponseBody;
import mockwebserver3.MockWebServer;
import mockwebserver3.RecordedRequest;
import mockwebserver3.SocketEffect;
import okio.BufferedSink;

/**
 * A fake OpenAI-compatible provider on loopback: a {@link MockWebServer} whose dispatcher answers
 * {@code POST /v1/chat/completions} following a {@link Behavior} timeline. The answer length is the
 * request's {@code max_tokens} (a property of the request, so every strategy sees the same work).
 * Streams are real server-sent events written over time: the first chunk at the time to first
 * token, then a chunk whenever tokens are ready (at most one every {@link #MIN_CHUNK_GAP_NANOS}),
 * then a usage chunk and {@code [DONE]}. With a capacity, answers are admitted FIFO to the first
 * free generation slot, so a queue adds to the time to first token.
 *
 * <p>Connection refused is real: the server leaves its port ({@link #down()}) and comes back on
 * the same port ({@link #up()}). Thread-safe.
 */
final class FakeProvider implements AutoCloseable {
  static final long MIN_CHUNK_GAP_NANOS = 3_000_000;

  final String name;
  private final World world;
  private final Behavior base;
  private final List<Behavior.Phase> phases;
  private final int port;
  private final Answerer answerer = new Answerer();
  private MockWebServer server; // guarded by this
  private volatile long t0 = System.nanoTime();
  private SplittableRandom random; // guarded by answerer
  private long[] slotFree = new long[0]; // guarded by answerer

  final LongAdder received = new LongAdder();
  final LongAdder ok = new LongAdder();
  final LongAdder rateLimited = new LongAdder();
  final LongAdder serverErrors = new LongAdder();
  final LongAdder resets = new LongAdder();
  final LongAdder cuts = new LongAdder();
  private final LongList receivedAt = new LongList();

  FakeProvider(String name, World world, Behavior base, List<Behavior.Phase> phases) throws IOException {
    this.name = name;
    this.world = world;
    this.base = base;
    this.phases = List.copyOf(phases);
    this.server = start(0);
    this.port = server.getPort();
  }

  private MockWebServer start(int port) throws IOException {
    MockWebServer s = new MockWebServer();
    s.setServerSocketFactory(NoDelay.server());
    s.setDispatcher(answerer);
    s.start(InetAddress.getByName("127.0.0.1"), port);
    return s;
  }

  String baseUrl() {
    return "http://127.0.0.1:" + port + "/v1";
  }

  List<Behavior.Phase> phases() {
    return phases;
  }

  /** Starts a new run at {@code t0}: counters, queue and random draws reset; the server up. */
  void reset(long t0, long seed) throws IOException {
    synchronized (answerer) {
      this.random = new SplittableRandom(seed);
      this.slotFree = new long[Math.max(0, base.capacity())];
    }
    received.reset();
    ok.reset();
    rateLimited.reset();
    serverErrors.reset();
    resets.reset();
    cuts.reset();
    receivedAt.clear();
    this.t0 = t0;
    up();
    drain();
  }

  /** Server-side arrival times (loopback nanos since the run's start) of every request received. */
  long[] receivedAt() {
    return receivedAt.toArray();
  }

  Behavior behaviorAt(long now) {
    double sec = world.worldSeconds(now - t0);
    for (Behavior.Phase p : phases) {
      if (sec >= p.fromSec() && sec < p.toSec()) {
        return p.behavior();
      }
    }
    return base;
  }

  /** Takes the server off its port: new connections are refused, open ones are closed. */
  synchronized void down() {
    if (server != null) {
      server.close();
      server = null;
    }
  }

  /** Puts the server back on its port. */
  synchronized void up() throws IOException {
    if (server == null) {
      IOException last = null;
      for (int i = 0; i < 50; i++) {
        try {
          server = start(port);
          return;
        } catch (IOException e) {
          last = e;
          LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(10));
        }
      }
      throw last;
    }
  }

  synchronized boolean isUp() {
    return server != null;
  }

  /** Drops the server's log of recorded requests (MockWebServer keeps every one). */
  synchronized void drain() {
    if (server == null) {
      return;
    }
    try {
      while (server.takeRequest(0, TimeUnit.NANOSECONDS) != null) {
        // dropped
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  @Override
  public synchronized void close() {
    down();
  }

  // ------------------------------------------------------------------ answering

  private final class Answerer extends Dispatcher {
    @Override
    public MockResponse dispatch(RecordedRequest request) throws InterruptedException {
      long now = System.nanoTime();
      received.increment();
      receivedAt.add(now - t0);
      Behavior b = behaviorAt(now);
      String body = request.getBody() == null ? "" : request.getBody().utf8();
      boolean stream = body.contains("\"stream\":true");
      int tokens = Math.max(1, intField(body, "\"max_tokens\":", 64));
      double roll;
      synchronized (this) {
        roll = random == null ? 1 : random.nextDouble();
      }
      if (b.quota()) {
        rateLimited.increment();
        sleepUntil(now + world.nanos(Behavior.ERROR_MS));
        return new MockResponse.Builder().code(429).setHeader("Content-Type", "application/json")
            .body("{\"error\":{\"message\":\"You exceeded your current quota.\",\"type\":\"insufficient_quota\","
                + "\"param\":null,\"code\":\"insufficient_quota\"}}")
            .build();
      }
      if (roll < b.p429()) {
        rateLimited.increment();
        sleepUntil(now + world.nanos(Behavior.ERROR_MS));
        MockResponse.Builder r = new MockResponse.Builder().code(429).setHeader("Content-Type", "application/json")
            .body("{\"error\":{\"message\":\"Rate limit reached\",\"type\":\"requests\",\"code\":\"rate_limit_exceeded\"}}");
        if (b.retryAfterSec() >= 0) {
          // Scaled to loopback time; decimal seconds are valid for the pool's parser.
          r.setHeader("Retry-After", String.format(java.util.Locale.ROOT, "%.3f", b.retryAfterSec() / world.scale()));
        }
        return r.build();
      }
      roll -= b.p429();
      if (roll < b.p503()) {
        serverErrors.increment();
        sleepUntil(now + world.nanos(Behavior.ERROR_MS));
        return new MockResponse.Builder().code(503).setHeader("Content-Type", "application/json")
            .body("{\"error\":{\"message\":\"The server is overloaded\",\"type\":\"server_error\"}}").build();
      }
      roll -= b.p503();
      if (roll < b.pReset()) {
        resets.increment();
        return new MockResponse.Builder().onResponseStart(new SocketEffect.CloseSocket(true, false, false)).build();
      }
      roll -= b.pReset();
      boolean cut = stream && roll < b.pCut();

      long ttft = world.nanos(b.ttftMs());
      long perToken = world.nanos(b.perTokenMs());
      long start = admit(now, ttft + tokens * perToken, b.capacity());
      if (!stream) {
        sleepUntil(start + ttft + tokens * perToken);
        ok.increment();
        return new MockResponse.Builder().code(200).setHeader("Content-Type", "application/json")
            .body(Chunks.completion(tokens)).build();
      }
      sleepUntil(start + ttft);
      MockResponse.Builder r = new MockResponse.Builder().code(200)
          .setHeader("Content-Type", "text/event-stream")
          .setHeader("Transfer-Encoding", "chunked")
          .body(new SseBody(tokens, start + ttft, perToken, cut ? Math.max(1, tokens / 2) : -1));
      if (cut) {
        cuts.increment();
        r.onResponseEnd(new SocketEffect.CloseSocket(true, false, false));
      } else {
        ok.increment();
      }
      return r.build();
    }
  }

  /** FIFO admission to the first free generation slot; returns when generation starts. */
  private long admit(long now, long service, int capacity) {
    if (capacity <= 0) {
      return now;
    }
    synchronized (answerer) {
      if (slotFree.length != capacity) {
        slotFree = new long[capacity];
      }
      int best = 0;
      for (int i = 1; i < slotFree.length; i++) {
        if (slotFree[i] < slotFree[best]) {
          best = i;
        }
      }
      long start = Math.max(now, slotFree[best]);
      slotFree[best] = start + service;
      return start;
    }
  }

  static void sleepUntil(long deadline) throws InterruptedException {
    for (long left = deadline - System.nanoTime(); left > 0; left = deadline - System.nanoTime()) {
      LockSupport.parkNanos(left);
      if (Thread.interrupted()) {
        throw new InterruptedException();
      }
    }
  }

  static int intField(String body, String key, int dflt) {
    int i = body.indexOf(key);
    if (i < 0) {
      return dflt;
    }
    int p = i + key.length();
    while (p < body.length() && body.charAt(p) == ' ') {
      p++;
    }
    int v = 0;
    boolean any = false;
    while (p < body.length() && Character.isDigit(body.charAt(p))) {
      v = v * 10 + (body.charAt(p++) - '0');
      any = true;
    }
    return any ? v : dflt;
  }

  /**
   * A server-sent-event stream written over time in chunked transfer encoding (written by hand so
   * each event leaves the server when it is due). With {@code cutAt >= 0} it stops after that many
   * tokens without its terminal events or the chunked terminator; the server then closes the
   * socket.
   */
  private static final class SseBody implements MockResponseBody {
    private final int tokens;
    private final long firstAt;
    private final long perToken;
    private final int cutAt;

    SseBody(int tokens, long firstAt, long perToken, int cutAt) {
      this.tokens = tokens;
      this.firstAt = firstAt;
      this.perToken = perToken;
      this.cutAt = cutAt;
    }

    @Override
    public long getContentLength() {
      return -1;
    }

    @Override
    public void writeTo(BufferedSink sink) throws IOException {
      int sent = 0;
      try {
        while (sent < tokens) {
          long now = System.nanoTime();
          int ready = perToken <= 0 ? tokens : (int) Math.min(tokens, 1 + Math.max(0, (now - firstAt) / perToken));
          if (ready > sent) {
            Chunks.write(sink, Chunks.delta(ready - sent, sent == 0));
            sink.flush();
            sent = ready;
          }
          if (cutAt >= 0 && sent >= cutAt) {
            return;
          }
          if (sent < tokens) {
            sleepUntil(Math.max(firstAt + sent * perToken, now + MIN_CHUNK_GAP_NANOS));
          }
        }
        Chunks.write(sink, Chunks.finish(tokens));
        Chunks.write(sink, "data: [DONE]\n\n");
        sink.writeUtf8("0\r\n"); // MockWebServer writes the (empty) trailers and the final CRLF
        sink.flush();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new java.io.InterruptedIOException("interrupted");
      }
    }
  }

  /** A growable array of longs; thread-safe. */
  static final class LongList {
    private long[] a = new long[1024];
    private int n;

    synchronized void add(long v) {
      if (n == a.length) {
        a = java.util.Arrays.copyOf(a, n * 2);
      }
      a[n++] = v;
    }

    synchronized void clear() {
      n = 0;
    }

    synchronized long[] toArray() {
      return java.util.Arrays.copyOf(a, n);
    }
  }
}
