package io.github.llmpool.testing;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import mockwebserver3.MockResponse;

/**
 * Recorded response shapes of OpenAI-compatible providers, shipped in this artifact, as text or as
 * ready {@link MockResponse}s (for {@link FakeLlmServer#answerWith} or a {@code MockWebServer} of
 * your own).
 *
 * <p>{@code .http} files are a status line, headers, a blank line and the body; {@code .sse} files
 * are raw {@code text/event-stream} bodies; {@code .json} files are 200 bodies. {@link #NAMES} lists
 * them; what each one shows is in the artifact's {@code fixtures/README.md} and in
 * {@code docs/integrations/testing.md}.
 */
public final class WireFixtures {

  /** Every fixture this artifact ships, by file name. */
  public static final List<String> NAMES = List.of(
      "openai-chat.json",
      "openai-chat-stream-usage.sse",
      "openai-chat-stream-no-usage.sse",
      "deepseek-chat-stream.sse",
      "responses.json",
      "responses-stream.sse",
      "embeddings.json",
      "openai-200-ratelimit.http",
      "groq-200-ratelimit.http",
      "azure-200-ratelimit.http",
      "anthropic-200-ratelimit.http",
      "openai-400.http",
      "openai-401-missing-key.http",
      "openai-404-unknown-url.http",
      "openai-429-rate-limit.http",
      "openai-429-insufficient-quota.http",
      "azure-429.http",
      "gemini-429.http",
      "openai-503.http",
      "anthropic-529.http");

  private static final String ROOT = "/io/github/llmpool/testing/fixtures/";

  private WireFixtures() {}

  /**
   * The fixture's text.
   *
   * @param name a file name of {@link #NAMES}
   * @return its content (UTF-8)
   * @throws IllegalArgumentException if there is no such fixture
   */
  public static String text(String name) {
    if (!NAMES.contains(name)) {
      throw new IllegalArgumentException("no wire fixture named '" + name + "'; have " + NAMES);
    }
    try (InputStream in = WireFixtures.class.getResourceAsStream(ROOT + name)) {
      if (in == null) {
        throw new IllegalStateException("wire fixture " + name + " is missing from the artifact");
      }
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read wire fixture " + name, e);
    }
  }

  /**
   * The fixture as a response: a {@code .http} file with its own status and headers, a
   * {@code .json} file as a 200 {@code application/json} answer, an {@code .sse} file as a 200
   * {@code text/event-stream} answer.
   *
   * @param name a file name of {@link #NAMES}
   * @return a new builder holding the response, to change or {@link MockResponse.Builder#build() build}
   * @throws IllegalArgumentException if there is no such fixture
   */
  public static MockResponse.Builder response(String name) {
    String text = text(name);
    if (name.endsWith(".json")) {
      return new MockResponse.Builder().code(200).addHeader("content-type", "application/json").body(text);
    }
    if (name.endsWith(".sse")) {
      return new MockResponse.Builder().code(200).addHeader("content-type", "text/event-stream").body(text);
    }
    return http(text);
  }

  /** Parses a {@code .http} text: status line, headers, a blank line, the body. */
  static MockResponse.Builder http(String raw) {
    String text = raw.replace("\r\n", "\n");
    int split = text.indexOf("\n\n");
    String head = split < 0 ? text : text.substring(0, split);
    String body = split < 0 ? "" : text.substring(split + 2).stripTrailing();
    String[] lines = head.split("\n");
    String[] status = lines[0].split(" ", 3);
    MockResponse.Builder b = new MockResponse.Builder().code(Integer.parseInt(status[1].trim()));
    for (int i = 1; i < lines.length; i++) {
      int c = lines[i].indexOf(':');
      b.addHeader(lines[i].substring(0, c).trim(), lines[i].substring(c + 1).trim());
    }
    return b.body(body);
  }
}
