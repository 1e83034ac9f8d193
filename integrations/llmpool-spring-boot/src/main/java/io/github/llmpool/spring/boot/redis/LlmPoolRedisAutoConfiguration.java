package io.github.llmpool.spring.boot.redis;

import io.github.llmpool.redis.RedisSharedState;
import io.github.llmpool.spring.boot.LlmPoolAutoConfiguration;
import io.github.llmpool.spring.boot.LlmPoolCustomizer;
import java.time.Duration;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBooleanProperty;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.boot.context.properties.bind.Binder;
import org.springframework.context.annotation.Bean;
import org.springframework.core.Ordered;
import org.springframework.core.annotation.Order;
import org.springframework.core.env.Environment;

/**
 * Shares every {@code llmpool.pools.*} pool's evictions, quota windows and affinity between the
 * application's instances through Redis, with {@code llmpool-redis}'s {@link RedisSharedState}.
 * Active when {@code llmpool-redis} is on the class path and {@code llmpool.shared.redis.uri} is
 * set (e.g. {@code ${REDIS_URL}}); Spring's own {@code spring.data.redis.*} is deliberately not
 * read: the Redis an application caches in is not necessarily the one its instances should
 * coordinate through, and sharing must be asked for. Optional settings, as the builder's:
 * {@code llmpool.shared.redis.key-prefix}, {@code publish-interval}, {@code resync-interval},
 * {@code command-timeout}, {@code share-quota}, {@code share-affinity}, and for configured limits
 * and budgets taken in leases {@code share-limits}, {@code lease-share}, {@code lease-ttl},
 * {@code share-budgets}, {@code budget-lease-share}. A bad value fails start-up naming the
 * property ({@code llmpool.shared.redis.lease-share: leaseShare must be > 0 and <= 1 but was 0.0}).
 * A {@link RedisSharedState} bean of your own replaces this one (and is used the same way).
 */
@AutoConfiguration(before = LlmPoolAutoConfiguration.class)
@ConditionalOnClass(RedisSharedState.class)
@ConditionalOnProperty(name = "llmpool.shared.redis.uri")
@ConditionalOnBooleanProperty(name = "llmpool.enabled", matchIfMissing = true)
public class LlmPoolRedisAutoConfiguration {

  /** Created by Spring Boot's auto-configuration. */
  public LlmPoolRedisAutoConfiguration() {
  }

  /**
   * The shared state, closed with the context (after the pools that use it).
   *
   * @param env the {@code llmpool.shared.redis.*} settings
   * @return the shared state
   */
  @Bean(destroyMethod = "close")
  @ConditionalOnMissingBean(RedisSharedState.class)
  public RedisSharedState llmpoolRedisSharedState(Environment env) {
    String p = "llmpool.shared.redis.";
    Binder bind = Binder.get(env);
    RedisSharedState.Builder b = RedisSharedState.builder().uri(env.getRequiredProperty(p + "uri"));
    setting(bind, p, "key-prefix", String.class, b::keyPrefix);
    setting(bind, p, "publish-interval", Duration.class, b::publishInterval);
    setting(bind, p, "resync-interval", Duration.class, b::resyncInterval);
    setting(bind, p, "command-timeout", Duration.class, b::commandTimeout);
    setting(bind, p, "share-quota", Boolean.class, b::shareQuota);
    setting(bind, p, "share-affinity", Boolean.class, b::shareAffinity);
    setting(bind, p, "share-limits", Boolean.class, b::shareLimits);
    setting(bind, p, "lease-share", Double.class, b::leaseShare);
    setting(bind, p, "lease-ttl", Duration.class, b::leaseTtl);
    setting(bind, p, "share-budgets", Boolean.class, b::shareBudgets);
    setting(bind, p, "budget-lease-share", Double.class, b::budgetLeaseShare);
    return b.build();
  }

  /** Binds {@code prefix + name} when set and hands it to the builder; a refused value names the property. */
  private static <T> void setting(Binder bind, String prefix, String name, Class<T> type,
      java.util.function.Consumer<T> setter) {
    bind.bind(prefix + name, type).ifBound(v -> {
      try {
        setter.accept(v);
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException(prefix + name + ": " + e.getMessage());
      }
    });
  }

  /**
   * Sets the shared state on every pool's builder, first (a customizer of yours may still replace it).
   *
   * @param shared the shared state
   * @return the customizer
   */
  @Bean
  @Order(Ordered.HIGHEST_PRECEDENCE)
  public LlmPoolCustomizer llmpoolRedisSharedStateCustomizer(RedisSharedState shared) {
    return (pool, builder) -> builder.sharedState(shared);
  }
}
