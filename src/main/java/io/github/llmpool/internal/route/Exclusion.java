package io.github.llmpool.internal.route;

import io.github.llmpool.internal.route.Slot;

/** Providers a logical request must not be sent to again (those it already tried). */
@FunctionalInterface
public interface Exclusion {
  boolean excludes(Slot slot);
}
