package io.github.llmpool.micrometer;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import mockwebserver3.MockResponse;

/** Loads the wire fixtures in src/test/resources/fixtures (see its README). */
final class Fixtures {
  private Fixtures() {}

  static String text(String name) {
    try (InputStream in = Fixtures.class.getResourceAsStream("/fixtures/" + name)) {
      if (in == null) {
        throw new IllegalArgumentException("no fixture " + name);
      }
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** A {@code .http} fixture (status line, headers, blank line, body) as a mock response. */
  static MockResponse http(String name) {
    String raw = text(name).replace("\r\n", "\n");
    int split = raw.indexOf("\n\n");
    String head = raw.substring(0, split);
    String body = raw.substring(split + 2).stripTrailing();
    String[] lines = head.split("\n");
    int code = Integer.parseInt(lines[0].split(" ")[1].trim());
    MockResponse.Builder b = new MockResponse.Builder().code(code);
    for (int i = 1; i < lines.length; i++) {
      int c = lines[i].indexOf(':');
      b.addHeader(lines[i].substring(0, c).trim(), lines[i].substring(c + 1).trim());
    }
    return b.body(body).build();
  }

  /** A JSON fixture as a 200 response. */
  static MockResponse json(String name) {
    return new MockResponse.Builder().code(200).addHeader("content-type", "application/json").body(text(name)).build();
  }

  /** An SSE fixture as a 200 event-stream response. */
  static MockResponse sse(String name) {
    return new MockResponse.Builder().code(200).addHeader("content-type", "text/event-stream").body(text(name)).build();
  }
}
