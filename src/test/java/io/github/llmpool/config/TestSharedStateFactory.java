package io.github.llmpool.config;

import io.github.llmpool.spi.SharedState;
import io.github.llmpool.spi.SharedStateFactory;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * A {@link SharedStateFactory} of kind {@code memory}, registered for the core's tests in
 * {@code META-INF/services}: records each value it is given and makes a local-only state naming
 * nothing of it. A value {@code "refuse:..."} is refused, quoting itself (the config must not
 * pass that on).
 */
public final class TestSharedStateFactory implements SharedStateFactory {
  /** Every value create was called with, in order. */
  static final List<String> CREATED = new CopyOnWriteArrayList<>();

  @Override
  public String kind() {
    return "memory";
  }

  @Override
  public SharedState create(String value) {
    if (value.startsWith("refuse:")) {
      throw new IllegalArgumentException("bad memory uri " + value);
    }
    CREATED.add(value);
    return new SharedState() {
      @Override
      public Publisher join(String pool, Receiver receiver) {
        return e -> {};
      }

      @Override
      public String toString() {
        return "TestSharedState";
      }
    };
  }
}
