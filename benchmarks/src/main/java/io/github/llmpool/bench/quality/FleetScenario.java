package io.github.llmpool.bench.quality;

import java.util.List;
import java.util.Locale;

/**
 * The fleet experiment's providers and load (issue 18): tier 0 is three providers of
 * {@value #RPM} requests per minute each (token buckets; tokens per minute enforced too, set so
 * that the request limit binds first), tier 1 one fallback provider of {@value #FALLBACK_RPM}
 * RPM; all send OpenAI's rate-limit headers. The offered load is a share of tier 0's capacity
 * (the limited providers); each request goes to one of {@code instances} instances at random.
 * The coordinator and every instance process build it from the same arguments, so they agree on
 * the workload (seeded).
 */
final class FleetScenario {
  static final long RPM = 100;
  static final long FALLBACK_RPM = 1000;

  private FleetScenario() {}

  static QuotaScenario of(double load, double durationMin, int instances) {
    List<QuotaScenario.Spec> tier0 = QuotaScenario.three("p", new long[] {RPM, RPM, RPM}, new int[] {1, 1, 1},
        QuotaLimit.Kind.BUCKET, Dialect.OPENAI);
    List<QuotaScenario.Spec> tier1 = QuotaScenario.three("f", new long[] {FALLBACK_RPM}, new int[] {1},
        QuotaLimit.Kind.BUCKET, Dialect.OPENAI);
    int pct = (int) Math.round(load * 100);
    return new QuotaScenario("fleet-" + pct, String.format(Locale.ROOT, "%d instances, %d%% of tier 0", instances, pct),
        instances + " instances share 3 providers of " + RPM + " RPM (token buckets, TPM enforced, OpenAI headers) and a"
            + " fallback of " + FALLBACK_RPM + " RPM; offered " + pct + "% of tier 0's capacity.",
        List.of(tier0, tier1), load, true, instances, durationMin);
  }
}
