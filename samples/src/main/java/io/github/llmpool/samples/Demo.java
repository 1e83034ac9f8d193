package io.github.llmpool.samples;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.github.llmpool.Provider;
import io.github.llmpool.ProviderPool;
import io.github.llmpool.spi.RandomSource;
import io.github.llmpool.Strategy;
import io.github.llmpool.TokenUsage;
import io.github.llmpool.UsageListener;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;
import okhttp3.MediaType;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import okhttp3.RequestBody;
import okhttp3.Response;

/**
 * The llmpool demo: three fake providers, a {@link Strategy#WEIGHTED} pool split 80/15/5 over
 * them, a few hundred chat completions sent with plain OkHttp through {@code pool.interceptor()},
 * and a table of configured against observed shares and the tokens each provider reported.
 * No API key, no network: everything runs on loopback.
 *
 * <pre>
 * mvn -q -B -f samples/pom.xml compile exec:java                      # 500 requests
 * mvn -q -B -f samples/pom.xml compile exec:java -Dexec.args=2000     # more
 * </pre>
 */
public final class Demo {

  /** The providers of the demo and their weights, in table order. */
  public static final Map<String, Integer> WEIGHTS = weights();

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final MediaType APPLICATION_JSON = MediaType.get("application/json");

  private Demo() {}

  private static Map<String, Integer> weights() {
    Map<String, Integer> w = new LinkedHashMap<>();
    w.put("primary", 80);
    w.put("secondary", 15);
    w.put("canary", 5);
    return Collections.unmodifiableMap(w);
  }

  /** One line of the table. {@code requests} is what the fake provider itself counted. */
  public record Row(String provider, int weight, double configuredShare, int requests, double observedShare,
      long tokens) {}

  /**
   * What a run saw.
   *
   * @param requests logical requests sent through the pool
   * @param rows one per provider
   * @param tokensInAnswers total tokens summed from the response bodies the caller received
   * @param poolAttempts attempts per provider as {@code pool.snapshot()} counted them
   */
  public record Report(int requests, List<Row> rows, long tokensInAnswers, Map<String, Long> poolAttempts) {

    public Row row(String provider) {
      return rows.stream().filter(r -> r.provider().equals(provider)).findFirst().orElseThrow();
    }

    public long tokensFromOnUsage() {
      return rows.stream().mapToLong(Row::tokens).sum();
    }
  }

  public static void main(String[] args) {
    int requests = args.length > 0 ? Integer.parseInt(args[0]) : 500;
    try (FakeProviders fakes = FakeProviders.start(WEIGHTS.keySet().toArray(new String[0]))) {
      Report report = run(fakes, requests);
      print(report, System.out);
    }
  }

  /**
   * The pool of the demo over {@code fakes}: one tier, weighted 80/15/5. {@code random} may be
   * null (the pool's default, thread-local randomness) or a seeded source for a repeatable run.
   */
  public static ProviderPool pool(FakeProviders fakes, UsageListener onUsage, RandomSource random) {
    List<Provider> providers = new ArrayList<>();
    WEIGHTS.forEach((name, weight) -> providers.add(Provider.builder(name)
        .baseUrl(fakes.get(name).baseUrl())
        .apiKey("key-" + name)
        .model("model-" + name)
        .weight(weight)
        .build()));
    ProviderPool.Builder builder = ProviderPool.builder()
        .tier(providers)
        .strategy(Strategy.WEIGHTED)
        .onUsage(onUsage);
    if (random != null) {
      builder.random(random);
    }
    return builder.build();
  }

  /** Sends {@code requests} chat completions through a fresh pool over {@code fakes}. */
  public static Report run(FakeProviders fakes, int requests) {
    return run(fakes, requests, null);
  }

  /** As {@link #run(FakeProviders, int)}, with the pool's randomness from {@code random} (null: default). */
  public static Report run(FakeProviders fakes, int requests, RandomSource random) {
    Map<String, LongAdder> tokens = new ConcurrentHashMap<>();
    ProviderPool pool = pool(fakes, usage -> record(tokens, usage), random);
    OkHttpClient okHttp = new OkHttpClient.Builder().addInterceptor(pool.interceptor()).build();
    String url = pool.baseUrl().resolve("chat/completions").toString();
    long tokensInAnswers = 0;
    try {
      for (int i = 0; i < requests; i++) {
        tokensInAnswers += send(okHttp, url, i);
      }
    } finally {
      okHttp.dispatcher().executorService().shutdown();
      okHttp.connectionPool().evictAll();
    }

    Map<String, Long> poolAttempts = new LinkedHashMap<>();
    pool.snapshot().providers().forEach(p -> poolAttempts.put(p.name(), p.requests()));

    int totalWeight = WEIGHTS.values().stream().mapToInt(Integer::intValue).sum();
    int received = fakes.totalRequests();
    List<Row> rows = new ArrayList<>();
    WEIGHTS.forEach((name, weight) -> {
      int n = fakes.get(name).requestCount();
      LongAdder t = tokens.get(name);
      rows.add(new Row(name, weight, 100.0 * weight / totalWeight, n,
          received == 0 ? 0 : 100.0 * n / received, t == null ? 0 : t.sum()));
    });
    return new Report(requests, List.copyOf(rows), tokensInAnswers, poolAttempts);
  }

  private static void record(Map<String, LongAdder> tokens, TokenUsage usage) {
    tokens.computeIfAbsent(usage.provider(), k -> new LongAdder()).add(usage.totalTokens());
  }

  /** One chat completion; returns the total tokens its answer reported. */
  private static long send(OkHttpClient okHttp, String url, int i) {
    ObjectNode body = JSON.createObjectNode();
    body.put("model", "gpt-4o-mini");
    body.putArray("messages").addObject().put("role", "user").put("content", "Say hello (" + i + ")");
    Request request = new Request.Builder()
        .url(url)
        .post(RequestBody.create(body.toString(), APPLICATION_JSON))
        .build();
    try (Response response = okHttp.newCall(request).execute()) {
      String text = response.body().string();
      if (!response.isSuccessful()) {
        throw new IllegalStateException("request " + i + " failed: HTTP " + response.code() + " " + text);
      }
      JsonNode answer = JSON.readTree(text);
      return answer.path("usage").path("total_tokens").asLong();
    } catch (IOException e) {
      throw new UncheckedIOException("request " + i + " failed", e);
    }
  }

  /** Prints the table. */
  public static void print(Report report, PrintStream out) {
    out.printf(Locale.ROOT, "llmpool demo: %d chat completions through a WEIGHTED pool of %d fake providers%n%n",
        report.requests(), report.rows().size());
    out.printf(Locale.ROOT, "%-10s %7s %11s %9s %10s %8s%n",
        "provider", "weight", "configured", "requests", "observed", "tokens");
    for (Row r : report.rows()) {
      out.printf(Locale.ROOT, "%-10s %7d %10.1f%% %9d %9.1f%% %8d%n",
          r.provider(), r.weight(), r.configuredShare(), r.requests(), r.observedShare(), r.tokens());
    }
    int received = report.rows().stream().mapToInt(Row::requests).sum();
    out.printf(Locale.ROOT, "%-10s %7d %10.1f%% %9d %9.1f%% %8d%n", "total",
        report.rows().stream().mapToInt(Row::weight).sum(), 100.0, received, 100.0, report.tokensFromOnUsage());
    out.println();
    out.printf(Locale.ROOT, "requests: counted by each fake provider; tokens: from pool.onUsage (answers reported %d in all)%n",
        report.tokensInAnswers());
    out.printf(Locale.ROOT, "pool.snapshot() attempts: %s%n", report.poolAttempts());
  }
}
