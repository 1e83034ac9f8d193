package io.github.llmpool.spring.boot.actuate;

import io.github.llmpool.PoolSnapshot;
import io.github.llmpool.ProviderPool;
import io.github.llmpool.ProviderSnapshot;
import io.github.llmpool.TokenCounts;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Plain maps of a pool's snapshot for Actuator output: names, states and counters, never a credential. */
final class PoolViews {

  private PoolViews() {
  }

  /** The whole pool: name, strategy, in-flight total, and every provider by name. */
  static Map<String, Object> pool(ProviderPool pool) {
    return pool(pool, List.of());
  }

  /** The whole pool, with what {@code details} add to it and to each provider (never replacing a snapshot key). */
  static Map<String, Object> pool(ProviderPool pool, List<LlmPoolEndpointDetails> details) {
    PoolSnapshot s = pool.snapshot();
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("name", pool.name());
    out.put("strategy", s.strategy().name());
    out.put("inFlight", s.inFlight());
    Map<String, Object> providers = new LinkedHashMap<>();
    for (ProviderSnapshot p : s.providers()) {
      Map<String, Object> view = provider(p);
      for (LlmPoolEndpointDetails d : details) {
        d.provider(pool, p.name()).forEach(view::putIfAbsent);
      }
      providers.put(p.name(), view);
    }
    out.put("providers", providers);
    for (LlmPoolEndpointDetails d : details) {
      d.pool(pool).forEach(out::putIfAbsent);
    }
    return out;
  }

  /** One provider: tier, weight, status, eviction left, counters and tokens (total, and input / output / cached / reasoning). */
  static Map<String, Object> provider(ProviderSnapshot p) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("tier", p.tier());
    m.put("weight", p.weight());
    m.put("status", p.status().name());
    p.evictedFor().ifPresent(d -> m.put("evictedFor", d.toString()));
    m.put("ejections", p.ejections());
    m.put("inFlight", p.inFlight());
    m.put("latencyEstimateMillis", p.latencyEstimate().toMillis());
    m.put("requests", p.requests());
    m.put("successes", p.successes());
    m.put("clientErrors", p.clientErrors());
    m.put("failures", p.failures());
    m.put("totalTokens", p.totalTokens());
    TokenCounts t = p.tokens();
    Map<String, Object> tokens = new LinkedHashMap<>();
    tokens.put("input", t.prompt());
    tokens.put("output", t.completion());
    tokens.put("cached", t.cached());
    tokens.put("reasoning", t.reasoning());
    m.put("tokens", tokens);
    return m;
  }

  /** What the health indicator shows per provider: tier, status and eviction left. */
  static Map<String, Object> health(ProviderSnapshot p) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("tier", p.tier());
    m.put("status", p.status().name());
    p.evictedFor().ifPresent(d -> m.put("evictedFor", d.toString()));
    return m;
  }
}
