package io.github.llmpool.spring.boot.actuate;

import io.github.llmpool.ProviderPool;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.springframework.boot.actuate.endpoint.annotation.Endpoint;
import org.springframework.boot.actuate.endpoint.annotation.ReadOperation;
import org.springframework.boot.actuate.endpoint.annotation.Selector;

/**
 * The {@code llmpool} Actuator endpoint: the snapshot of every pool
 * ({@code GET /actuator/llmpool}) or of one ({@code GET /actuator/llmpool/<name>}): strategy,
 * in-flight attempts and, per provider, tier, weight, status, remaining eviction, ejections,
 * latency estimate, request/success/failure counters and tokens (total, input, output, cached,
 * reasoning). No credential, URL or
 * header is shown. Read-only. Expose it over HTTP as any endpoint
 * ({@code management.endpoints.web.exposure.include=health,llmpool}).
 */
@Endpoint(id = "llmpool")
public class LlmPoolEndpoint {
  private final List<ProviderPool> pools;

  /**
   * An endpoint over {@code pools}.
   *
   * @param pools the pools to show, in order
   */
  public LlmPoolEndpoint(List<ProviderPool> pools) {
    this.pools = List.copyOf(pools);
  }

  /**
   * Every pool's snapshot.
   *
   * @return {@code {"pools": {<name>: {...}}}}
   */
  @ReadOperation
  public Map<String, Object> pools() {
    Map<String, Object> byName = new LinkedHashMap<>();
    for (ProviderPool p : pools) {
      byName.put(p.name(), PoolViews.pool(p));
    }
    return Map.of("pools", byName);
  }

  /**
   * One pool's snapshot.
   *
   * @param name the pool's name
   * @return the pool's snapshot, or null (404) if there is no such pool
   */
  @ReadOperation
  public Map<String, Object> pool(@Selector String name) {
    for (ProviderPool p : pools) {
      if (p.name().equals(name)) {
        return PoolViews.pool(p);
      }
    }
    return null;
  }
}
