package io.github.llmpool;

import java.time.Duration;

/** Argument checks shared by the value builders, with the house's messages. Stateless. */
final class Checks {
  private Checks() {}

  /** {@code v}, if at least {@code min}; else "name must be >= min but was v". */
  static int atLeast(String name, int v, int min) {
    if (v < min) {
      throw new IllegalArgumentException(name + " must be >= " + min + " but was " + v);
    }
    return v;
  }

  /** {@code v}, if at least {@code min}; else "name must be >= min but was v". */
  static long atLeast(String name, long v, long min) {
    if (v < min) {
      throw new IllegalArgumentException(name + " must be >= " + min + " but was " + v);
    }
    return v;
  }

  /** {@code d} (non-null), if not negative; else "name must not be negative but was d". */
  static Duration nonNegative(String name, Duration d) {
    if (d.isNegative()) {
      throw new IllegalArgumentException(name + " must not be negative but was " + d);
    }
    return d;
  }

  /** {@code d} in nanoseconds, if not negative and representable; else an IllegalArgumentException naming it. */
  static long nanos(String name, Duration d) {
    nonNegative(name, d);
    try {
      return d.toNanos();
    } catch (ArithmeticException e) {
      throw new IllegalArgumentException(name + " must be at most " + Duration.ofNanos(Long.MAX_VALUE) + " but was " + d);
    }
  }
}
