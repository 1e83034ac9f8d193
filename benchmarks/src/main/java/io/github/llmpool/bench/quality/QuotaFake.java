package io.github.llmpool.bench.quality;

import io.github.llmpool.bench.NoDelay;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.net.InetAddress;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;
import mockwebserver3.Dispatcher;
import mockwebserver3.MockResponse;
import mockwebserver3.MockResponseBody;
import mockwebserver3.MockWebServer;
import mockwebserver3.RecordedRequest;
import okio.BufferedSink;

/**
 * A fake OpenAI-compatible provider on loopback that ENFORCES its rate limits like the hosted APIs:
 * requests per minute and (optionally) tokens per minute, each a token bucket or a fixed window
 * ({@link QuotaLimit}). A request's token cost at admission is the prompt estimate (request body
 * characters / 4, the way OpenAI's limiter estimates before tokenizing) plus its {@code max_tokens};
 * when the answer ends, the reservation is settled to the real usage (the difference given back).
 * Over a limit the answer is a 429 with {@code retry-after} (the time until the request would fit).
 * Every response, success or 429, carries the provider's {@link Dialect} of rate-limit headers,
 * computed when the request was admitted or refused.
 *
 * <p>Answers are generated in parallel (a hosted API: no queue), in world time read from the shared
 * {@link ScaledTicker}: {@code ttftMs} to the first token, then {@code perTokenMs} per token. The
 * answer's real length and prompt size come from the request headers {@value #ANSWER_HEADER} and
 * {@value #PROMPT_HEADER} (properties of the request, so every contender sees the same work); the
 * reported usage is {@code prompt_tokens} + {@code completion_tokens} of those. Thread-safe.
 */
final class QuotaFake implements AutoCloseable {
  static final String ANSWER_HEADER = "x-fake-answer-tokens";
  static final String PROMPT_HEADER = "x-fake-prompt-tokens";
  /** World time of a 429 answer. */
  static final long ERROR_NANOS = 20_000_000L;
  /** World time between two stream chunks, at least (keeps the machine's work per stream small). */
  static final long CHUNK_GAP_NANOS = 100_000_000L;

  final String name;
  final Dialect dialect;
  final double ttftMs;
  final double perTokenMs;
  private final ScaledTicker ticker;
  private final QuotaLimit requests;
  private final QuotaLimit tokens; // null: no token limit
  private final MockWebServer server;
  private final Object lock = new Object();

  final LongAdder received = new LongAdder();
  final LongAdder ok = new LongAdder();
  final LongAdder limited = new LongAdder();
  final LongAdder limitedByTokens = new LongAdder();
  /** World times of every 429. */
  final FakeProvider.LongList limitedAt = new FakeProvider.LongList();
  /** World times of every request received (admitted or not): what the callers sent (the fleet experiment). */
  final FakeProvider.LongList receivedAt = new FakeProvider.LongList();
  /** World times of every request admitted. */
  final FakeProvider.LongList admittedAt = new FakeProvider.LongList();
  /** World times at which each 429's {@code retry-after} told the caller to come back. */
  final FakeProvider.LongList retryTargets = new FakeProvider.LongList();

  QuotaFake(String name, ScaledTicker ticker, QuotaLimit requests, QuotaLimit tokens, Dialect dialect, double ttftMs,
      double perTokenMs) throws IOException {
    this.name = name;
    this.ticker = ticker;
    this.requests = requests;
    this.tokens = tokens;
    this.dialect = dialect;
    this.ttftMs = ttftMs;
    this.perTokenMs = perTokenMs;
    this.server = new MockWebServer();
    server.setServerSocketFactory(NoDelay.server());
    server.setDispatcher(new Answerer());
    server.start(InetAddress.getByName("127.0.0.1"), 0);
  }

  String baseUrl() {
    return "http://127.0.0.1:" + server.getPort() + "/v1";
  }

  long requestLimit() {
    return requests.limit;
  }

  long tokenLimit() {
    return tokens == null ? -1 : tokens.limit;
  }

  QuotaLimit.Kind kind() {
    return requests.kind;
  }

  /** The admission cost of a request body: characters / 4 (rounded up) plus {@code max_tokens}. */
  static long admissionCost(String body) {
    return (body.length() + 3) / 4 + Math.max(0, FakeProvider.intField(body, "\"max_tokens\":", 0));
  }

  /** Requests and tokens left now (tokens -1 without a token limit), for traces. */
  long[] remaining() {
    long now = ticker.read();
    synchronized (lock) {
      return new long[] {requests.remaining(now), tokens == null ? -1 : tokens.remaining(now)};
    }
  }

  /** Whether the provider could admit one request of {@code cost} tokens right now. */
  boolean hasRoom(long cost) {
    long now = ticker.read();
    synchronized (lock) {
      return requests.fits(now, 1) && (tokens == null || tokens.fits(now, cost));
    }
  }

  /** Drops the server's log of recorded requests (MockWebServer keeps every one). */
  void drain() {
    try {
      while (server.takeRequest(0, TimeUnit.NANOSECONDS) != null) {
        // dropped
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  @Override
  public void close() {
    server.close();
  }

  private Dialect.State state(long now) {
    return new Dialect.State(requests.limit, requests.remaining(now), requests.resetNanos(now),
        tokens == null ? -1 : tokens.limit, tokens == null ? -1 : tokens.remaining(now),
        tokens == null ? -1 : tokens.resetNanos(now));
  }

  private final class Answerer extends Dispatcher {
    @Override
    public MockResponse dispatch(RecordedRequest request) throws InterruptedException {
      long now = ticker.read();
      received.increment();
      receivedAt.add(now);
      String body = request.getBody() == null ? "" : request.getBody().utf8();
      boolean stream = body.contains("\"stream\":true");
      int maxTokens = Math.max(1, FakeProvider.intField(body, "\"max_tokens\":", 64));
      int answer = headerInt(request, ANSWER_HEADER, maxTokens);
      int prompt = headerInt(request, PROMPT_HEADER, (body.length() + 3) / 4);
      long cost = admissionCost(body);
      Dialect.State st;
      long reqWindow;
      long tokWindow = 0;
      boolean admitted;
      boolean byTokens = false;
      long wait = 0;
      synchronized (lock) {
        boolean reqOk = requests.fits(now, 1);
        boolean tokOk = tokens == null || tokens.fits(now, cost);
        admitted = reqOk && tokOk;
        if (admitted) {
          reqWindow = requests.take(now, 1);
          if (tokens != null) {
            tokWindow = tokens.take(now, cost);
          }
        } else {
          reqWindow = 0;
          byTokens = reqOk;
          if (!reqOk) {
            wait = requests.waitNanos(now, 1);
          }
          if (!tokOk) {
            wait = Math.max(wait, tokens.waitNanos(now, cost));
          }
        }
        st = state(now);
      }
      if (admitted) {
        admittedAt.add(now);
      }
      long wall = ticker.wallMillis();
      if (!admitted) {
        limited.increment();
        if (byTokens) {
          limitedByTokens.increment();
        }
        limitedAt.add(now);
        long waitWhole = Math.max(1, (wait + 999_999_999L) / 1_000_000_000L) * 1_000_000_000L;
        retryTargets.add(now + waitWhole);
        FakeProvider.sleepUntil(ticker.loopbackAt(now + ERROR_NANOS));
        MockResponse.Builder r = new MockResponse.Builder().code(429).setHeader("Content-Type", "application/json")
            .body(dialect.rateLimitBody(byTokens));
        dialect.retryAfter(r, wait);
        dialect.headers(r, st, wall);
        return r.build();
      }
      long ttft = (long) (ttftMs * 1e6);
      long perToken = (long) (perTokenMs * 1e6);
      long firstAt = now + ttft;
      long endAt = firstAt + answer * perToken;
      long used = prompt + answer;
      long refund = cost - used;
      long tw = tokWindow;
      Runnable settle = () -> {
        if (tokens != null) {
          synchronized (lock) {
            tokens.refund(ticker.read(), refund, tw);
          }
        }
        ok.increment();
      };
      MockResponse.Builder r = new MockResponse.Builder().code(200);
      dialect.headers(r, st, wall);
      if (!stream) {
        FakeProvider.sleepUntil(ticker.loopbackAt(endAt));
        settle.run();
        return r.setHeader("Content-Type", "application/json").body(completion(answer, prompt)).build();
      }
      FakeProvider.sleepUntil(ticker.loopbackAt(firstAt));
      return r.setHeader("Content-Type", "text/event-stream").setHeader("Transfer-Encoding", "chunked")
          .body(new SseBody(answer, prompt, firstAt, perToken, settle)).build();
    }
  }

  private static int headerInt(RecordedRequest request, String name, int dflt) {
    String v = request.getHeaders().get(name);
    if (v == null) {
      return dflt;
    }
    try {
      return Integer.parseInt(v.trim());
    } catch (NumberFormatException e) {
      return dflt;
    }
  }

  static String usage(int answer, int prompt) {
    return "{\"prompt_tokens\":" + prompt + ",\"completion_tokens\":" + answer + ",\"total_tokens\":" + (prompt + answer)
        + "}";
  }

  static String completion(int answer, int prompt) {
    StringBuilder sb = new StringBuilder(256 + answer * 4);
    sb.append("{\"id\":\"chatcmpl-q\",\"object\":\"chat.completion\",\"model\":\"fake-model\",")
        .append("\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\",\"content\":\"");
    for (int i = 0; i < answer; i++) {
      sb.append("tok ");
    }
    return sb.append("\"},\"finish_reason\":\"stop\"}],\"usage\":").append(usage(answer, prompt)).append("}").toString();
  }

  /** Server-sent events in world time, settled after the usage event; chunked by hand. */
  private final class SseBody implements MockResponseBody {
    private final int answer;
    private final int prompt;
    private final long firstAt;
    private final long perToken;
    private final Runnable settle;

    SseBody(int answer, int prompt, long firstAt, long perToken, Runnable settle) {
      this.answer = answer;
      this.prompt = prompt;
      this.firstAt = firstAt;
      this.perToken = perToken;
      this.settle = settle;
    }

    @Override
    public long getContentLength() {
      return -1;
    }

    @Override
    public void writeTo(BufferedSink sink) throws IOException {
      int sent = 0;
      long gap = CHUNK_GAP_NANOS;
      try {
        while (sent < answer) {
          long now = ticker.read();
          int ready = perToken <= 0 ? answer : (int) Math.min(answer, 1 + Math.max(0, (now - firstAt) / perToken));
          if (ready > sent) {
            Chunks.write(sink, Chunks.delta(ready - sent, sent == 0));
            sink.flush();
            sent = ready;
          }
          if (sent < answer) {
            FakeProvider.sleepUntil(ticker.loopbackAt(Math.max(firstAt + sent * perToken, now + gap)));
          }
        }
        settle.run();
        Chunks.write(sink, "data: {\"id\":\"chatcmpl-q\",\"object\":\"chat.completion.chunk\",\"model\":\"fake-model\","
            + "\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}]}\n\n"
            + "data: {\"id\":\"chatcmpl-q\",\"object\":\"chat.completion.chunk\",\"model\":\"fake-model\","
            + "\"choices\":[],\"usage\":" + usage(answer, prompt) + "}\n\n");
        Chunks.write(sink, "data: [DONE]\n\n");
        sink.writeUtf8("0\r\n");
        sink.flush();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new InterruptedIOException("interrupted");
      }
    }
  }
}
