package io.github.llmpool.internal.okhttp;

import io.github.llmpool.Outcome;
import io.github.llmpool.TokenUsage;
import io.github.llmpool.TruncatedStreamException;
import io.github.llmpool.internal.engine.AttemptLease;
import io.github.llmpool.internal.engine.Secrets;
import io.github.llmpool.internal.usage.UsageParser;
import io.github.llmpool.internal.usage.UsageResult;
import java.io.IOException;
import okhttp3.Call;
import okhttp3.MediaType;
import okhttp3.ResponseBody;
import okio.Buffer;
import okio.BufferedSource;
import okio.ForwardingSource;
import okio.Okio;
import okio.Source;

/**
 * A response body that passes every byte to the caller unchanged while a {@link UsageParser} reads
 * the same bytes (JSON or server-sent events) for token usage. When the body ends, is closed, or
 * fails, exactly once, it finishes the attempt's {@link AttemptLease}: in-flight released, counters
 * and latency updated (a stream's latency sample is taken earlier, at its first token: {@link
 * AttemptLease#firstToken}), one {@link TokenUsage} delivered. A stream that ends without its terminal
 * event is reported as truncated and, when the pool is so configured (the default), read fails
 * with {@link TruncatedStreamException} instead of returning a clean end of stream.
 *
 * <p>Read and close failures of the upstream body carry no configured credential: OkHttp quotes
 * what the upstream sent in some of them (a malformed chunk header, for one), so a failure whose
 * text holds a value is replaced by its {@linkplain Secrets#redact(IOException) redacted copy}
 * before the tap looks at it or hands it on; any other failure, and every byte, passes as is.
 * (This was a body layer of its own under the tap; done in the tap's source, each response body
 * is wrapped once, not twice.)
 *
 * <p>The usage result is computed once, when the body ends. Not thread-safe, like any OkHttp
 * response body; the finish is safe against a concurrent close.
 *
 * <p>Public (in a package the module does not export) only so that the benchmarks, which run on
 * the class path, drive this class itself: see {@link #tap(ResponseBody, AttemptLease, Call)}.
 */
public final class UsageTap extends ResponseBody {
  private final ResponseBody delegate;
  private final AttemptLease lease;
  private final Call call;
  private final UsageParser parser;
  private final BufferedSource source;
  private final Secrets secrets;
  /** The body's type, read once (OkHttp's network body parses its header on every call). */
  private final MediaType type;

  private final CallDeadline deadline;
  /** Told when the body ends (null: outside a pooled call). */
  private final DispatcherWatch watch;

  private UsageTap(ResponseBody delegate, AttemptLease lease, Call call, CallDeadline deadline, boolean readable,
      Secrets secrets, DispatcherWatch watch) {
    this.delegate = delegate;
    this.watch = watch;
    this.lease = lease;
    this.call = call;
    this.deadline = deadline;
    this.secrets = secrets;
    MediaType type = delegate.contentType();
    this.type = type;
    this.parser = readable && type != null ? UsageParser.forMediaType(type.type(), type.subtype()) : UsageParser.none();
    if (!parser.isStreaming()) {
      lease.notStreamed(lease.core().now()); // no first token will come to end a stream's wait
    }
    this.source = Okio.buffer(new TapSource(delegate.source()));
  }

  /**
   * The body, tapped: usage parsed as the bytes pass, the attempt finished at its end, read and
   * close failures redacted of {@code secrets}. A body that still carries a
   * {@code Content-Encoding} (OkHttp leaves it compressed when the caller asked for an encoding
   * itself) cannot be read by the tap: its bytes pass untouched and its usage is reported as not
   * reported, never as a truncated stream or a failure of the provider.
   */
  static ResponseBody tap(ResponseBody body, AttemptLease lease, Call call, CallDeadline deadline,
      String contentEncoding, Secrets secrets, DispatcherWatch watch) {
    boolean readable = contentEncoding == null || contentEncoding.isBlank()
        || contentEncoding.trim().equalsIgnoreCase("identity");
    return new UsageTap(body, lease, call, deadline, readable, secrets, watch);
  }

  /**
   * The tap outside a pooled call, for benchmarks and tools on the class path: {@code body} (no
   * {@code Content-Encoding}) read for usage into {@code lease}, failures redacted of the lease's
   * pool's credentials; {@code call} (may be null when the body cannot fail) tells a cancel from a
   * provider failure, the call's timeout counted from now. Not part of the library's API.
   */
  public static ResponseBody tap(ResponseBody body, AttemptLease lease, Call call) {
    return new UsageTap(body, lease, call, new CallDeadline(), true, lease.core().secrets(), null);
  }

  @Override
  public MediaType contentType() {
    return type;
  }

  @Override
  public long contentLength() {
    return delegate.contentLength();
  }

  @Override
  public BufferedSource source() {
    return source;
  }

  private final class TapSource extends ForwardingSource {
    private final Buffer.UnsafeCursor cursor = new Buffer.UnsafeCursor();
    private long ttftAt = -1;
    private boolean finished;
    /** The result the lease was finished with (null before). */
    private UsageResult result;

    TapSource(Source delegate) {
      super(delegate);
    }

    @Override
    public long read(Buffer sink, long byteCount) throws IOException {
      long n;
      try {
        n = super.read(sink, byteCount);
      } catch (IOException e) {
        IOException clean = secrets.redact(e);
        failed(clean);
        throw clean;
      } catch (Throwable e) { // also a checked exception thrown undeclared
        failed(e);
        throw e;
      }
      if (n == -1) {
        // After the finish no byte reaches the parser, so the result kept then is the result now.
        UsageResult r = result != null ? result : parser.result();
        boolean truncated = r.streamed() && !r.terminated();
        finish(r, truncated ? TokenUsage.End.TRUNCATED : TokenUsage.End.COMPLETE, Outcome.CONNECTION_FAILURE);
        if (truncated && lease.core().settings().failOnTruncatedStream()) {
          throw new TruncatedStreamException("stream from provider '" + lease.slot().name()
              + "' ended without its terminal event ([DONE], a finish_reason or response.completed)");
        }
        return -1;
      }
      if (n > 0 && !finished) {
        feed(sink, sink.size() - n, n);
      }
      return n;
    }

    private void feed(Buffer sink, long from, long count) {
      sink.readUnsafe(cursor);
      try {
        long offset = from;
        long left = count;
        cursor.seek(offset);
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
        ttftAt = lease.core().now();
        if (parser.isStreaming()) {
          lease.firstToken(ttftAt); // the stream's latency sample, now rather than at its end
        }
      }
    }

    @Override
    public void close() throws IOException {
      try {
        super.close();
      } catch (IOException e) {
        throw secrets.redact(e);
      } finally {
        // SDKs parse a JSON answer (or a stream up to its terminal event) and close without
        // reading to end of stream: that answer is complete.
        if (!finished) {
          UsageResult r = parser.result();
          finish(r, r.terminated() ? TokenUsage.End.COMPLETE : TokenUsage.End.CLOSED_EARLY, Outcome.CONNECTION_FAILURE);
        }
      }
    }

    /**
     * The read failed. The provider is blamed unless the caller gave up: a cancel or an interrupt is
     * neutral, but OkHttp's own call timeout (which also cancels the call) expiring mid-body is a
     * timeout of the provider, as it is before the headers.
     */
    private void failed(Throwable e) {
      if (finished) {
        return;
      }
      boolean canceled = call != null && call.isCanceled();
      Outcome blame;
      if (canceled && deadline.timedOut(call, e)) {
        blame = Outcome.TIMEOUT;
      } else if (canceled || Thread.currentThread().isInterrupted()) {
        blame = null;
      } else {
        blame = Outcome.CONNECTION_FAILURE;
      }
      finish(parser.result(), TokenUsage.End.FAILED, blame);
    }

    /** Finishes the lease once, with the one result computed for it. */
    private void finish(UsageResult r, TokenUsage.End end, Outcome bodyFailure) {
      if (finished) {
        return;
      }
      finished = true;
      result = r;
      long now = lease.core().now();
      lease.finish(r, end, ttftAt, now, bodyFailure);
      if (watch != null && call != null) {
        watch.check(call, now); // the call still holds its dispatcher slot: calls queued behind it show
      }
    }
  }
}
