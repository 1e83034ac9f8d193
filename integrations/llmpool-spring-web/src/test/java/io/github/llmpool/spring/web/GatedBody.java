package io.github.llmpool.spring.web;

import java.io.IOException;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import mockwebserver3.MockResponse;
import mockwebserver3.MockResponseBody;
import okio.BufferedSink;

/**
 * A response body a test paces: the server writes (and flushes) its first part at once and each
 * later part only after the test {@link #release()}s it, so a client that sees part 1 before
 * releasing part 2 provably streams. With {@link #endless(String)} it writes filler after the
 * parts, once released again, until the client has gone (a write fails), which {@link #clientGone}
 * records.
 */
final class GatedBody implements MockResponseBody {
  private final List<String> parts;
  private final String filler;
  private final Semaphore gate = new Semaphore(0);
  final CountDownLatch clientGone = new CountDownLatch(1);
  volatile int fillerWrites;

  private GatedBody(List<String> parts, String filler) {
    this.parts = parts;
    this.filler = filler;
  }

  static GatedBody of(String... parts) {
    return new GatedBody(List.of(parts), null);
  }

  /** Parts, then, after one more {@link #release()}, {@code filler} over and over (bounded) until a write fails. */
  static GatedBody endless(String filler, String... parts) {
    return new GatedBody(List.of(parts), filler);
  }

  /** Lets the server write the next part. */
  void release() {
    gate.release();
  }

  MockResponse response(String contentType) {
    return new MockResponse.Builder().code(200).addHeader("content-type", contentType)
        .addHeader("Transfer-Encoding", "chunked").body(this).build();
  }

  /** One HTTP/1.1 chunk (the body is sent with Transfer-Encoding: chunked), flushed. */
  private static void chunk(BufferedSink sink, String text) throws IOException {
    byte[] bytes = text.getBytes(java.nio.charset.StandardCharsets.UTF_8);
    sink.writeUtf8(Integer.toHexString(bytes.length)).writeUtf8("\r\n").write(bytes).writeUtf8("\r\n");
    sink.flush();
  }

  @Override
  public long getContentLength() {
    return -1;
  }

  @Override
  public void writeTo(BufferedSink sink) throws IOException {
    try {
      for (int i = 0; i < parts.size(); i++) {
        if (i > 0 && !gate.tryAcquire(10, TimeUnit.SECONDS)) {
          throw new IOException("the test did not release part " + i + " within 10 s");
        }
        chunk(sink, parts.get(i));
      }
      if (filler != null) {
        if (!gate.tryAcquire(10, TimeUnit.SECONDS)) {
          throw new IOException("the test did not release the filler within 10 s");
        }
        // Bounded: 20,000 writes. A client that has closed its socket makes one of the first
        // writes fail (its RST arrives); one that still reads lets all of them through.
        for (int i = 0; i < 20_000; i++) {
          chunk(sink, filler);
          fillerWrites = i + 1;
        }
      }
      sink.writeUtf8("0\r\n\r\n"); // the last chunk: the body ends here
      sink.flush();
    } catch (IOException e) {
      clientGone.countDown();
      throw e;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException(e);
    }
  }
}
