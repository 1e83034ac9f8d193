package io.github.llmpool.okhttp;

import io.github.llmpool.Affinity;
import io.github.llmpool.internal.JsonRequest;
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
   * The request's affinity key, or null (no key, or the key function threw: the request is then
   * routed without affinity and the failure logged without the key). Whatever the function
   * throws counts, an {@link Error} or a checked exception thrown undeclared included (an
   * {@link InterruptedException} gets the thread's interrupt back), except a
   * {@link VirtualMachineError}, which is the JVM's and is rethrown.
   */
  static String key(Affinity spec, RequestPlan plan) {
    try {
      return spec.keyOf(new AffinityView(plan));
    } catch (Throwable e) { // a key function is caller code: anything may come out of it
      if (e instanceof VirtualMachineError) {
        throw (VirtualMachineError) e;
      }
      if (e instanceof InterruptedException) {
        Thread.currentThread().interrupt();
      }
      log.warn("llmpool affinity key function threw {}; request routed without affinity", e.getClass().getName(), e);
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
  public String header(String name) {
    return plan.original.header(name);
  }

  @Override
  public String model() {
    JsonRequest j = plan.json;
    return j == null ? null : j.model();
  }

  @Override
  public String user() {
    JsonRequest j = plan.json;
    return j == null ? null : j.user();
  }

  @Override
  public String promptCacheKey() {
    JsonRequest j = plan.json;
    return j == null ? null : j.promptCacheKey();
  }
}
