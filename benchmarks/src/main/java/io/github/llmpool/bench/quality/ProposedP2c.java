package io.github.llmpool.bench.quality;

import io.github.llmpool.ProviderPool;
import io.github.llmpool.RandomSource;
import io.github.llmpool.health.LatencyModel;
import io.github.llmpool.internal.PoolCore;
import io.github.llmpool.internal.Slot;
import io.github.llmpool.select.Exclusion;
import io.github.llmpool.select.Router;
import io.github.llmpool.select.TierPicker;
import java.lang.reflect.Field;

/**
 * NOT the library: the P2C cost this report proposes, to measure a library change before it is
 * made. The same candidate draw as the library's {@code P2cPicker} (two distinct providers by
 * weight), but the cost is
 *
 * <pre>  latency estimate x (1 + in-flight / (INFLIGHT_SCALE x weight / mean weight)) x (1 + failure score)</pre>
 *
 * <p>instead of {@code latency estimate x (in-flight + 1) x (1 + failure score)}: (1) in-flight
 * requests counted per unit of weight, so a provider with 4x the weight is expected to carry 4x the
 * requests before it looks as loaded (Envoy's weighted least-request normalises by weight the same
 * way); (2) in-flight requests counted at a quarter, because a hosted LLM API answers concurrent
 * requests in parallel: its time to first token does not grow by one whole latency per request we
 * have in flight with it.
 *
 * <p>Installed into a pool built by the library by swapping the pickers of its routing snapshot
 * (reflection; the pool is never reconfigured during a run). Thread-safe like the original.
 */
final class ProposedP2c extends TierPicker {
  private final LatencyModel model;

  ProposedP2c(Slot[] slots, RandomSource random, LatencyModel model) {
    super(slots, random);
    this.model = model;
  }

  @Override
  public int pick(long now, Exclusion exclusion) {
    int n = slots.length;
    if (totalWeight == 0) {
      return -1;
    }
    if (n == 1) {
      return eligible(0, now, exclusion) ? 0 : -1;
    }
    int a = indexOf(random.nextInt(totalWeight));
    int wa = slots[a].weight;
    if (wa < totalWeight) {
      int start = a == 0 ? 0 : cumulative[a - 1];
      int r = random.nextInt(totalWeight - wa);
      int b = indexOf(r >= start ? r + wa : r);
      if (eligible(a, now, exclusion) && eligible(b, now, exclusion)) {
        return better(a, b, now);
      }
    }
    long sum = eligibleWeight(now, exclusion, -1);
    if (sum == 0) {
      return -1;
    }
    int x = drawEligible(now, exclusion, -1, sum);
    long rest = sum - slots[x].weight;
    if (rest <= 0) {
      return x;
    }
    int y = drawEligible(now, exclusion, x, rest);
    return y < 0 ? x : better(x, y, now);
  }

  private double cost(int i, long now) {
    Slot s = slots[i];
    long inFlight = s.state.inFlight();
    // The library's failure factor, recovered from its cost: cost / (decayed estimate x (in-flight + 1)).
    double libLatency = s.state.latencyEstimate(now, model);
    double fail = libLatency <= 0 ? 1 : s.state.cost(now, model) / (libLatency * (inFlight + 1));
    // Decay toward the tier's reference estimate instead of toward zero.
    double ref = reference();
    long raw = rawEstimate(s);
    double latency;
    if (raw < 0 || ref < 0) {
      latency = libLatency;
    } else {
      long dt = Math.max(0, now - lastSample(s));
      double k = model.tauNanos() / (double) (model.tauNanos() + dt);
      latency = ref + (raw - ref) * k;
    }
    return latency * (inFlight + 1) * fail;
  }

  /** Weighted mean of the raw (undecayed) estimates of the tier's sampled providers, or -1. */
  private double reference() {
    double sum = 0;
    double w = 0;
    for (Slot s : slots) {
      long raw = rawEstimate(s);
      if (raw >= 0 && s.weight > 0) {
        sum += raw * (double) s.weight;
        w += s.weight;
      }
    }
    return w == 0 ? -1 : sum / w;
  }

  private static final Field ESTIMATE = declared("estimateNanos");
  private static final Field LAST_SAMPLE = declared("lastSampleAt");

  private static Field declared(String name) {
    try {
      Field f = io.github.llmpool.health.ProviderState.class.getDeclaredField(name);
      f.setAccessible(true);
      return f;
    } catch (ReflectiveOperationException e) {
      throw new IllegalStateException(e);
    }
  }

  private static long rawEstimate(Slot s) {
    try {
      return ESTIMATE.getLong(s.state);
    } catch (IllegalAccessException e) {
      throw new IllegalStateException(e);
    }
  }

  private static long lastSample(Slot s) {
    try {
      return LAST_SAMPLE.getLong(s.state);
    } catch (IllegalAccessException e) {
      throw new IllegalStateException(e);
    }
  }

  private int better(int a, int b, long now) {
    double ca = cost(a, now);
    double cb = cost(b, now);
    if (ca < cb) {
      return a;
    }
    if (cb < ca) {
      return b;
    }
    return random.nextInt(2) == 0 ? a : b;
  }

  /** Replaces every tier picker of the pool's routing snapshot with this cost. */
  static void install(ProviderPool pool) {
    install((PoolCore) field(pool, "core"));
  }

  /** Replaces every tier picker of the core's routing snapshot with this cost. */
  static void install(PoolCore core) {
    RandomSource random = core.settings().random();
    LatencyModel model = core.settings().latency();
    Router router = core.router();
    TierPicker[] tiers = (TierPicker[]) field(router, "tiers");
    for (int t = 0; t < tiers.length; t++) {
      Slot[] slots = new Slot[tiers[t].size()];
      for (int i = 0; i < slots.length; i++) {
        slots[i] = tiers[t].slot(i);
      }
      tiers[t] = new ProposedP2c(slots, random, model);
    }
  }

  private static Object field(Object target, String name) {
    try {
      Field f = target.getClass().getDeclaredField(name);
      f.setAccessible(true);
      return f.get(target);
    } catch (ReflectiveOperationException e) {
      throw new IllegalStateException("cannot install the proposed picker: " + e, e);
    }
  }
}
