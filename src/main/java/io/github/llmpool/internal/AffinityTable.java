package io.github.llmpool.internal;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import io.github.llmpool.Affinity;
import io.github.llmpool.Ticker;

/**
 * The pool's sticky table: affinity key to provider name, bounded by {@link Affinity#maxSize()}
 * and forgetting keys idle for {@link Affinity#idleExpiry()}. A Caffeine cache on the pool's
 * {@link Ticker} (so tests move a fake clock) whose maintenance runs on the calling thread
 * ({@code executor(Runnable::run)}: deterministic, and no work handed to the common pool).
 * Thread-safe. Keys are never logged.
 */
public final class AffinityTable {
  private final Affinity spec;
  private final Cache<String, String> cache;

  public AffinityTable(Affinity spec, Ticker ticker) {
    this.spec = spec;
    this.cache = Caffeine.newBuilder()
        .maximumSize(spec.maxSize())
        .expireAfterAccess(spec.idleExpiry())
        .ticker(ticker::read)
        .executor(Runnable::run)
        .build();
  }

  public Affinity spec() {
    return spec;
  }

  /** The provider remembered for {@code key} (refreshing its idle time), or null. */
  public String provider(String key) {
    return cache.getIfPresent(key);
  }

  /** Remembers {@code provider} for {@code key}; writes only when it changes. */
  public void remember(String key, String provider, String known) {
    if (!provider.equals(known)) {
      cache.put(key, provider);
    }
  }

  /** The number of remembered keys after pending maintenance (evictions, expiries) has run. */
  public long size() {
    cache.cleanUp();
    return cache.estimatedSize();
  }
}
