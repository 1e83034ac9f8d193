package io.github.llmpool.telemetry;

import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Model names as attribute values, bounded: a configured model (or a dated snapshot of one,
 * {@code gpt-4o-mini-2024-07-18} for {@code gpt-4o-mini}) by name, at most {@link #MAX} distinct
 * ones, anything else {@link TelemetryValues#OTHER}. A caller cannot create attribute values.
 * Thread-safe.
 */
public final class ModelNames {
  /** Most distinct model values per pool; further ones are {@code other}. */
  public static final int MAX = 64;

  private volatile Set<String> configured = Set.of();
  private final ConcurrentHashMap<String, String> values = new ConcurrentHashMap<>();

  /** Names nothing until {@link #configure} is called. */
  public ModelNames() {}

  /**
   * Sets the configured models (the providers' {@code model}s plus listed extra ones).
   *
   * @param models the names
   */
  public void configure(Set<String> models) {
    this.configured = Set.copyOf(models);
  }

  /**
   * A model name as a value.
   *
   * @param model the name, or null
   * @return the name when configured (at most {@link #MAX} distinct), {@code other} otherwise,
   *     {@code none} for null
   */
  public String value(String model) {
    if (model == null) {
      return TelemetryValues.NONE;
    }
    String t = values.get(model);
    if (t != null) {
      return t;
    }
    Set<String> c = configured;
    String tag = TelemetryValues.OTHER;
    if (c.contains(model)) {
      tag = model;
    } else {
      for (String m : c) {
        if (model.startsWith(m + "-")) {
          tag = model;
          break;
        }
      }
    }
    if (tag == TelemetryValues.OTHER) {
      return tag; // not cached: the set of unconfigured names is unbounded
    }
    if (values.size() >= MAX) {
      return TelemetryValues.OTHER;
    }
    values.putIfAbsent(model, tag);
    return tag;
  }
}
