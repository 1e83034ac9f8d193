package io.github.llmpool.opentelemetry;

import io.github.llmpool.Provider;
import io.github.llmpool.ProviderPool;
import io.github.llmpool.telemetry.ModelNames;
import io.github.llmpool.telemetry.TelemetryValues;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.common.Attributes;
import java.lang.ref.WeakReference;
import java.net.URI;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * What a binding knows of its pool's configuration: each provider's attribute values, and the
 * bounded model names. Rebuilt when {@code ProviderPool.update} replaced the tiers.
 */
final class PoolView {
  static final AttributeKey<String> POOL = AttributeKey.stringKey("pool");
  static final AttributeKey<String> PROVIDER = AttributeKey.stringKey("provider");
  static final AttributeKey<String> OPERATION = AttributeKey.stringKey("gen_ai.operation.name");
  static final AttributeKey<String> GEN_AI_PROVIDER = AttributeKey.stringKey("gen_ai.provider.name");
  static final AttributeKey<String> REQUEST_MODEL = AttributeKey.stringKey("gen_ai.request.model");
  static final AttributeKey<String> RESPONSE_MODEL = AttributeKey.stringKey("gen_ai.response.model");
  static final AttributeKey<String> SERVER_ADDRESS = AttributeKey.stringKey("server.address");
  static final AttributeKey<Long> SERVER_PORT = AttributeKey.longKey("server.port");
  static final AttributeKey<String> ERROR_TYPE = AttributeKey.stringKey("error.type");

  /** One configured provider's values. */
  static final class Info {
    final String name;
    final URI baseUrl;
    final String model;
    final String genAiProvider;
    final String address;
    final long port;
    /** pool + provider. */
    final Attributes poolProvider;
    volatile long remainingRequests = -1;
    volatile long remainingTokens = -1;

    Info(String pool, Provider p, String genAiProvider) {
      this.name = p.name();
      this.baseUrl = p.baseUrl();
      this.model = p.model().orElse(null);
      this.address = TelemetryValues.serverAddress(p.baseUrl());
      this.port = TelemetryValues.serverPort(p.baseUrl());
      this.genAiProvider = genAiProvider;
      this.poolProvider = Attributes.of(POOL, pool, PROVIDER, name);
    }

    boolean sameConfig(Provider p) {
      return p.baseUrl().equals(baseUrl) && Objects.equals(p.model().orElse(null), model);
    }
  }

  final String operation;
  private final Map<String, String> genAiProviders;
  private final Set<String> extraModels;
  final ModelNames models = new ModelNames();
  private volatile WeakReference<ProviderPool> pool = new WeakReference<>(null);
  volatile String poolName = "unbound";
  private volatile List<List<Provider>> tiersSeen;
  private volatile Map<String, Info> providers = Map.of();
  private final Object lock = new Object();

  PoolView(String operation, Map<String, String> genAiProviders, Set<String> extraModels) {
    this.operation = operation;
    this.genAiProviders = genAiProviders;
    this.extraModels = extraModels;
  }

  void bind(ProviderPool p) {
    this.poolName = p.name();
    this.pool = new WeakReference<>(p);
    refresh(p.tiers());
  }

  ProviderPool pool() {
    return pool.get();
  }

  /** The providers as configured now. */
  Map<String, Info> providers() {
    ProviderPool p = pool.get();
    if (p != null && p.tiers() != tiersSeen) {
      refresh(p.tiers());
    }
    return providers;
  }

  Info provider(String name) {
    return providers().get(name);
  }

  private void refresh(List<List<Provider>> tiers) {
    synchronized (lock) {
      if (tiers == tiersSeen) {
        return;
      }
      Map<String, Info> next = new HashMap<>(providers);
      Set<String> configured = new HashSet<>(extraModels);
      for (List<Provider> tier : tiers) {
        for (Provider pr : tier) {
          pr.model().ifPresent(configured::add);
          Info old = next.get(pr.name());
          if (old == null || !old.sameConfig(pr)) {
            next.put(pr.name(), new Info(poolName, pr, genAiProviders.getOrDefault(pr.name(),
                TelemetryValues.genAiProviderOf(TelemetryValues.serverAddress(pr.baseUrl())))));
          }
        }
      }
      models.configure(configured);
      this.providers = Map.copyOf(next);
      this.tiersSeen = tiers;
    }
  }

  /** The model an attempt on {@code info} sent: the provider's override, else the caller's (bounded). */
  String sentModel(Info info, String requested) {
    return info != null && info.model != null ? info.model : models.value(requested);
  }
}
