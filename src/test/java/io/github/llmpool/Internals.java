package io.github.llmpool;

import io.github.llmpool.internal.engine.PoolCore;

/** Test-only access to package-private parts of the API classes, for tests in other packages. */
public final class Internals {
  private Internals() {}

  /** The exact credential header value a provider sends (never log it). */
  public static String credentialValue(Provider p) {
    return p.credentialValue();
  }

  /** The engine behind a pool. */
  public static PoolCore core(ProviderPool pool) {
    return pool.core();
  }
}
