package io.github.llmpool.reliability;

import io.github.llmpool.Affinity;
import io.github.llmpool.PoolEvent;
import io.github.llmpool.Provider;
import io.github.llmpool.ProviderPool;
import io.github.llmpool.TokenUsage;
import io.github.llmpool.Upstreams;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import mockwebserver3.MockWebServer;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import okhttp3.RequestBody;
import okhttp3.Response;

/**
 * The workload of {@link SecretReachabilityTest#aSessionIdNeverReachesTheLog}, run in a child JVM
 * whose SLF4J logs at TRACE to a file: requests carrying a session id (and a model name as a
 * marker of body text) through pools whose affinity key function rejects the id
 * ({@code UUID.fromString}) or throws an {@code Error} quoting it, and whose usage listener throws
 * quoting the request's model. Prints one {@code status <code or exception class>} line per call
 * and {@code finding <path>} for each place the walk over events, usage records and snapshots
 * found the session id or the marker (never the value itself). Exits 0 when it ran to the end.
 *
 * <p>Arguments: session id, model marker.
 */
public final class SessionLogScenario {
  private SessionLogScenario() {}

  public static void main(String[] args) {
    String session = args[0];
    String model = args[1];
    int status = 0;
    try (Upstreams up = new Upstreams()) {
      MockWebServer s = up.startChat();
      List<PoolEvent> events = new CopyOnWriteArrayList<>();
      List<TokenUsage> usages = new CopyOnWriteArrayList<>();
      List<Affinity> keyFunctions = List.of(
          Affinity.key(r -> UUID.fromString(r.header("X-Session-Id").orElse(null)).toString()),
          Affinity.key(r -> {
            throw new AssertionError("session " + r.header("X-Session-Id").orElse(null) + " is not one of ours");
          }));
      List<ProviderPool> pools = new ArrayList<>();
      for (Affinity a : keyFunctions) {
        ProviderPool pool = ProviderPool.builder().affinity(a).onEvent(events::add).onUsage(usages::add)
            .onUsage(u -> {
              throw new IllegalStateException("cannot meter model " + u.requestedModel().orElse(null));
            })
            .tier(Provider.builder("p").baseUrl(Upstreams.baseUrl(s)).apiKey("sk-session-scenario").build()).build();
        pools.add(pool);
        OkHttpClient client = up.client(pool);
        Request request = new Request.Builder().url(pool.baseUrl().resolve("chat/completions").toString())
            .header("X-Session-Id", session)
            .post(RequestBody.create("{\"model\":\"" + model + "\",\"messages\":[]}", Upstreams.JSON)).build();
        try (Response r = client.newCall(request).execute()) {
          r.body().string();
          System.out.println("status " + r.code());
        } catch (Throwable t) {
          System.out.println("status " + t.getClass().getName());
        }
      }
      SecretWalk walk = SecretWalk.lookingFor(List.of(session, model));
      for (int i = 0; i < events.size(); i++) {
        walk.walk("event" + i, events.get(i));
      }
      for (int i = 0; i < pools.size(); i++) {
        walk.walk("pool" + i + ".snapshot()", pools.get(i).snapshot());
      }
      // A usage record carries the requested model by design (the caller's own field); the session never.
      SecretWalk sessionOnly = SecretWalk.lookingFor(List.of(session));
      for (int i = 0; i < usages.size(); i++) {
        sessionOnly.walk("usage" + i, usages.get(i));
      }
      for (String f : walk.findings()) {
        System.out.println("finding " + f);
      }
      for (String f : sessionOnly.findings()) {
        System.out.println("finding " + f);
      }
    } catch (Throwable t) {
      StringWriter w = new StringWriter();
      t.printStackTrace(new PrintWriter(w));
      System.out.println("scenario failed: " + w.toString().replace(session, "<session>").replace(model, "<model>"));
      status = 1;
    }
    System.exit(status);
  }
}
