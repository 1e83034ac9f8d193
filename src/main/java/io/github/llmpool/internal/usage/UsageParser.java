package io.github.llmpool.internal.usage;

import java.util.Locale;

/**
 * Streaming extraction of token usage (and a few stream signals) from an LLM response body, as
 * its bytes pass to the caller.
 *
 * <p>Create one per response attempt, choose the format with {@link #forContentType(String)} (or
 * {@link #json()}, {@link #sse()}, {@link #none()}), feed the body bytes in order with
 * {@link #accept(byte[], int, int)}, and read {@link #result()} at any time, typically once the
 * body was read to its end or closed. Shapes understood: chat completions, Responses API and
 * embeddings JSON bodies; chat completion streams (OpenAI {@code include_usage}, DeepSeek) and
 * Responses API streams.
 *
 * <ul>
 *   <li>JSON bodies go through Jackson's non-blocking parser: nothing is buffered beyond the
 *       token in progress, and only the top-level {@code model}, {@code error} and
 *       {@code usage} subtree are looked at. Only the first 8 KiB of each string reach the
 *       parser (the rest is skipped over raw bytes, not validated), so an answer with a string
 *       of any length keeps its usage and costs no more memory.
 *   <li>SSE bodies are split into events over raw bytes; the current event's data is buffered
 *       up to 1 MiB. A larger event is parsed as it arrives instead, like a JSON body, and
 *       always (a Responses API {@code response.completed} event carries the whole answer
 *       before its usage). Otherwise an event's JSON is parsed only if it can matter: the
 *       first JSON event (for the model; later ones too while no model was seen) and then
 *       events whose bytes show a non-null {@code usage}, {@code error} or
 *       {@code finish_reason} member, or a {@code type} of {@code error} or a terminal
 *       Responses event. Trailing commas are tolerated (see the note in the result's
 *       {@code malformed}).
 *   <li>Invalid input never throws: parsing stops, {@link UsageResult#malformed()} is set, and a
 *       usage object read completely before the damage is still reported. In a stream, a data
 *       event that is not valid JSON stops JSON parsing for the rest of the stream (SSE framing,
 *       {@code [DONE]} and {@code event: error} are still tracked); data that does not start
 *       with <code>&#123;</code> or <code>[</code> is counted as an event but not parsed.
 * </ul>
 *
 * <p>Not thread-safe: one thread feeds it (or calls are otherwise serialized). The parser never
 * keeps a reference to the arrays passed to {@code accept} beyond the call. Uses only
 * {@code java.*} and Jackson core.
 */
public final class UsageParser {

  private final Engine engine;
  private final boolean streaming;
  private boolean broken;

  private UsageParser(Engine engine, boolean streaming) {
    this.engine = engine;
    this.streaming = streaming;
  }

  /**
   * Chooses the format from a {@code Content-Type} header value (parameters and case ignored):
   * {@code text/event-stream} is SSE; a {@code json} subtype ({@code application/json},
   * {@code text/json}, {@code application/x-json}) or a {@code +json} suffix
   * ({@code application/problem+json}) is JSON; anything else, including {@code null} and
   * line-delimited JSON such as {@code application/x-ndjson}, gets a parser that never reports.
   */
  public static UsageParser forContentType(String contentType) {
    if (contentType == null) {
      return none();
    }
    int semi = contentType.indexOf(';');
    String mt = (semi >= 0 ? contentType.substring(0, semi) : contentType)
        .trim().toLowerCase(Locale.ROOT);
    if (mt.equals("text/event-stream")) {
      return sse();
    }
    int slash = mt.indexOf('/');
    if (slash <= 0) {
      return none();
    }
    String sub = mt.substring(slash + 1);
    if (sub.equals("json") || sub.equals("x-json") || sub.endsWith("+json")) {
      return json();
    }
    return none();
  }

  /**
   * {@link #forContentType(String)} for a media type already split into its lower-case type and
   * subtype (as {@code okhttp3.MediaType} holds them), without building or cutting strings.
   */
  public static UsageParser forMediaType(String type, String subtype) {
    if (type == null || subtype == null) {
      return none();
    }
    if (type.equals("text") && subtype.equals("event-stream")) {
      return sse();
    }
    if (subtype.equals("json") || subtype.equals("x-json") || subtype.endsWith("+json")) {
      return json();
    }
    return none();
  }

  /** A parser for a single JSON document (chat completion, Responses API, embeddings, error). */
  public static UsageParser json() {
    return new UsageParser(new JsonEngine(), false);
  }

  /** A parser for a {@code text/event-stream} body. */
  public static UsageParser sse() {
    return new UsageParser(new SseEngine(), true);
  }

  /** A parser that ignores its input and never reports usage. */
  public static UsageParser none() {
    return new UsageParser(new Engine.None(), false);
  }

  /**
   * Feeds the next {@code len} bytes of the body, {@code data[off, off + len)}. Never throws:
   * malformed input stops parsing and is recorded in the result, and an invalid range (or
   * {@code null} array) is ignored. {@code data} is not retained after the call returns.
   */
  public void accept(byte[] data, int off, int len) {
    if (broken || data == null || len <= 0 || off < 0 || off > data.length - len) {
      return;
    }
    try {
      engine.accept(data, off, len);
    } catch (VirtualMachineError e) {
      throw e;
    } catch (Throwable t) {
      // The engines catch everything themselves; this is a last line of defence against bugs.
      broken = true;
    }
  }

  /**
   * True once the response produced its first content. SSE: the first data event other than
   * {@code [DONE]} (or blank keep-alive data) has been dispatched. JSON and the non-reporting
   * parser: any byte has been accepted. Cheap; meant to be called after each {@code accept}.
   */
  public boolean firstTokenSeen() {
    try {
      return engine.firstTokenSeen();
    } catch (RuntimeException e) {
      return false;
    }
  }

  /** True for SSE ({@code text/event-stream}) parsers. */
  public boolean isStreaming() {
    return streaming;
  }

  /**
   * The result for the bytes accepted so far. Repeatable, and has no effect on later input.
   *
   * <p>SSE: an event is normally dispatched by a blank line; if the body ended (or this is
   * called) with event data pending and no blank line after it, that event is also taken into
   * account, unless its JSON is incomplete (then it is taken as not yet received). JSON:
   * {@link UsageResult#terminated()} tells whether the root value was read to its end, so a
   * body closed early shows as not terminated.
   */
  public UsageResult result() {
    UsageResult r;
    try {
      r = engine.result();
    } catch (VirtualMachineError e) {
      throw e;
    } catch (Throwable t) {
      broken = true;
      r = new UsageResult(false, 0, 0, 0, 0, 0, null, streaming, false, false, true, 0);
    }
    if (broken && !r.malformed()) {
      r = new UsageResult(r.reported(), r.promptTokens(), r.completionTokens(), r.totalTokens(),
          r.cachedTokens(), r.reasoningTokens(), r.servedModel(), r.streamed(), r.terminated(),
          r.errorEvent(), true, r.events(), r.responseId(), r.finishReasons());
    }
    return r;
  }

  @Override
  public String toString() {
    return "UsageParser[" + (streaming ? "sse" : engine instanceof JsonEngine ? "json" : "none")
        + "]";
  }
}
