package io.github.llmpool.internal.usage;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Random;
import java.util.function.Supplier;

/** Test helpers: fixture loading and the ways of feeding a body to a parser. */
final class Feed {
  private Feed() {}

  /** How a body is cut into accept() calls. */
  enum Mode { WHOLE, BYTE_BY_BYTE, RANDOM_CHUNKS }

  static byte[] fixture(String name) {
    try (InputStream in = Feed.class.getResourceAsStream("/fixtures/" + name)) {
      if (in == null) {
        throw new IllegalArgumentException("no fixture " + name);
      }
      return in.readAllBytes();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** An .http fixture: its body (after the first blank line). */
  static byte[] httpBody(byte[] http) {
    for (int i = 0; i + 1 < http.length; i++) {
      if (http[i] == '\n' && http[i + 1] == '\n') {
        return Arrays.copyOfRange(http, i + 2, http.length);
      }
      if (i + 3 < http.length && http[i] == '\r' && http[i + 1] == '\n' && http[i + 2] == '\r'
          && http[i + 3] == '\n') {
        return Arrays.copyOfRange(http, i + 4, http.length);
      }
    }
    throw new IllegalArgumentException("no blank line");
  }

  /** An .http fixture: its content-type header value, or null. */
  static String httpContentType(byte[] http) {
    String head = new String(http, StandardCharsets.ISO_8859_1);
    for (String line : head.split("\r?\n")) {
      if (line.isEmpty()) {
        break;
      }
      int c = line.indexOf(':');
      if (c > 0 && line.substring(0, c).trim().equalsIgnoreCase("content-type")) {
        return line.substring(c + 1).trim();
      }
    }
    return null;
  }

  static byte[] utf8(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  static UsageResult run(Supplier<UsageParser> factory, byte[] body, Mode mode, long seed) {
    UsageParser p = factory.get();
    feed(p, body, mode, seed);
    return p.result();
  }

  static void feed(UsageParser p, byte[] body, Mode mode, long seed) {
    switch (mode) {
      case WHOLE:
        p.accept(body, 0, body.length);
        break;
      case BYTE_BY_BYTE:
        for (int i = 0; i < body.length; i++) {
          p.accept(body, i, 1);
        }
        break;
      default:
        feedRandom(p, body, new Random(seed), 64);
    }
  }

  /**
   * Feeds in random chunk sizes 1..maxChunk, each from a fresh array (padded at both ends) that
   * is scribbled over right after accept() returns, to catch any retained reference.
   */
  static void feedRandom(UsageParser p, byte[] body, Random r, int maxChunk) {
    int i = 0;
    while (i < body.length) {
      int n = Math.min(body.length - i, 1 + r.nextInt(maxChunk));
      int pad = r.nextInt(4);
      byte[] chunk = new byte[n + 2 * pad];
      Arrays.fill(chunk, (byte) '}');
      System.arraycopy(body, i, chunk, pad, n);
      p.accept(chunk, pad, n);
      Arrays.fill(chunk, (byte) 0x7f);
      i += n;
    }
  }

  static UsageResult usageOnly(UsageResult r) {
    return new UsageResult(r.reported(), r.promptTokens(), r.completionTokens(), r.totalTokens(),
        r.cachedTokens(), r.reasoningTokens(), null, false, false, false, false, 0);
  }

  /** {@code r} with the given response id and finish reasons. */
  static UsageResult with(UsageResult r, String id, String... finish) {
    return new UsageResult(r.reported(), r.promptTokens(), r.completionTokens(), r.totalTokens(),
        r.cachedTokens(), r.reasoningTokens(), r.servedModel(), r.streamed(), r.terminated(),
        r.errorEvent(), r.malformed(), r.events(), id, java.util.List.of(finish));
  }
}
