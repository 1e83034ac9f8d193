package io.github.llmpool.internal.route;

import io.github.llmpool.internal.route.Slot;

/**
 * What the pick needs to know of one logical request: the providers it must not be sent to again
 * (those it already tried) and its token estimate, which a provider's quota headroom must hold.
 */
@FunctionalInterface
public interface Exclusion {
  boolean excludes(Slot slot);

  /** The request's estimated tokens (prompt plus completion budget) for quota headroom; 0: unknown. */
  default long tokens() {
    return 0;
  }
}
