package io.github.llmpool.internal.route;

import io.github.llmpool.internal.health.ProviderState;
import io.github.llmpool.internal.route.Endpoint;
import io.github.llmpool.internal.route.Slot;
import java.util.ArrayList;
import java.util.List;

/** Builds slots for selector tests without any HTTP. */
final class Slots {
  private Slots() {}

  static Slot slot(String name, int tier, int weight) {
    return new Slot(new Endpoint(name, "http", "127.0.0.1", 9, "/v1", null, null, null, List.of(), true),
        new ProviderState(name), tier, weight);
  }

  /** One tier of slots named a, b, c... with these weights. */
  static List<Slot> tier(int tier, int... weights) {
    List<Slot> out = new ArrayList<>();
    for (int i = 0; i < weights.length; i++) {
      out.add(slot(String.valueOf((char) ('a' + i + 10 * tier)), tier, weights[i]));
    }
    return out;
  }
}
