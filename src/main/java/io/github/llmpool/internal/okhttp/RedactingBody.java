package io.github.llmpool.internal.okhttp;

import io.github.llmpool.internal.engine.Secrets;
import java.io.IOException;
import okhttp3.MediaType;
import okhttp3.ResponseBody;
import okio.Buffer;
import okio.BufferedSource;
import okio.ForwardingSource;
import okio.Okio;

/**
 * An upstream response body whose read and close failures carry no configured credential: OkHttp
 * quotes what the upstream sent in some of them (a malformed chunk header, for one), so a failure
 * whose text holds a value is replaced by its {@linkplain Secrets#redact(IOException) redacted
 * copy}; any other failure, and every byte, passes as is. It sits under the usage tap, which
 * therefore sees (and hands on) the redacted failure. Not thread-safe, like any response body.
 */
final class RedactingBody extends ResponseBody {
  private final ResponseBody delegate;
  private final Secrets secrets;
  private final BufferedSource source;

  private RedactingBody(ResponseBody delegate, Secrets secrets) {
    this.delegate = delegate;
    this.secrets = secrets;
    this.source = Okio.buffer(new ForwardingSource(delegate.source()) {
      @Override
      public long read(Buffer sink, long byteCount) throws IOException {
        try {
          return super.read(sink, byteCount);
        } catch (IOException e) {
          throw RedactingBody.this.secrets.redact(e);
        }
      }

      @Override
      public void close() throws IOException {
        try {
          super.close();
        } catch (IOException e) {
          throw RedactingBody.this.secrets.redact(e);
        }
      }
    });
  }

  /** {@code body}, redacting its failures; itself when there is nothing to redact. */
  static ResponseBody wrap(ResponseBody body, Secrets secrets) {
    return secrets.isEmpty() ? body : new RedactingBody(body, secrets);
  }

  @Override
  public MediaType contentType() {
    return delegate.contentType();
  }

  @Override
  public long contentLength() {
    return delegate.contentLength();
  }

  @Override
  public BufferedSource source() {
    return source;
  }
}
