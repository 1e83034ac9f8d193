package io.github.llmpool.spring.boot.metrics;

import io.github.llmpool.ProviderPool;
import io.github.llmpool.spring.boot.actuate.LlmPoolEndpointDetails;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeMap;

/**
 * The {@code llmpool} endpoint's view of what only the metrics know, read from the pool's meters in
 * the registry when the endpoint is read: per pool {@code retries} by cause, {@code failovers} by
 * scope, {@code exhausted} by reason, {@code retryBudgetRefusals}; per provider
 * {@code remainingRequests} and {@code remainingTokens} (as its last response announced them) and
 * {@code evictions} by cause. A pool without meters (not bound, or its meters denied by a
 * {@code MeterFilter}) gets nothing.
 */
final class MeterEndpointDetails implements LlmPoolEndpointDetails {
  private final MeterRegistry registry;

  MeterEndpointDetails(MeterRegistry registry) {
    this.registry = registry;
  }

  @Override
  public Map<String, Object> pool(ProviderPool pool) {
    Map<String, Object> out = new LinkedHashMap<>();
    String name = pool.name();
    put(out, "retries", counts("llmpool.retries", "cause", "pool", name));
    put(out, "failovers", counts("llmpool.failovers", "scope", "pool", name));
    put(out, "exhausted", counts("llmpool.exhausted", "reason", "pool", name));
    Counter refusals = registry.find("llmpool.retry_budget.refusals").tags("pool", name).counter();
    if (refusals != null) {
      out.put("retryBudgetRefusals", (long) refusals.count());
    }
    return out;
  }

  @Override
  public Map<String, Object> provider(ProviderPool pool, String provider) {
    Map<String, Object> out = new LinkedHashMap<>();
    gauge(out, "remainingRequests", "llmpool.provider.remaining.requests", pool.name(), provider);
    gauge(out, "remainingTokens", "llmpool.provider.remaining.tokens", pool.name(), provider);
    put(out, "evictions", counts("llmpool.evictions", "cause", "pool", pool.name(), "provider", provider));
    return out;
  }

  /** Counts of the counters {@code name} with {@code tags}, summed by the value of {@code by}; null without any such counter. */
  private Map<String, Long> counts(String name, String by, String... tags) {
    Map<String, Long> out = null;
    for (Counter c : registry.find(name).tags(tags).counters()) {
      String value = c.getId().getTag(by);
      if (value != null) {
        if (out == null) {
          out = new TreeMap<>();
        }
        out.merge(value, (long) c.count(), Long::sum);
      }
    }
    return out;
  }

  private void gauge(Map<String, Object> out, String key, String name, String pool, String provider) {
    Gauge g = registry.find(name).tags("pool", pool, "provider", provider).gauge();
    if (g != null && !Double.isNaN(g.value())) {
      out.put(key, (long) g.value());
    }
  }

  private static void put(Map<String, Object> out, String key, Map<String, Long> counts) {
    if (counts != null) {
      out.put(key, counts);
    }
  }
}
