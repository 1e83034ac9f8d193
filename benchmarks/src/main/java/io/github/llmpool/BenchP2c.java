package io.github.llmpool;

/**
 * Benchmarks only: reaches the package-private switch of {@link P2cSettings} that restores the
 * latency decay of llmpool before bounded forgetting (hyperbolic {@code tau / (tau + dt)}, the
 * peak EWMA's {@code exp(-dt / tau)} weights, no exploration), so that the quality experiment runs
 * today's and the earlier behaviour side by side in one JVM. Lives in the benchmarks' class path
 * only; the library's API has no such setting.
 */
public final class BenchP2c {
  private BenchP2c() {}

  /** {@code b} with the legacy decay switched on or off. */
  public static P2cSettings.Builder legacyDecay(P2cSettings.Builder b, boolean legacy) {
    b.legacyDecay = legacy;
    return b;
  }
}
