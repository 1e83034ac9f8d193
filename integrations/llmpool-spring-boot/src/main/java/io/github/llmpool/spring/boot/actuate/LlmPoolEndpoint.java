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
 * reasoning), plus what {@link LlmPoolEndpointDetails} beans add (with llmpool-micrometer: retries,
 * failovers, evictions by cause, remaining requests and tokens). No credential, URL or header is
 * shown. Read-only. Expose it over HTTP as any endpoint
 * ({@code management.endpoints.web.exposure.include=health,llmpool}).
 */
@Endpoint(id = "llmpool")
public class LlmPoolEndpoint {
  private final List<ProviderPool> pools;
  private final List<LlmPoolEndpointDetails> details;

  /**
   * An endpoint over {@code pools}.
   *
   * @param pools the pools to show, in order
   */
  public LlmPoolEndpoint(List<ProviderPool> pools) {
    this(pools, List.of());
  }

  /**
   * An endpoint over {@code pools} with further details of each (such as its metrics).
   *
   * @param pools the pools to show, in order
   * @param details what to add to each pool's snapshot, in order
   */
  public LlmPoolEndpoint(List<ProviderPool> pools, List<LlmPoolEndpointDetails> details) {
    this.pools = List.copyOf(pools);
    this.details = List.copyOf(details);
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
      byName.put(p.name(), PoolViews.pool(p, details));
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
        return PoolViews.pool(p, details);
      }
    }
    return null;
  }
}
