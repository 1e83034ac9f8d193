package io.github.llmpool.bench.jmh;

import io.github.llmpool.internal.usage.UsageParser;
import io.github.llmpool.internal.usage.UsageResult;
import java.io.IOException;
import java.util.concurrent.TimeUnit;
import okio.Buffer;
import okio.BufferedSource;
import okio.ForwardingSource;
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
 *   <li>{@code raw}: the caller reads the stream through an 8 KiB array from
 *       {@code Okio.buffer(upstream)}, where {@code upstream} hands over {@code readSize} bytes per
 *       read (as a socket would), copying them into okio segments. This is what a response body
 *       costs without the pool.</li>
 *   <li>{@code tapped}: the same, with {@link TapSource} between the two: after each upstream read
 *       it walks the new bytes with a {@code Buffer.UnsafeCursor} and feeds them to
 *       {@link UsageParser#sse()}, exactly as {@code okhttp.UsageTap.TapSource} does (that class
 *       is package-private and needs a live attempt lease, so its read path is reproduced here
 *       line for line).</li>
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
@Fork(value = 1, jvmArgsAppend = {"-Xms1g", "-Xmx1g"})
@State(Scope.Thread)
public class UsageTapBenchmark {
  static final int STREAM_BYTES = 4 << 20;

  @Param({"256", "8192"})
  public int readSize;

  private byte[] stream;
  private final byte[] sink = new byte[8192];

  @Setup(Level.Trial)
  public void setUp() throws IOException {
    stream = Fixtures.sseStream(STREAM_BYTES);
    long want = Fixtures.sseCompletionTokens(stream);
    UsageResult r = (UsageResult) tapped();
    if (!r.reported() || !r.terminated() || r.completionTokens() != want || r.malformed()) {
      throw new IllegalStateException("tap did not extract usage: " + r);
    }
    r = parserOnly();
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

  /** {@code UsageTap.TapSource}'s read path: forward the read, then feed the new bytes to the parser. */
  static final class TapSource extends ForwardingSource {
    private final Buffer.UnsafeCursor cursor = new Buffer.UnsafeCursor();
    final UsageParser parser;
    long ttftAt = -1;

    TapSource(Source delegate, UsageParser parser) {
      super(delegate);
      this.parser = parser;
    }

    @Override
    public long read(Buffer sink, long byteCount) throws IOException {
      long n = super.read(sink, byteCount);
      if (n > 0) {
        feed(sink, sink.size() - n, n);
      }
      return n;
    }

    private void feed(Buffer sink, long from, long count) {
      sink.readUnsafe(cursor);
      try {
        long left = count;
        cursor.seek(from);
        while (left > 0 && cursor.data != null) {
          int len = (int) Math.min(left, cursor.end - cursor.start);
          parser.accept(cursor.data, cursor.start, len);
          left -= len;
          if (left > 0 && cursor.next() == -1) {
            break;
          }
        }
      } finally {
        cursor.close();
      }
      if (ttftAt < 0 && parser.firstTokenSeen()) {
        ttftAt = System.nanoTime();
      }
    }
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
    try (BufferedSource source = Okio.buffer(new ArraySource(stream, readSize))) {
      return drain(source);
    }
  }

  @Benchmark
  public Object tapped() throws IOException {
    TapSource tap = new TapSource(new ArraySource(stream, readSize), UsageParser.sse());
    try (BufferedSource source = Okio.buffer(tap)) {
      drain(source);
    }
    return tap.parser.result();
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
