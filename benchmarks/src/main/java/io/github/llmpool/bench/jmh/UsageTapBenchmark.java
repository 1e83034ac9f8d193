package io.github.llmpool.bench.jmh;

import io.github.llmpool.Outcome;
import io.github.llmpool.Provider;
import io.github.llmpool.ProviderPool;
import io.github.llmpool.TokenUsage;
import io.github.llmpool.internal.engine.AttemptLease;
import io.github.llmpool.internal.engine.PoolCore;
import io.github.llmpool.internal.okhttp.UsageTap;
import io.github.llmpool.internal.route.Slot;
import io.github.llmpool.internal.usage.UsageParser;
import io.github.llmpool.internal.usage.UsageResult;
import java.io.IOException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import okhttp3.MediaType;
import okhttp3.ResponseBody;
import okio.Buffer;
import okio.BufferedSource;
import okio.Okio;
import okio.Source;
import okio.Timeout;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The usage tap's cost on a 4 MiB {@code chat.completion.chunk} stream ({@link Fixtures#sseStream},
 * ~17,000 events, usage in the last chunk), in memory, without sockets. One operation reads the
 * whole stream.
 *
 * <ul>
 *   <li>{@code raw}: the caller reads the stream through an 8 KiB array from a response body over
 *       {@code upstream}, which hands over {@code readSize} bytes per read (as a socket would),
 *       copying them into okio segments. This is what a response body costs without the pool.</li>
 *   <li>{@code tapped}: the same body handed to the library's own {@code okhttp.UsageTap} (the
 *       class the interceptor puts around every response, reached on the class path), with a
 *       live {@link AttemptLease} of a one-provider pool: every read is forwarded, the new bytes
 *       are walked with a {@code Buffer.UnsafeCursor} and fed to the SSE usage parser, and the
 *       end of the body finishes the lease (in-flight released, counters, latency sample, one
 *       usage record to the pool's listener).</li>
 *   <li>{@code parserOnly}: {@code UsageParser.accept} over the byte array in {@code readSize}
 *       slices, no I/O: the parser's own throughput.</li>
 * </ul>
 *
 * Throughput is {@code 4 MiB / time per op}; the tap target compares {@code tapped} with
 * {@code raw}. {@code readSize} 8192 is a bulk transfer (full segments); 256 is a live stream
 * whose events arrive one network read at a time.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 5, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"-Xms1g", "-Xmx1g", "-Dorg.slf4j.simpleLogger.defaultLogLevel=warn"})
@State(Scope.Thread)
public class UsageTapBenchmark {
  static final int STREAM_BYTES = 4 << 20;
  private static final MediaType SSE = MediaType.get("text/event-stream; charset=utf-8");

  @Param({"256", "8192"})
  public int readSize;

  private byte[] stream;
  private final byte[] sink = new byte[8192];
  private PoolCore core;
  private Slot slot;
  private final AtomicReference<TokenUsage> last = new AtomicReference<>();

  @Setup(Level.Trial)
  public void setUp() throws IOException {
    stream = Fixtures.sseStream(STREAM_BYTES);
    long want = Fixtures.sseCompletionTokens(stream);
    ProviderPool pool = ProviderPool.builder()
        .tier(Provider.builder("local").baseUrl("http://127.0.0.1:9/v1").apiKey("sk-bench-not-a-secret").build())
        .onUsage(last::set)
        .build();
    core = Fleet.core(pool);
    slot = core.router().slots()[0];
    if (tapped() != stream.length) {
      throw new IllegalStateException("the tap read a short body");
    }
    TokenUsage u = last.get();
    if (u == null || !u.reported() || !u.streamed() || u.tokens().completion() != want
        || u.end() != TokenUsage.End.COMPLETE) {
      throw new IllegalStateException("tap did not extract usage: " + u);
    }
    if (slot.state.inFlight() != 0) {
      throw new IllegalStateException("the lease was not released");
    }
    UsageResult r = parserOnly();
    if (!r.reported() || r.completionTokens() != want) {
      throw new IllegalStateException("parser did not extract usage: " + r);
    }
    if (raw() != stream.length) {
      throw new IllegalStateException("raw read is short");
    }
  }

  /** An upstream that hands over at most {@code chunk} bytes per read, like a socket. */
  static final class ArraySource implements Source {
    private final byte[] data;
    private final int chunk;
    private int pos;

    ArraySource(byte[] data, int chunk) {
      this.data = data;
      this.chunk = chunk;
    }

    @Override
    public long read(Buffer sink, long byteCount) {
      if (pos >= data.length) {
        return -1;
      }
      int n = (int) Math.min(Math.min(chunk, byteCount), data.length - pos);
      sink.write(data, pos, n);
      pos += n;
      return n;
    }

    @Override
    public Timeout timeout() {
      return Timeout.NONE;
    }

    @Override
    public void close() {}
  }

  /** A response body over the upstream, as OkHttp hands one up (a buffered source). */
  private ResponseBody body() {
    return ResponseBody.create(Okio.buffer(new ArraySource(stream, readSize)), SSE, -1);
  }

  private long drain(BufferedSource source) throws IOException {
    long total = 0;
    for (int n; (n = source.read(sink)) != -1; ) {
      total += n;
    }
    return total;
  }

  @Benchmark
  public long raw() throws IOException {
    try (ResponseBody body = body()) {
      return drain(body.source());
    }
  }

  /** The real tap: dispatch an attempt, read its body through {@code UsageTap}, finish at the end. */
  @Benchmark
  public long tapped() throws IOException {
    long now = core.now();
    AttemptLease lease = AttemptLease.dispatch(core, slot, 1, false, now, "gpt-4o-mini", false);
    lease.answered(now, 200, Outcome.SUCCESS, -1);
    try (ResponseBody body = UsageTap.tap(body(), lease, null)) {
      return drain(body.source());
    }
  }

  @Benchmark
  public UsageResult parserOnly() {
    UsageParser p = UsageParser.sse();
    byte[] s = stream;
    for (int off = 0; off < s.length; off += readSize) {
      p.accept(s, off, Math.min(readSize, s.length - off));
    }
    return p.result();
  }
}
