package io.github.llmpool.internal.okhttp;

import io.github.llmpool.Affinity;
import io.github.llmpool.internal.engine.Failures;
import io.github.llmpool.internal.okhttp.JsonRequest;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A caller's request as {@link Affinity.RequestView} sees it: method, path after the virtual
 * prefix, headers, and the body fields the pool already parsed. Immutable; one per request.
 */
final class AffinityView implements Affinity.RequestView {
  private static final Logger log = LoggerFactory.getLogger("io.github.llmpool");

  private final RequestPlan plan;

  private AffinityView(RequestPlan plan) {
    this.plan = plan;
  }

  /**
   * The request's affinity key, or null: no key, or the key function threw, and the request is
   * then routed without affinity. Whatever the function throws counts, an {@link Error} or a
   * checked exception thrown undeclared included (an {@link InterruptedException} gives the thread
   * its interrupt back), except a {@link VirtualMachineError}, which is the JVM's and is rethrown.
   * The failure is logged by class and origin only ({@link Failures#describe}): its message may
   * quote the key or what the key is derived from.
   */
  static String key(Affinity spec, RequestPlan plan) {
    try {
      return spec.keyOf(new AffinityView(plan)).orElse(null);
    } catch (Throwable e) { // a key function is caller code: anything may come out of it
      if (e instanceof VirtualMachineError) {
        throw (VirtualMachineError) e;
      }
      if (e instanceof InterruptedException) {
        Thread.currentThread().interrupt();
      }
      // Never the message nor the stack trace: they may quote the request (the session id itself).
      log.warn("llmpool affinity key function threw {}; request routed without affinity", Failures.describe(e));
      return null;
    }
  }

  @Override
  public String method() {
    return plan.original.method();
  }

  @Override
  public String path() {
    return plan.restPath;
  }

  @Override
  public Optional<String> header(String name) {
    return Optional.ofNullable(plan.original.header(name));
  }

  @Override
  public Optional<String> model() {
    JsonRequest j = plan.json;
    return j == null ? Optional.empty() : Optional.ofNullable(j.model());
  }

  @Override
  public Optional<String> user() {
    JsonRequest j = plan.json;
    return j == null ? Optional.empty() : Optional.ofNullable(j.user());
  }

  @Override
  public Optional<String> promptCacheKey() {
    JsonRequest j = plan.json;
    return j == null ? Optional.empty() : Optional.ofNullable(j.promptCacheKey());
  }
}
