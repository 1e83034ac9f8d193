package io.github.llmpool.redis;

import io.github.llmpool.spi.SharedState;
import io.github.llmpool.spi.SharedStateFactory;

/**
 * The {@code redis} shared state of the configuration file, registered for
 * {@link java.util.ServiceLoader}: {@code "shared": {"redis": "${REDIS_URL}"}} makes a
 * {@link RedisSharedState} on that URI with the default settings (the builder's, for code that
 * needs others). The caller closes it after its pools ({@code PoolConfig.sharedState()}).
 */
public final class RedisSharedStateFactory implements SharedStateFactory {
  /** For {@link java.util.ServiceLoader}. */
  public RedisSharedStateFactory() {}

  /** {@return {@code "redis"}} */
  @Override
  public String kind() {
    return "redis";
  }

  /**
   * A {@link RedisSharedState} on {@code uri}; connects in the background.
   *
   * @param uri a {@code redis://}, {@code rediss://}, {@code redis-sentinel://} or {@code redis-socket://} URI
   * @return the shared state
   * @throws IllegalArgumentException if it is not such a URI (the value is not shown)
   */
  @Override
  public SharedState create(String uri) {
    return RedisSharedState.builder().uri(uri).build();
  }
}
