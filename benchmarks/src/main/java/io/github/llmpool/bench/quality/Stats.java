package io.github.llmpool.bench.quality;

import java.util.Arrays;

/** Percentiles (nearest rank) and small helpers over samples. Stateless. */
final class Stats {
  private Stats() {}

  /** The nearest-rank percentile {@code p} (0..100) of unsorted samples; NaN when empty. */
  static double percentile(double[] samples, double p) {
    if (samples.length == 0) {
      return Double.NaN;
    }
    double[] s = samples.clone();
    Arrays.sort(s);
    return sorted(s, p);
  }

  /** The nearest-rank percentile of sorted samples. */
  static double sorted(double[] s, double p) {
    if (s.length == 0) {
      return Double.NaN;
    }
    int rank = (int) Math.ceil(p / 100.0 * s.length);
    return s[Math.min(s.length - 1, Math.max(0, rank - 1))];
  }

  static double mean(double[] s) {
    if (s.length == 0) {
      return Double.NaN;
    }
    double sum = 0;
    for (double x : s) {
      sum += x;
    }
    return sum / s.length;
  }

  static double max(double[] s) {
    double m = Double.NaN;
    for (double x : s) {
      m = Double.isNaN(m) ? x : Math.max(m, x);
    }
    return m;
  }

  static double round(double v, int digits) {
    if (!Double.isFinite(v)) {
      return v;
    }
    double f = Math.pow(10, digits);
    return Math.round(v * f) / f;
  }
}
