package io.github.llmpool.spring.boot.actuate;

import io.github.llmpool.PoolSnapshot;
import io.github.llmpool.ProviderPool;
import io.github.llmpool.ProviderSnapshot;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import org.springframework.boot.health.contributor.Health;
import org.springframework.boot.health.contributor.HealthIndicator;

/**
 * The health of one pool from {@link ProviderPool#snapshot()}: {@code UP} while some provider is
 * {@code AVAILABLE} (in the rotation), {@code OUT_OF_SERVICE} when every provider is drained,
 * {@code DOWN} otherwise (every provider evicted, probing or drained). Details: the pool's
 * strategy and, per provider, its tier, status and remaining eviction. No credential, URL or
 * header is shown.
 */
public class ProviderPoolHealthIndicator implements HealthIndicator {
  private final ProviderPool pool;

  /**
   * A health indicator of {@code pool}.
   *
   * @param pool the pool
   */
  public ProviderPoolHealthIndicator(ProviderPool pool) {
    this.pool = Objects.requireNonNull(pool, "pool");
  }

  /** {@inheritDoc} */
  @Override
  public Health health() {
    PoolSnapshot s = pool.snapshot();
    boolean available = false;
    boolean allDrained = !s.providers().isEmpty();
    Map<String, Object> providers = new LinkedHashMap<>();
    for (ProviderSnapshot p : s.providers()) {
      available |= p.status() == ProviderSnapshot.Status.AVAILABLE;
      allDrained &= p.status() == ProviderSnapshot.Status.DRAINED;
      providers.put(p.name(), PoolViews.health(p));
    }
    Health.Builder b = available ? Health.up() : allDrained ? Health.outOfService() : Health.down();
    return b.withDetail("strategy", s.strategy().name()).withDetail("providers", providers).build();
  }
}
