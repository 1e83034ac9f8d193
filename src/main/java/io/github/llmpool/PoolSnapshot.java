package io.github.llmpool;

import java.util.List;
import java.util.Optional;

/**
 * An immutable view of every provider of a pool, in tier order.
 *
 * @param strategy the selection strategy in force
 * @param providers every provider, tier by tier
 */
public record PoolSnapshot(Strategy strategy, List<ProviderSnapshot> providers) {

  public PoolSnapshot {
    providers = List.copyOf(providers);
  }

  /** The provider with this name. */
  public Optional<ProviderSnapshot> provider(String name) {
    return providers.stream().filter(p -> p.name().equals(name)).findFirst();
  }

  /** Sum of in-flight attempts over all providers. */
  public long inFlight() {
    return providers.stream().mapToLong(ProviderSnapshot::inFlight).sum();
  }
}
