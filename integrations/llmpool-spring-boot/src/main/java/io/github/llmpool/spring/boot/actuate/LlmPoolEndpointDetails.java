package io.github.llmpool.spring.boot.actuate;

import io.github.llmpool.ProviderPool;
import java.util.Map;

/**
 * Adds to the {@link LlmPoolEndpoint}'s view of a pool what the pool's snapshot does not hold. The
 * metrics auto-configuration defines one that reads the pool's {@code llmpool.*} meters (retries,
 * failovers, evictions by cause, the remaining requests and tokens the providers announced). Entries
 * never replace the snapshot's own keys; values must hold no credential.
 */
public interface LlmPoolEndpointDetails {

  /**
   * Entries to add to one pool's view.
   *
   * @param pool the pool
   * @return entries by key; empty for none
   */
  default Map<String, Object> pool(ProviderPool pool) {
    return Map.of();
  }

  /**
   * Entries to add to the view of one of the pool's providers.
   *
   * @param pool the pool
   * @param provider the provider's name
   * @return entries by key; empty for none
   */
  default Map<String, Object> provider(ProviderPool pool, String provider) {
    return Map.of();
  }
}
