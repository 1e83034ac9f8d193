package io.github.llmpool.testing;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.github.llmpool.Provider;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;
import javax.net.ServerSocketFactory;
import mockwebserver3.Dispatcher;
import mockwebserver3.MockResponse;
import mockwebserver3.MockWebServer;
import mockwebserver3.RecordedRequest;
import okio.ByteString;

/**
 * A fake OpenAI-compatible provider: a real HTTP server ({@link MockWebServer}) on loopback that
 * answers like one, for tests of code that runs on a {@code ProviderPool}.
 *
 * <ul>
 *   <li>{@code POST .../chat/completions}: a {@code chat.completion} with {@code usage}; with
 *       {@code "stream": true} an SSE stream of {@code chat.completion.chunk}s, a final
 *       {@code choices: []} usage chunk when {@code stream_options.include_usage} is true (as
 *       OpenAI does), then {@code data: [DONE]};
 *   <li>{@code POST .../responses}: a Responses API {@code response} (or its event stream, usage in
 *       {@code response.completed});
 *   <li>{@code POST .../embeddings}: one vector per input, {@code prompt_tokens}/{@code total_tokens};
 *   <li>anything else: OpenAI's 404 {@code invalid_request_error}.
 * </ul>
 *
 * <p>{@code ...} is any prefix, unless {@link #exactPaths(boolean)} asks for exactly {@code /v1}.
 *
 * <p>Answers echo the request's {@code model} and say {@link #reply(String) "hello from NAME"}; the
 * usage is {@link #usage(int, int) fixed} or, by default, estimated from the request (about four
 * characters of input per prompt token plus 3, one completion token per word of the reply). The
 * behaviour is scripted per server and can change while it runs: {@link #failNext(int, Fault)} and
 * {@link #failAlways(Fault)} (429 with {@code Retry-After}, 500, 503, 529, quota, disconnect),
 * {@link #latency(Duration)} before the response headers, {@link #bodyDelay(Duration)} and
 * {@link #throttle(long, Duration)} for slow bodies and streams (mockwebserver3's own
 * {@code headersDelay}, {@code bodyDelay} and {@code throttleBody}), an outage with
 * {@link #down()} (connections refused) and {@link #up()}, and {@link #answerWith(Function)} for
 * anything else. Every request is recorded ({@link #requests()}) with the status it got.
 *
 * <pre>{@code
 * try (FakeLlmServer a = FakeLlmServer.start("a"); FakeLlmServer b = FakeLlmServer.start("b")) {
 *   ProviderPool pool = ProviderPool.builder().tier(a.provider().build()).tier(b.provider().build()).build();
 *   a.failNext(1, Fault.rateLimited(Duration.ofSeconds(2)));
 *   // ... one call through the pool: a answers 429, b answers 200 ...
 *   assertEquals(429, a.lastRequest().status());
 *   assertEquals("Bearer " + b.apiKey(), b.lastRequest().authorization());
 * }
 * }</pre>
 *
 * <p>Thread-safe: settings may change while requests are in flight (a request sees either the old
 * or the new setting). Accepted sockets have {@code TCP_NODELAY} on, as production servers do, so
 * that small answers are not held back by Nagle's algorithm and the client's delayed ACK.
 */
public final class FakeLlmServer implements AutoCloseable {

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final int EMBEDDING_DIMENSIONS = 8;

  private final String name;
  private final String apiKey;
  private final int port;
  private final Queue<Fault> nextFaults = new ConcurrentLinkedQueue<>();
  private final List<ReceivedRequest> received = new ArrayList<>(); // guarded by itself
  private final AtomicInteger requestCount = new AtomicInteger();
  private final AtomicInteger faultCount = new AtomicInteger();
  private final AtomicInteger successCount = new AtomicInteger();
  private final AtomicLong ids = new AtomicLong();
  private final Dispatcher dispatcher = new Answerer();

  private volatile String reply;
  private volatile int[] usage; // {prompt, completion}, or null: estimated
  private volatile boolean requireApiKey;
  private volatile boolean exactPaths;
  private volatile Fault alwaysFault;
  private volatile Function<ReceivedRequest, MockResponse> custom;
  private volatile long headersDelayNanos;
  private volatile ManualTicker latencyTicker; // with latencyTickerNanos: see latencyOn
  private volatile long latencyTickerNanos;
  private volatile long bodyDelayNanos;
  private volatile long throttleBytes;
  private volatile long throttlePeriodNanos;
  private volatile MockWebServer server; // written under this; null while down

  private FakeLlmServer(String name, String apiKey) {
    this.name = name;
    this.apiKey = apiKey;
    this.reply = "hello from " + name;
    this.server = newServer(0);
    this.port = server.getPort();
  }

  /**
   * Starts a fake provider on a free loopback port.
   *
   * @param name the provider's name: it names the pool's provider ({@link #provider()}), the default
   *     reply ({@code "hello from NAME"}) and the API key ({@code "key-NAME"})
   * @return the running server
   * @throws IllegalArgumentException if {@code name} is null or blank
   * @throws UncheckedIOException if no loopback port could be bound
   */
  public static FakeLlmServer start(String name) {
    if (name == null || name.isBlank()) {
      throw new IllegalArgumentException("name must not be blank, was " + (name == null ? "null" : "'" + name + "'"));
    }
    return new FakeLlmServer(name, "key-" + name);
  }

  /**
   * Starts one fake provider per name (each on its own port); if one cannot start, those already
   * started are closed.
   *
   * @param names the providers' names, distinct
   * @return the running servers, in the order of {@code names}
   * @throws IllegalArgumentException if a name is blank or repeated, or there is none
   */
  public static List<FakeLlmServer> start(String... names) {
    if (names == null || names.length == 0) {
      throw new IllegalArgumentException("names: at least one provider name");
    }
    List<FakeLlmServer> started = new ArrayList<>();
    try {
      for (String n : names) {
        if (started.stream().anyMatch(s -> s.name.equals(n))) {
          throw new IllegalArgumentException("names: duplicate provider name '" + n + "'");
        }
        started.add(start(n));
      }
    } catch (RuntimeException e) {
      started.forEach(FakeLlmServer::close);
      throw e;
    }
    return List.copyOf(started);
  }

  // ------------------------------------------------------------------ identity

  /** {@return the provider's name} */
  public String name() {
    return name;
  }

  /** {@return the API key this provider expects ({@code "key-NAME"}); see {@link #requireApiKey(boolean)}} */
  public String apiKey() {
    return apiKey;
  }

  /** {@return the loopback port; the same after {@link #down()} and {@link #up()}} */
  public int port() {
    return port;
  }

  /** {@return the OpenAI-style base URL, {@code http://127.0.0.1:PORT/v1} (no trailing slash)} */
  public String baseUrl() {
    return "http://" + InetAddress.getLoopbackAddress().getHostAddress() + ":" + port + "/v1";
  }

  /**
   * A provider builder for this server: its {@link #name()}, {@link #baseUrl()} and {@link #apiKey()};
   * add a weight, a model and so on, then {@code build()}.
   *
   * @return a new {@code Provider.Builder}
   */
  public Provider.Builder provider() {
    return Provider.builder(name).baseUrl(baseUrl()).apiKey(apiKey);
  }

  // ------------------------------------------------------------------ behaviour

  /**
   * The text of every successful answer (streamed word by word). Default {@code "hello from NAME"}.
   *
   * @param text the reply, not empty
   * @return this server
   * @throws IllegalArgumentException if {@code text} is null or empty
   */
  public FakeLlmServer reply(String text) {
    if (text == null || text.isEmpty()) {
      throw new IllegalArgumentException("reply(text): text must not be empty");
    }
    this.reply = text;
    return this;
  }

  /**
   * Fixed usage numbers for every successful answer (chat, stream, Responses; embeddings report
   * {@code prompt} only). Total = prompt + completion.
   *
   * @param prompt prompt (input) tokens, zero or more
   * @param completion completion (output) tokens, zero or more
   * @return this server
   * @throws IllegalArgumentException if a count is negative
   */
  public FakeLlmServer usage(int prompt, int completion) {
    if (prompt < 0 || completion < 0) {
      throw new IllegalArgumentException("usage(prompt, completion): counts must be >= 0, were " + prompt + ", "
          + completion);
    }
    this.usage = new int[] {prompt, completion};
    return this;
  }

  /**
   * Back to estimated usage: {@code 3 + ceil(input characters / 4)} prompt tokens, one completion
   * token per word of the reply (the default).
   *
   * @return this server
   */
  public FakeLlmServer estimatedUsage() {
    this.usage = null;
    return this;
  }

  /**
   * Whether a request must carry {@code Authorization: Bearer <apiKey()>}; without it the answer is
   * OpenAI's 401 (the missing-key answer, or "Incorrect API key provided" for a wrong one; the key
   * is never echoed). Default false: any credential is accepted.
   *
   * @param required whether to check
   * @return this server
   */
  public FakeLlmServer requireApiKey(boolean required) {
    this.requireApiKey = required;
    return this;
  }

  /**
   * Whether only the exact paths under {@link #baseUrl()} are served, as api.openai.com does:
   * {@code /v1/chat/completions}, {@code /v1/responses} and {@code /v1/embeddings}; any other path,
   * such as the {@code /v1/v1/chat/completions} of a client given a base URL that already ends in
   * {@code /v1}, gets OpenAI's 404. Default false: any path ending in one of them is served
   * (e.g. {@code /openai/deployments/NAME/chat/completions}).
   *
   * @param exact whether to serve only the exact paths
   * @return this server
   */
  public FakeLlmServer exactPaths(boolean exact) {
    this.exactPaths = exact;
    return this;
  }

  /**
   * Answers the next {@code n} requests with {@code fault}, then as before. Calls queue up in order:
   * {@code failNext(1, rateLimited()).failNext(1, unavailable())} answers 429, then 503.
   *
   * @param n how many requests, zero or more
   * @param fault the answer
   * @return this server
   * @throws IllegalArgumentException if {@code n} is negative or {@code fault} null
   */
  public FakeLlmServer failNext(int n, Fault fault) {
    if (n < 0) {
      throw new IllegalArgumentException("failNext(n, fault): n must be >= 0, was " + n);
    }
    if (fault == null) {
      throw new IllegalArgumentException("failNext(n, fault): fault must not be null");
    }
    for (int i = 0; i < n; i++) {
      nextFaults.add(fault);
    }
    return this;
  }

  /**
   * Answers {@code n} requests 429 with {@code Retry-After} (and OpenAI's {@code x-ratelimit-*}
   * headers): {@code failNext(n, Fault.rateLimited(retryAfter))}.
   *
   * @param n how many requests
   * @param retryAfter the delay the answers ask for, positive
   * @return this server
   */
  public FakeLlmServer rateLimitNext(int n, Duration retryAfter) {
    return failNext(n, Fault.rateLimited(retryAfter));
  }

  /**
   * Answers every request with {@code fault} (after any queued {@link #failNext}) until
   * {@link #heal()} or {@code failAlways(null)}.
   *
   * @param fault the answer, or null to stop
   * @return this server
   */
  public FakeLlmServer failAlways(Fault fault) {
    this.alwaysFault = fault;
    return this;
  }

  /**
   * Drops every scripted fault ({@link #failNext}, {@link #failAlways}) and custom answer; latency,
   * reply, usage and an outage stay as they are.
   *
   * @return this server
   */
  public FakeLlmServer heal() {
    nextFaults.clear();
    alwaysFault = null;
    custom = null;
    return this;
  }

  /**
   * Answers with {@code answer} instead of the built-in ones (after the API-key check and scripted
   * faults). The request's body is available as text and JSON. The answer may block (a latch, to
   * hold requests in flight); delays set here apply on top.
   *
   * @param answer the answer per request, or null for the built-in answers again
   * @return this server
   */
  public FakeLlmServer answerWith(Function<ReceivedRequest, MockResponse> answer) {
    this.custom = answer;
    return this;
  }

  /**
   * Moves {@code ticker} forward by {@code delay} while answering each request (before the answer
   * is written, faults included): a pool on that ticker measures {@code delay} as this server's
   * latency, and nothing waits in real time. For tests of latency-aware routing (P2C) with a
   * {@link ManualTicker}; zero turns it off.
   *
   * @param ticker the pool's ticker
   * @param delay zero or positive
   * @return this server
   * @throws IllegalArgumentException if {@code delay} is null or negative
   * @throws NullPointerException if {@code ticker} is null
   */
  public FakeLlmServer latencyOn(ManualTicker ticker, Duration delay) {
    long nanos = nonNegative("latencyOn", delay).toNanos();
    this.latencyTicker = java.util.Objects.requireNonNull(ticker, "ticker");
    this.latencyTickerNanos = nanos;
    return this;
  }

  /**
   * Waits {@code delay} before writing each response's headers (mockwebserver3's
   * {@code headersDelay}): the time to first byte a client measures. Applies to every answer,
   * faults included. Zero (the default) for none.
   *
   * @param delay zero or positive
   * @return this server
   * @throws IllegalArgumentException if {@code delay} is null or negative
   */
  public FakeLlmServer latency(Duration delay) {
    this.headersDelayNanos = nonNegative("latency", delay).toNanos();
    return this;
  }

  /**
   * Waits {@code delay} between the headers and the body (mockwebserver3's {@code bodyDelay}): for a
   * stream, the time from the response to its first event. Zero (the default) for none.
   *
   * @param delay zero or positive
   * @return this server
   * @throws IllegalArgumentException if {@code delay} is null or negative
   */
  public FakeLlmServer bodyDelay(Duration delay) {
    this.bodyDelayNanos = nonNegative("bodyDelay", delay).toNanos();
    return this;
  }

  /**
   * Writes bodies at {@code bytesPerPeriod} bytes per {@code period} (mockwebserver3's
   * {@code throttleBody}); a stream's events then arrive spread over time. One chat chunk event is
   * about 200 bytes, so {@code throttle(200, Duration.ofMillis(50))} spaces events about 50 ms apart.
   * {@code throttle(0, Duration.ZERO)} (the default) for none.
   *
   * @param bytesPerPeriod bytes written per period, positive (or 0 to switch throttling off)
   * @param period the pause after each {@code bytesPerPeriod} bytes
   * @return this server
   * @throws IllegalArgumentException if {@code bytesPerPeriod} is negative, {@code period} null or
   *     negative, or one is zero and the other not
   */
  public FakeLlmServer throttle(long bytesPerPeriod, Duration period) {
    if (bytesPerPeriod < 0) {
      throw new IllegalArgumentException("throttle(bytesPerPeriod, period): bytesPerPeriod must be >= 0, was "
          + bytesPerPeriod);
    }
    long nanos = nonNegative("throttle period", period).toNanos();
    if ((bytesPerPeriod == 0) != (nanos == 0)) {
      throw new IllegalArgumentException("throttle(bytesPerPeriod, period): both zero (off) or both positive, were "
          + bytesPerPeriod + ", " + period);
    }
    this.throttleBytes = bytesPerPeriod;
    this.throttlePeriodNanos = nanos;
    return this;
  }

  /**
   * Takes the server off its port: new connections are refused and open ones are closed, as when a
   * provider's host goes away. The port stays reserved for {@link #up()} only as far as the OS
   * allows: another process could take it meanwhile (rare on loopback). Idempotent.
   *
   * @return this server
   */
  public synchronized FakeLlmServer down() {
    if (server != null) {
      server.close();
      server = null;
    }
    return this;
  }

  /**
   * Puts the server back on its port after {@link #down()}. Idempotent.
   *
   * @return this server
   * @throws UncheckedIOException if the port cannot be bound again
   */
  public synchronized FakeLlmServer up() {
    if (server == null) {
      server = newServer(port);
    }
    return this;
  }

  /** {@return whether the server is on its port (not {@link #down()}, not closed)} */
  public boolean isUp() {
    return server != null;
  }

  // ------------------------------------------------------------------ what it received

  /**
   * {@return every request received so far, in arrival order, with the status each got} A request
   * is listed (and counted) as it arrives: one whose answer is still being made (an
   * {@link #answerWith} function that blocks) has status {@link ReceivedRequest#ANSWERING} (0).
   */
  public List<ReceivedRequest> requests() {
    synchronized (received) {
      return List.copyOf(received);
    }
  }

  /**
   * The last request received.
   *
   * @return the request
   * @throws IllegalStateException if there was none
   */
  public ReceivedRequest lastRequest() {
    synchronized (received) {
      if (received.isEmpty()) {
        throw new IllegalStateException(name + " received no request");
      }
      return received.get(received.size() - 1);
    }
  }

  /** {@return the number of requests received so far (every one, faults and those still being answered included)} */
  public int requestCount() {
    return requestCount.get();
  }

  /** {@return the number of requests answered with a scripted {@link Fault} so far} */
  public int faultCount() {
    return faultCount.get();
  }

  /** {@return the number of requests answered with a 2xx so far} */
  public int successCount() {
    return successCount.get();
  }

  /** Forgets the requests received so far and zeroes the counts (the script stays). */
  public void clearRequests() {
    synchronized (received) {
      received.clear();
      requestCount.set(0);
      faultCount.set(0);
      successCount.set(0);
    }
  }

  /** Shuts the server down for good (as {@link #down()}). */
  @Override
  public void close() {
    down();
  }

  /** {@return {@code FakeLlmServer[a at http://127.0.0.1:PORT/v1, up, 3 requests]}; no key} */
  @Override
  public String toString() {
    return "FakeLlmServer[" + name + " at " + baseUrl() + ", " + (isUp() ? "up" : "down") + ", " + requestCount()
        + " requests]";
  }

  // ------------------------------------------------------------------ answering

  private MockWebServer newServer(int onPort) {
    MockWebServer s = new MockWebServer();
    s.setServerSocketFactory(new LoopbackServerSockets());
    s.setDispatcher(dispatcher);
    try {
      s.start(InetAddress.getLoopbackAddress(), onPort);
    } catch (IOException e) {
      s.close();
      throw new UncheckedIOException("cannot start fake provider " + name + " on loopback port " + onPort, e);
    }
    return s;
  }

  private final class Answerer extends Dispatcher {
    @Override
    public MockResponse dispatch(RecordedRequest request) {
      ByteString bytes = request.getBody();
      String body = bytes == null ? "" : bytes.utf8();
      ReceivedRequest seen = new ReceivedRequest(request, request.getMethod(), request.getUrl(), request.getHeaders(), body,
          ReceivedRequest.ANSWERING, Instant.now());
      synchronized (received) { // recorded on arrival: a request whose answer blocks is already counted and listed
        received.add(seen);
        requestCount.incrementAndGet();
      }
      boolean[] fault = {false};
      ManualTicker t = latencyTicker;
      long moved = latencyTickerNanos;
      if (t != null && moved > 0) {
        t.advance(Duration.ofNanos(moved));
      }
      MockResponse.Builder answer = answer(seen, fault);
      if (headersDelayNanos > 0) {
        answer.headersDelay(headersDelayNanos, TimeUnit.NANOSECONDS);
      }
      if (bodyDelayNanos > 0) {
        answer.bodyDelay(bodyDelayNanos, TimeUnit.NANOSECONDS);
      }
      if (throttleBytes > 0) {
        answer.throttleBody(throttleBytes, throttlePeriodNanos, TimeUnit.NANOSECONDS);
      }
      MockResponse response = answer.build();
      int status = response.getOnResponseStart() != null ? -1 : response.getCode();
      synchronized (received) {
        int i = received.lastIndexOf(seen); // by identity; -1 if clearRequests() ran meanwhile
        if (i >= 0) {
          received.set(i, seen.answered(status));
          if (fault[0]) {
            faultCount.incrementAndGet();
          }
          if (status >= 200 && status < 300) {
            successCount.incrementAndGet();
          }
        }
      }
      drainServerLog();
      return response;
    }
  }

  /** MockWebServer keeps every request it received; this server keeps its own record instead. */
  private void drainServerLog() {
    MockWebServer s = server; // not under the lock: down() may be closing s and waiting for this thread
    if (s != null) {
      try {
        while (s.takeRequest(0, TimeUnit.NANOSECONDS) != null) {
          // dropped: see requests()
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }

  private MockResponse.Builder answer(ReceivedRequest r, boolean[] fault) {
    if (requireApiKey) {
      String auth = r.authorization();
      if (auth == null) {
        return WireFixtures.response("openai-401-missing-key.http");
      }
      if (!auth.equals("Bearer " + apiKey)) {
        return error(401, "Incorrect API key provided. You can find your API key at "
            + "https://platform.openai.com/account/api-keys.", "invalid_request_error", "invalid_api_key");
      }
    }
    Fault f = nextFaults.poll();
    if (f == null) {
      f = alwaysFault;
    }
    if (f != null) {
      fault[0] = true;
      return f.response().setHeader("x-request-id", requestId());
    }
    Function<ReceivedRequest, MockResponse> c = custom;
    if (c != null) {
      MockResponse m = c.apply(r);
      if (m == null) {
        throw new IllegalStateException("answerWith: the answer function returned null for " + r);
      }
      return m.newBuilder();
    }
    return builtIn(r);
  }

  private MockResponse.Builder builtIn(ReceivedRequest r) {
    String path = r.path();
    if ("POST".equals(r.method())) {
      JsonNode body = r.json();
      if (serves(path, "/chat/completions") || serves(path, "/responses") || serves(path, "/embeddings")) {
        if (body.isMissingNode()) {
          return error(400, "We could not parse the JSON body of your request.", "invalid_request_error", null);
        }
        if (serves(path, "/chat/completions")) {
          return r.stream() ? chatStream(body, r.includeUsage()) : chat(body);
        }
        if (serves(path, "/responses")) {
          return r.stream() ? responsesStream(body) : json(responseObject(body, "resp_" + name + "_" + ids.incrementAndGet(), true));
        }
        return embeddings(body);
      }
    }
    return error(404, "Invalid URL (" + r.method() + " " + path + ")", "invalid_request_error", null);
  }

  private boolean serves(String path, String endpoint) {
    return exactPaths ? path.equals("/v1" + endpoint) : path.endsWith(endpoint);
  }

  private int promptTokens(JsonNode request) {
    int[] u = usage;
    if (u != null) {
      return u[0];
    }
    int chars = 0;
    List<JsonNode> texts = new ArrayList<>(request.path("messages").findValues("content"));
    JsonNode input = request.path("input");
    if (input.isTextual()) {
      texts.add(input);
    } else {
      texts.addAll(input.findValues("content"));
      texts.addAll(input.findValues("text"));
      if (input.isArray()) {
        input.forEach(i -> {
          if (i.isTextual()) {
            texts.add(i);
          }
        });
      }
    }
    for (JsonNode t : texts) {
      chars += t.isTextual() ? t.asText().length() : t.toString().length();
    }
    return 3 + (chars + 3) / 4;
  }

  private int completionTokens(String[] words) {
    int[] u = usage;
    return u != null ? u[1] : words.length;
  }

  private static String model(JsonNode request) {
    JsonNode model = request.path("model");
    return model.isTextual() ? model.asText() : "fake-model";
  }

  private static long now() {
    return System.currentTimeMillis() / 1000;
  }

  private String requestId() {
    return "req_" + name + "_" + ids.incrementAndGet();
  }

  private MockResponse.Builder chat(JsonNode request) {
    String text = reply;
    ObjectNode root = JSON.createObjectNode();
    root.put("id", "chatcmpl-" + name + "-" + ids.incrementAndGet());
    root.put("object", "chat.completion");
    root.put("created", now());
    root.put("model", model(request));
    ObjectNode choice = root.putArray("choices").addObject();
    choice.put("index", 0);
    ObjectNode message = choice.putObject("message");
    message.put("role", "assistant");
    message.put("content", text);
    message.putNull("refusal");
    choice.putNull("logprobs");
    choice.put("finish_reason", "stop");
    root.set("usage", chatUsage(request, text.split(" ")));
    root.put("service_tier", "default");
    root.put("system_fingerprint", "fp_fake_" + name);
    return json(root);
  }

  private MockResponse.Builder chatStream(JsonNode request, boolean includeUsage) {
    String[] words = reply.split(" ");
    String id = "chatcmpl-" + name + "-" + ids.incrementAndGet();
    long created = now();
    String model = model(request);
    StringBuilder sse = new StringBuilder();

    ObjectNode first = chunk(id, created, model);
    ObjectNode firstChoice = first.putArray("choices").addObject().put("index", 0);
    firstChoice.putObject("delta").put("role", "assistant").put("content", "");
    firstChoice.putNull("finish_reason");
    data(sse, first, includeUsage);
    for (int i = 0; i < words.length; i++) {
      ObjectNode c = chunk(id, created, model);
      ObjectNode ch = c.putArray("choices").addObject().put("index", 0);
      ch.putObject("delta").put("content", i == 0 ? words[i] : " " + words[i]);
      ch.putNull("finish_reason");
      data(sse, c, includeUsage);
    }
    ObjectNode last = chunk(id, created, model);
    ObjectNode lastChoice = last.putArray("choices").addObject().put("index", 0);
    lastChoice.putObject("delta");
    lastChoice.put("finish_reason", "stop");
    data(sse, last, includeUsage);
    if (includeUsage) {
      ObjectNode u = chunk(id, created, model);
      u.putArray("choices");
      u.set("usage", chatUsage(request, words));
      sse.append("data: ").append(u).append("\n\n");
    }
    sse.append("data: [DONE]\n\n");
    return eventStream(sse.toString());
  }

  private ObjectNode chatUsage(JsonNode request, String[] words) {
    int prompt = promptTokens(request);
    int completion = completionTokens(words);
    ObjectNode u = JSON.createObjectNode();
    u.put("prompt_tokens", prompt);
    u.put("completion_tokens", completion);
    u.put("total_tokens", prompt + completion);
    u.putObject("prompt_tokens_details").put("cached_tokens", 0).put("audio_tokens", 0);
    u.putObject("completion_tokens_details").put("reasoning_tokens", 0).put("audio_tokens", 0)
        .put("accepted_prediction_tokens", 0).put("rejected_prediction_tokens", 0);
    return u;
  }

  private ObjectNode responseObject(JsonNode request, String id, boolean done) {
    String text = reply;
    ObjectNode r = JSON.createObjectNode();
    r.put("id", id);
    r.put("object", "response");
    r.put("created_at", now());
    r.put("status", done ? "completed" : "in_progress");
    r.put("model", model(request));
    ArrayNode output = r.putArray("output");
    if (done) {
      ObjectNode msg = output.addObject();
      msg.put("type", "message").put("id", "msg_" + id).put("status", "completed").put("role", "assistant");
      ObjectNode t = msg.putArray("content").addObject();
      t.put("type", "output_text").put("text", text);
      t.putArray("annotations");
      int input = promptTokens(request);
      int out = completionTokens(text.split(" "));
      ObjectNode u = r.putObject("usage");
      u.put("input_tokens", input);
      u.putObject("input_tokens_details").put("cached_tokens", 0);
      u.put("output_tokens", out);
      u.putObject("output_tokens_details").put("reasoning_tokens", 0);
      u.put("total_tokens", input + out);
    } else {
      r.putNull("usage");
    }
    return r;
  }

  private MockResponse.Builder responsesStream(JsonNode request) {
    String id = "resp_" + name + "_" + ids.incrementAndGet();
    StringBuilder sse = new StringBuilder();
    int seq = 0;
    ObjectNode created = JSON.createObjectNode().put("type", "response.created").put("sequence_number", seq++);
    created.set("response", responseObject(request, id, false));
    event(sse, "response.created", created);
    String[] words = reply.split(" ");
    for (int i = 0; i < words.length; i++) {
      ObjectNode delta = JSON.createObjectNode().put("type", "response.output_text.delta").put("sequence_number", seq++);
      delta.put("item_id", "msg_" + id).put("output_index", 0).put("content_index", 0);
      delta.put("delta", i == 0 ? words[i] : " " + words[i]);
      event(sse, "response.output_text.delta", delta);
    }
    ObjectNode completed = JSON.createObjectNode().put("type", "response.completed").put("sequence_number", seq);
    completed.set("response", responseObject(request, id, true));
    event(sse, "response.completed", completed);
    return eventStream(sse.toString());
  }

  private MockResponse.Builder embeddings(JsonNode request) {
    JsonNode input = request.path("input");
    List<String> inputs = new ArrayList<>();
    if (input.isArray()) {
      input.forEach(i -> inputs.add(i.isTextual() ? i.asText() : i.toString()));
    } else {
      inputs.add(input.isTextual() ? input.asText() : input.toString());
    }
    ObjectNode root = JSON.createObjectNode();
    root.put("object", "list");
    ArrayNode data = root.putArray("data");
    for (int i = 0; i < inputs.size(); i++) {
      ObjectNode e = data.addObject().put("object", "embedding").put("index", i);
      ArrayNode v = e.putArray("embedding");
      int h = inputs.get(i).hashCode();
      for (int d = 0; d < EMBEDDING_DIMENSIONS; d++) {
        v.add(((h >>> (d * 4)) & 0xF) / 16.0 - 0.5); // deterministic per input
      }
    }
    root.put("model", model(request));
    int prompt = promptTokens(request);
    root.putObject("usage").put("prompt_tokens", prompt).put("total_tokens", prompt);
    return json(root);
  }

  private static ObjectNode chunk(String id, long created, String model) {
    ObjectNode c = JSON.createObjectNode();
    c.put("id", id);
    c.put("object", "chat.completion.chunk");
    c.put("created", created);
    c.put("model", model);
    return c;
  }

  private static void data(StringBuilder sse, ObjectNode chunk, boolean includeUsage) {
    if (includeUsage) {
      chunk.putNull("usage"); // as OpenAI does: every chunk but the last carries "usage": null
    }
    sse.append("data: ").append(chunk).append("\n\n");
  }

  private static void event(StringBuilder sse, String type, ObjectNode data) {
    sse.append("event: ").append(type).append('\n').append("data: ").append(data).append("\n\n");
  }

  private MockResponse.Builder error(int code, String message, String type, String errorCode) {
    ObjectNode root = JSON.createObjectNode();
    ObjectNode err = root.putObject("error");
    err.put("message", message);
    err.put("type", type);
    err.putNull("param");
    if (errorCode == null) {
      err.putNull("code");
    } else {
      err.put("code", errorCode);
    }
    return new MockResponse.Builder().code(code).addHeader("content-type", "application/json; charset=utf-8")
        .addHeader("x-request-id", requestId()).body(root.toString());
  }

  private MockResponse.Builder json(ObjectNode body) {
    return new MockResponse.Builder().code(200).addHeader("content-type", "application/json")
        .addHeader("x-request-id", requestId()).body(body.toString());
  }

  private MockResponse.Builder eventStream(String sse) {
    return new MockResponse.Builder().code(200)
        .addHeader("content-type", "text/event-stream; charset=utf-8")
        .addHeader("cache-control", "no-cache")
        .addHeader("x-request-id", requestId())
        .chunkedBody(sse, 1024);
  }

  private static Duration nonNegative(String what, Duration d) {
    if (d == null || d.isNegative()) {
      throw new IllegalArgumentException(what + " must be zero or positive, was "
          + (d == null ? "null" : d.toString().toLowerCase(Locale.ROOT)));
    }
    return d;
  }

  /**
   * Loopback server sockets with {@code TCP_NODELAY} on accepted sockets and {@code SO_REUSEADDR}
   * always on (MockWebServer turns it off for an ephemeral port; a server taken {@link #down()}
   * could then not come back while its old connections sit in TIME_WAIT).
   */
  private static final class LoopbackServerSockets extends ServerSocketFactory {
    @Override
    public ServerSocket createServerSocket() throws IOException {
      return new NoDelayServerSocket();
    }

    @Override
    public ServerSocket createServerSocket(int port) throws IOException {
      return createServerSocket(port, 50, null);
    }

    @Override
    public ServerSocket createServerSocket(int port, int backlog) throws IOException {
      return createServerSocket(port, backlog, null);
    }

    @Override
    public ServerSocket createServerSocket(int port, int backlog, InetAddress address) throws IOException {
      ServerSocket s = new NoDelayServerSocket();
      s.bind(new InetSocketAddress(address, port), backlog);
      return s;
    }
  }

  private static final class NoDelayServerSocket extends ServerSocket {
    NoDelayServerSocket() throws IOException {
      super();
      super.setReuseAddress(true);
    }

    @Override
    public void setReuseAddress(boolean on) throws SocketException {
      super.setReuseAddress(true);
    }

    @Override
    public Socket accept() throws IOException {
      Socket s = super.accept();
      s.setTcpNoDelay(true);
      return s;
    }
  }
}
