package io.github.llmpool.samples;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.MissingNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import javax.net.ServerSocketFactory;
import mockwebserver3.Dispatcher;
import mockwebserver3.MockResponse;
import mockwebserver3.MockWebServer;
import mockwebserver3.RecordedRequest;
import okio.ByteString;

/**
 * Embedded fake OpenAI-compatible providers for the samples and their tests: each one is a
 * {@link MockWebServer} on loopback that answers
 *
 * <ul>
 *   <li>{@code POST .../chat/completions}: a {@code chat.completion} with {@code usage}, or, when
 *       the body has {@code "stream": true}, an SSE stream of {@code chat.completion.chunk} events,
 *       a final {@code choices: []} usage chunk when {@code stream_options.include_usage} is true,
 *       then {@code data: [DONE]};
 *   <li>{@code POST .../responses}: a Responses API {@code response} (or its event stream);
 *   <li>anything else: 404 with an OpenAI-style error body.
 * </ul>
 *
 * <p>The answer names the provider ({@code "hello from a"}) so a caller can see who answered. Each
 * provider counts the requests it received, and can be scripted to answer 429 with
 * {@code retry-after: 2} (to every request, or to the next {@code n}).
 *
 * <pre>{@code
 * try (FakeProviders fakes = FakeProviders.start("a", "b")) {
 *   String baseUrl = fakes.get("a").baseUrl();   // http://127.0.0.1:PORT/v1
 *   fakes.get("b").rateLimitAll(true);            // b now answers 429 to everything
 * }
 * }</pre>
 */
public final class FakeProviders implements AutoCloseable {

  private static final ObjectMapper JSON = new ObjectMapper();

  private final Map<String, FakeProvider> providers;

  private FakeProviders(Map<String, FakeProvider> providers) {
    this.providers = providers;
  }

  /** Starts one fake provider per name, each on its own loopback port. */
  public static FakeProviders start(String... names) {
    if (names.length == 0) {
      throw new IllegalArgumentException("at least one provider name");
    }
    Map<String, FakeProvider> started = new LinkedHashMap<>();
    try {
      for (String name : names) {
        if (started.containsKey(name)) {
          throw new IllegalArgumentException("duplicate provider name: " + name);
        }
        started.put(name, new FakeProvider(name));
      }
    } catch (RuntimeException e) {
      started.values().forEach(FakeProvider::close);
      throw e;
    }
    return new FakeProviders(Collections.unmodifiableMap(started));
  }

  /** The provider with this name. */
  public FakeProvider get(String name) {
    FakeProvider p = providers.get(name);
    if (p == null) {
      throw new IllegalArgumentException("no fake provider named " + name + "; have " + providers.keySet());
    }
    return p;
  }

  /** All providers, in start order. */
  public List<FakeProvider> all() {
    return List.copyOf(providers.values());
  }

  /** Requests received so far per provider name (every request, 429s included), in start order. */
  public Map<String, Integer> requestCounts() {
    Map<String, Integer> counts = new LinkedHashMap<>();
    providers.forEach((name, p) -> counts.put(name, p.requestCount()));
    return counts;
  }

  /** Requests received so far by all providers together. */
  public int totalRequests() {
    return providers.values().stream().mapToInt(FakeProvider::requestCount).sum();
  }

  /** Shuts every server down. */
  @Override
  public void close() {
    providers.values().forEach(FakeProvider::close);
  }

  /** Server sockets whose accepted connections have Nagle's algorithm off. */
  private static final class NoDelayServerSocketFactory extends ServerSocketFactory {
    @Override
    public ServerSocket createServerSocket() throws IOException {
      return new ServerSocket() {
        @Override
        public Socket accept() throws IOException {
          Socket socket = super.accept();
          socket.setTcpNoDelay(true);
          return socket;
        }
      };
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
      ServerSocket socket = createServerSocket();
      socket.bind(new java.net.InetSocketAddress(address, port), backlog);
      return socket;
    }
  }

  /** One fake provider: a loopback {@link MockWebServer} with its own counters and script. */
  public static final class FakeProvider implements AutoCloseable {
    private final String name;
    private final MockWebServer server = new MockWebServer();
    private final AtomicInteger requests = new AtomicInteger();
    private final AtomicInteger rateLimited = new AtomicInteger();
    private final AtomicInteger failNext = new AtomicInteger();
    private final AtomicLong completionIds = new AtomicLong();
    private volatile boolean rateLimitAll;
    private volatile RecordedRequest lastRequest;

    FakeProvider(String name) {
      this.name = name;
      server.setDispatcher(new Dispatcher() {
        @Override
        public MockResponse dispatch(RecordedRequest request) {
          return answer(request);
        }
      });
      // Accepted sockets get TCP_NODELAY: MockWebServer writes a response's head and body
      // separately, and with Nagle on, each small answer would wait out the client's delayed ACK
      // (~40 ms on Linux loopback), making 500 requests take 20 s instead of 1.
      server.setServerSocketFactory(new NoDelayServerSocketFactory());
      try {
        server.start(InetAddress.getLoopbackAddress(), 0);
      } catch (IOException e) {
        throw new UncheckedIOException("cannot start fake provider " + name, e);
      }
    }

    public String name() {
      return name;
    }

    /** The OpenAI-style base URL, {@code http://127.0.0.1:PORT/v1} (no trailing slash). */
    public String baseUrl() {
      // The loopback literal, not "localhost" (which may resolve to another address first).
      return "http://" + InetAddress.getLoopbackAddress().getHostAddress() + ":" + server.getPort() + "/v1";
    }

    /** Every request received so far, whatever it was answered. */
    public int requestCount() {
      return requests.get();
    }

    /** Requests answered 429 so far. */
    public int rateLimitedCount() {
      return rateLimited.get();
    }

    /** Requests not answered 429 so far. */
    public int successCount() {
      return requests.get() - rateLimited.get();
    }

    /** When true, every request is answered 429 with {@code retry-after: 2}. */
    public FakeProvider rateLimitAll(boolean on) {
      this.rateLimitAll = on;
      return this;
    }

    /** Answers the next {@code n} requests 429 with {@code retry-after: 2}, then normally again. */
    public FakeProvider rateLimitNext(int n) {
      failNext.set(n);
      return this;
    }

    /** The last request received (headers, URL, body), or null. */
    public RecordedRequest lastRequest() {
      return lastRequest;
    }

    /** The {@code Authorization} header of the last request, or null. */
    public String lastAuthorization() {
      RecordedRequest r = lastRequest;
      return r == null ? null : r.getHeaders().get("Authorization");
    }

    /** The last request's JSON body, or a missing node if there was none (or it was not JSON). */
    public JsonNode lastRequestJson() {
      RecordedRequest r = lastRequest;
      return r == null ? MissingNode.getInstance() : parse(r);
    }

    /** The {@code model} of the last request's JSON body, or null. */
    public String lastModel() {
      JsonNode model = lastRequestJson().path("model");
      return model.isTextual() ? model.asText() : null;
    }

    @Override
    public void close() {
      server.close();
    }

    @Override
    public String toString() {
      return "FakeProvider{" + name + " at " + baseUrl() + ", requests=" + requests + "}";
    }

    private MockResponse answer(RecordedRequest request) {
      requests.incrementAndGet();
      lastRequest = request;
      if (rateLimitAll || failNext.getAndUpdate(n -> n > 0 ? n - 1 : 0) > 0) {
        rateLimited.incrementAndGet();
        return rateLimitResponse();
      }
      String path = request.getUrl().encodedPath();
      if (!"POST".equals(request.getMethod())) {
        return error(405, "Method " + request.getMethod() + " not allowed", "invalid_request_error");
      }
      JsonNode body = parse(request);
      if (body.isMissingNode()) {
        return error(400, "We could not parse the JSON body of your request.", "invalid_request_error");
      }
      if (path.endsWith("/chat/completions")) {
        return body.path("stream").asBoolean(false) ? chatStream(body) : chat(body);
      }
      if (path.endsWith("/responses")) {
        return body.path("stream").asBoolean(false) ? responsesStream(body) : responses(body);
      }
      return error(404, "Invalid URL (POST " + path + ")", "invalid_request_error");
    }

    private String content() {
      return "hello from " + name;
    }

    private MockResponse chat(JsonNode request) {
      ObjectNode root = JSON.createObjectNode();
      root.put("id", "chatcmpl-" + name + "-" + completionIds.incrementAndGet());
      root.put("object", "chat.completion");
      root.put("created", System.currentTimeMillis() / 1000);
      root.put("model", model(request));
      ObjectNode choice = root.putArray("choices").addObject();
      choice.put("index", 0);
      ObjectNode message = choice.putObject("message");
      message.put("role", "assistant");
      message.put("content", content());
      message.putNull("refusal");
      choice.putNull("logprobs");
      choice.put("finish_reason", "stop");
      root.set("usage", chatUsage(request));
      root.put("service_tier", "default");
      root.put("system_fingerprint", "fp_fake_" + name);
      return json(200, root.toString());
    }

    private MockResponse chatStream(JsonNode request) {
      String id = "chatcmpl-" + name + "-" + completionIds.incrementAndGet();
      long created = System.currentTimeMillis() / 1000;
      String model = model(request);
      boolean includeUsage = request.path("stream_options").path("include_usage").asBoolean(false);
      StringBuilder sse = new StringBuilder();

      ObjectNode first = chunk(id, created, model);
      ObjectNode firstChoice = first.putArray("choices").addObject().put("index", 0);
      firstChoice.putObject("delta").put("role", "assistant").put("content", "");
      firstChoice.putNull("finish_reason");
      data(sse, first, includeUsage);

      String[] words = content().split(" ");
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
        ObjectNode usage = chunk(id, created, model);
        usage.putArray("choices");
        usage.set("usage", chatUsage(request));
        sse.append("data: ").append(usage).append("\n\n");
      }
      sse.append("data: [DONE]\n\n");
      return eventStream(sse.toString());
    }

    private MockResponse responses(JsonNode request) {
      return json(200, response(request, responseId(), "completed").toString());
    }

    private String responseId() {
      return name + "_" + completionIds.incrementAndGet();
    }

    private MockResponse responsesStream(JsonNode request) {
      StringBuilder sse = new StringBuilder();
      String id = responseId();
      int seq = 0;
      ObjectNode created = JSON.createObjectNode();
      created.put("type", "response.created").put("sequence_number", seq++);
      created.set("response", response(request, id, "in_progress"));
      event(sse, "response.created", created);
      String msgId = "msg_" + id;
      String[] words = content().split(" ");
      for (int i = 0; i < words.length; i++) {
        ObjectNode delta = JSON.createObjectNode();
        delta.put("type", "response.output_text.delta").put("sequence_number", seq++);
        delta.put("item_id", msgId).put("output_index", 0).put("content_index", 0);
        delta.put("delta", i == 0 ? words[i] : " " + words[i]);
        event(sse, "response.output_text.delta", delta);
      }
      ObjectNode completed = JSON.createObjectNode();
      completed.put("type", "response.completed").put("sequence_number", seq);
      completed.set("response", response(request, id, "completed"));
      event(sse, "response.completed", completed);
      return eventStream(sse.toString());
    }

    private ObjectNode response(JsonNode request, String id, String status) {
      boolean done = "completed".equals(status);
      ObjectNode r = JSON.createObjectNode();
      r.put("id", "resp_" + id);
      r.put("object", "response");
      r.put("created_at", System.currentTimeMillis() / 1000);
      r.put("status", status);
      r.put("model", model(request));
      ArrayNode output = r.putArray("output");
      if (done) {
        ObjectNode msg = output.addObject();
        msg.put("type", "message").put("id", "msg_" + id);
        msg.put("status", "completed").put("role", "assistant");
        ObjectNode text = msg.putArray("content").addObject();
        text.put("type", "output_text").put("text", content());
        text.putArray("annotations");
        int input = promptTokens(request);
        int out = completionTokens();
        ObjectNode usage = r.putObject("usage");
        usage.put("input_tokens", input);
        usage.putObject("input_tokens_details").put("cached_tokens", 0);
        usage.put("output_tokens", out);
        usage.putObject("output_tokens_details").put("reasoning_tokens", 0);
        usage.put("total_tokens", input + out);
      } else {
        r.putNull("usage");
      }
      return r;
    }

    private ObjectNode chatUsage(JsonNode request) {
      int prompt = promptTokens(request);
      int completion = completionTokens();
      ObjectNode usage = JSON.createObjectNode();
      usage.put("prompt_tokens", prompt);
      usage.put("completion_tokens", completion);
      usage.put("total_tokens", prompt + completion);
      usage.putObject("prompt_tokens_details").put("cached_tokens", 0).put("audio_tokens", 0);
      usage.putObject("completion_tokens_details")
          .put("reasoning_tokens", 0)
          .put("audio_tokens", 0)
          .put("accepted_prediction_tokens", 0)
          .put("rejected_prediction_tokens", 0);
      return usage;
    }

    /** A rough, deterministic token count: about four characters of input text per token. */
    private static int promptTokens(JsonNode request) {
      int chars = 0;
      List<JsonNode> texts = new ArrayList<>();
      texts.addAll(request.path("messages").findValues("content"));
      JsonNode input = request.path("input");
      if (input.isTextual()) {
        texts.add(input);
      } else {
        texts.addAll(input.findValues("content"));
        texts.addAll(input.findValues("text"));
      }
      for (JsonNode t : texts) {
        chars += t.isTextual() ? t.asText().length() : t.toString().length();
      }
      return 3 + (chars + 3) / 4;
    }

    private int completionTokens() {
      return content().split(" ").length;
    }

    private static String model(JsonNode request) {
      JsonNode model = request.path("model");
      return model.isTextual() ? model.asText() : "fake-model";
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

    private static JsonNode parse(RecordedRequest request) {
      ByteString body = request.getBody();
      if (body == null || body.size() == 0) {
        return MissingNode.getInstance();
      }
      try {
        JsonNode node = JSON.readTree(body.utf8());
        return node == null || !node.isObject()
            ? MissingNode.getInstance()
            : node;
      } catch (IOException e) {
        return MissingNode.getInstance();
      }
    }

    private MockResponse rateLimitResponse() {
      ObjectNode root = JSON.createObjectNode();
      ObjectNode err = root.putObject("error");
      err.put("message", "Rate limit reached for fake provider " + name
          + " on requests per min (RPM): Limit 500, Used 500, Requested 1. Please try again in 2s.");
      err.put("type", "requests");
      err.putNull("param");
      err.put("code", "rate_limit_exceeded");
      return new MockResponse.Builder()
          .code(429)
          .addHeader("content-type", "application/json")
          .addHeader("retry-after", "2")
          .addHeader("x-ratelimit-limit-requests", "500")
          .addHeader("x-ratelimit-remaining-requests", "0")
          .addHeader("x-ratelimit-reset-requests", "2s")
          .addHeader("x-request-id", "req_" + name + "_429_" + requests.get())
          .body(root.toString())
          .build();
    }

    private MockResponse error(int code, String message, String type) {
      ObjectNode root = JSON.createObjectNode();
      ObjectNode err = root.putObject("error");
      err.put("message", message);
      err.put("type", type);
      err.putNull("param");
      err.putNull("code");
      return json(code, root.toString());
    }

    private MockResponse json(int code, String body) {
      return new MockResponse.Builder()
          .code(code)
          .addHeader("content-type", "application/json")
          .addHeader("x-request-id", "req_" + name + "_" + requests.get())
          .body(body)
          .build();
    }

    private MockResponse eventStream(String sse) {
      return new MockResponse.Builder()
          .code(200)
          .addHeader("content-type", "text/event-stream; charset=utf-8")
          .addHeader("cache-control", "no-cache")
          .addHeader("x-request-id", "req_" + name + "_" + requests.get())
          .chunkedBody(sse, 256)
          .build();
    }
  }
}
