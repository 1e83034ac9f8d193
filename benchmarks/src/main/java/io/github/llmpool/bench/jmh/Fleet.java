package io.github.llmpool.bench.jmh;

import io.github.llmpool.EvictionPolicy;
import io.github.llmpool.Outcome;
import io.github.llmpool.Provider;
import io.github.llmpool.ProviderPool;
import io.github.llmpool.spi.RandomSource;
import io.github.llmpool.Strategy;
import io.github.llmpool.internal.health.Health;
import io.github.llmpool.internal.health.LatencyModel;
import io.github.llmpool.internal.health.ProviderState;
import io.github.llmpool.internal.route.Endpoint;
import io.github.llmpool.internal.engine.PoolCore;
import io.github.llmpool.internal.route.Slot;
import io.github.llmpool.internal.okhttp.PoolInterceptor;
import io.github.llmpool.internal.route.Router;
import java.lang.reflect.Field;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;

/**
 * One deterministic fleet of providers, described once and materialised for llmpool (slots with
 * live {@link ProviderState}s) and for Ribbon (see {@link RibbonFleet}), so both selectors see the
 * same weights, latencies and in-flight counts.
 *
 * <p>Seeded (42): provider {@code i} has weight 10/20/30/40 (cycling), a latency level between 200
 * ms and 2 s, five latency samples spread over the last five seconds (±20% around its level), and
 * 0 to 3 requests in flight.
 */
final class Fleet {
  /** The pool's defaults: τ = 10 s, 1 s estimate before the first sample, LLM-aware signal. */
  static final LatencyModel MODEL = new LatencyModel(10_000_000_000L, 1_000_000_000L, true);
  /** The same with the decay before bounded forgetting (hyperbolic, no exploration): old vs new in one run. */
  static final LatencyModel LEGACY = LatencyModel.legacy(10_000_000_000L, 1_000_000_000L, true);
  static final int SAMPLES = 5;

  final int size;
  final int[] weight;
  final long[] latencyNanos; // the provider's level
  final long[][] sampleNanos; // SAMPLES samples around the level
  final int[] inFlight;

  Fleet(int size) {
    this.size = size;
    Random r = new Random(42);
    weight = new int[size];
    latencyNanos = new long[size];
    sampleNanos = new long[size][SAMPLES];
    inFlight = new int[size];
    for (int i = 0; i < size; i++) {
      weight[i] = 10 * (1 + i % 4);
      latencyNanos[i] = TimeUnit.MILLISECONDS.toNanos(200 + r.nextInt(1800));
      for (int k = 0; k < SAMPLES; k++) {
        sampleNanos[i][k] = (long) (latencyNanos[i] * (0.8 + 0.4 * r.nextDouble()));
      }
      inFlight[i] = r.nextInt(4);
    }
  }

  /**
   * The llmpool side: one {@link ProviderState} per provider with its samples taken at
   * {@code now - 5 s ... now - 1 s} (so the read-side decay is exercised: {@code now} is after the
   * last sample) and its in-flight requests dispatched.
   */
  ProviderState[] states(long now) {
    return states(now, MODEL);
  }

  /** {@link #states(long)} with samples taken under {@code model}. */
  ProviderState[] states(long now, LatencyModel model) {
    ProviderState[] states = new ProviderState[size];
    for (int i = 0; i < size; i++) {
      ProviderState s = new ProviderState("p" + i);
      for (int k = 0; k < SAMPLES; k++) {
        s.sample(now - TimeUnit.SECONDS.toNanos(SAMPLES - k), sampleNanos[i][k], model);
      }
      for (int f = 0; f < inFlight[i]; f++) {
        s.dispatch(now);
      }
      states[i] = s;
    }
    return states;
  }

  static Endpoint endpoint(String name) {
    return new Endpoint(name, "https", name + ".llm.example.com", 443, "/v1", "Authorization",
        "Bearer sk-bench-not-a-secret", "gpt-4o-mini", List.of(), true);
  }

  /** All providers in one tier. */
  Router router(Strategy strategy, ProviderState[] states) {
    return router(strategy, states, MODEL);
  }

  /** All providers in one tier, under {@code model}. */
  Router router(Strategy strategy, ProviderState[] states, LatencyModel model) {
    List<Slot> tier = new ArrayList<>();
    for (int i = 0; i < size; i++) {
      tier.add(new Slot(endpoint(states[i].name()), states[i], 0, weight[i]));
    }
    return new Router(strategy, List.of(tier), RandomSource.threadLocal(), model);
  }

  /** The first half of the providers (at least one) in tier 0, the rest in tier 1. */
  Router twoTiers(Strategy strategy, ProviderState[] states) {
    int half = Math.max(1, size / 2);
    List<Slot> t0 = new ArrayList<>();
    List<Slot> t1 = new ArrayList<>();
    for (int i = 0; i < size; i++) {
      int tier = i < half ? 0 : 1;
      (tier == 0 ? t0 : t1).add(new Slot(endpoint(states[i].name()), states[i], tier, weight[i]));
    }
    return new Router(strategy, List.of(t0, t1), RandomSource.threadLocal(), MODEL);
  }

  /**
   * A real pool ({@code ProviderPool.builder()}, default settings but the strategy) over the fleet,
   * its engine taken from the interceptor by reflection (the class path allows it), its provider
   * states filled like {@link #states}.
   */
  static PoolCore poolCore(Fleet fleet, Strategy strategy, long now) {
    ProviderPool.Builder b = ProviderPool.builder().strategy(strategy);
    List<Provider> tier = new ArrayList<>();
    for (int i = 0; i < fleet.size; i++) {
      tier.add(Provider.builder("p" + i).baseUrl("https://p" + i + ".llm.example.com/v1")
          .apiKey("sk-bench-not-a-secret").model("gpt-4o-mini").weight(fleet.weight[i]).build());
    }
    b.tier(tier);
    ProviderPool pool = b.build();
    PoolCore core = core(pool);
    for (Slot s : core.router().slots()) {
      int i = Integer.parseInt(s.name().substring(1));
      for (int k = 0; k < SAMPLES; k++) {
        s.state.sample(now - TimeUnit.SECONDS.toNanos(SAMPLES - k), fleet.sampleNanos[i][k], MODEL);
      }
      for (int f = 0; f < fleet.inFlight[i]; f++) {
        s.state.dispatch(now);
      }
    }
    return core;
  }

  /** A pool's engine, taken from its interceptor by reflection (the class path allows it). */
  static PoolCore core(ProviderPool pool) {
    try {
      Field f = PoolInterceptor.class.getDeclaredField("core");
      f.setAccessible(true);
      return (PoolCore) f.get(pool.interceptor());
    } catch (ReflectiveOperationException e) {
      throw new IllegalStateException("PoolInterceptor has no 'core' field any more", e);
    }
  }

  /** Evicts providers {@code [from, to)} for an hour, as a 429 with a one-hour Retry-After would. */
  static void evict(ProviderState[] states, int from, int to, long now) {
    Health health = new Health(EvictionPolicy.defaults(), MODEL, RandomSource.threadLocal());
    for (int i = from; i < to; i++) {
      if (health.onFailure(states[i], Outcome.RATE_LIMITED, TimeUnit.HOURS.toNanos(1), now, false, true) == null) {
        throw new IllegalStateException("provider " + i + " was not evicted");
      }
    }
  }
}
