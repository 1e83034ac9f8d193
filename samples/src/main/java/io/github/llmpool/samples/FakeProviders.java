package io.github.llmpool.samples;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.MissingNode;
import io.github.llmpool.testing.FakeLlmServer;
import io.github.llmpool.testing.Fault;
import io.github.llmpool.testing.ReceivedRequest;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import mockwebserver3.RecordedRequest;

/**
 * A named set of fake providers for the LangChain4j samples and their tests: each one is an
 * {@link FakeLlmServer} from {@code io.github.llmpool:llmpool-testing} (a real OpenAI-compatible
 * HTTP server on loopback; the demo and the OpenAI SDK sample use it directly). This class only
 * keeps the small API those samples were written against.
 *
 * <pre>{@code
 * try (FakeProviders fakes = FakeProviders.start("a", "b")) {
 *   String baseUrl = fakes.get("a").baseUrl();   // http://127.0.0.1:PORT/v1
 *   fakes.get("b").rateLimitAll(true);            // b now answers 429 to everything
 * }
 * }</pre>
 */
public final class FakeProviders implements AutoCloseable {

  private final Map<String, FakeProvider> providers;

  private FakeProviders(Map<String, FakeProvider> providers) {
    this.providers = providers;
  }

  /** Starts one fake provider per name, each on its own loopback port. */
  public static FakeProviders start(String... names) {
    Map<String, FakeProvider> started = new LinkedHashMap<>();
    for (FakeLlmServer s : FakeLlmServer.start(names)) {
      started.put(s.name(), new FakeProvider(s));
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

  /** One fake provider: answers {@code "hello from NAME"}; can be scripted to answer 429 with {@code retry-after: 2}. */
  public static final class FakeProvider implements AutoCloseable {
    private final FakeLlmServer server;

    FakeProvider(FakeLlmServer server) {
      this.server = server;
    }

    /** The server itself, for everything else it can do. */
    public FakeLlmServer server() {
      return server;
    }

    public String name() {
      return server.name();
    }

    /** The OpenAI-style base URL, {@code http://127.0.0.1:PORT/v1} (no trailing slash). */
    public String baseUrl() {
      return server.baseUrl();
    }

    /** Every request received so far, whatever it was answered. */
    public int requestCount() {
      return server.requestCount();
    }

    /** Requests answered 429 so far. */
    public int rateLimitedCount() {
      return server.faultCount();
    }

    /** Requests not answered 429 so far. */
    public int successCount() {
      return server.requestCount() - server.faultCount();
    }

    /** When true, every request is answered 429 with {@code retry-after: 2}. */
    public FakeProvider rateLimitAll(boolean on) {
      server.failAlways(on ? Fault.rateLimited() : null);
      return this;
    }

    /** Answers the next {@code n} requests 429 with {@code retry-after: 2}, then normally again. */
    public FakeProvider rateLimitNext(int n) {
      server.failNext(n, Fault.rateLimited());
      return this;
    }

    /** The last request received (headers, URL, body), or null. */
    public RecordedRequest lastRequest() {
      return server.requestCount() == 0 ? null : server.lastRequest().recorded();
    }

    /** The {@code Authorization} header of the last request, or null. */
    public String lastAuthorization() {
      return server.requestCount() == 0 ? null : server.lastRequest().authorization();
    }

    /** The last request's JSON body, or a missing node if there was none (or it was not JSON). */
    public JsonNode lastRequestJson() {
      return server.requestCount() == 0 ? MissingNode.getInstance() : server.lastRequest().json();
    }

    /** The {@code model} of the last request's JSON body, or null. */
    public String lastModel() {
      List<ReceivedRequest> all = server.requests();
      return all.isEmpty() ? null : all.get(all.size() - 1).model();
    }

    @Override
    public void close() {
      server.close();
    }

    @Override
    public String toString() {
      return "FakeProvider{" + name() + " at " + baseUrl() + ", requests=" + requestCount() + "}";
    }
  }
}
