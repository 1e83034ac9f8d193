package io.github.llmpool.micrometer;

import io.github.llmpool.Outcome;
import io.github.llmpool.TokenUsage;
import io.github.llmpool.spi.AttemptEnd;
import java.util.Locale;

/** Tag values, interned: every value a meter gets comes from here or from configuration. */
final class Tags {
  private Tags() {}

  static final String CANCELLED = "cancelled";
  static final String TRUNCATED = "truncated_stream";
  static final String NONE = "none";
  static final String OTHER = "other";

  private static final String[] OUTCOMES = new String[Outcome.values().length];
  private static final String[] STATUSES = new String[1000];
  private static final String[] TIERS = new String[64];

  static {
    for (Outcome o : Outcome.values()) {
      OUTCOMES[o.ordinal()] = o.name().toLowerCase(Locale.ROOT);
    }
    for (int i = 100; i < STATUSES.length; i++) {
      STATUSES[i] = Integer.toString(i);
    }
    for (int i = 0; i < TIERS.length; i++) {
      TIERS[i] = Integer.toString(i);
    }
  }

  /** {@code success}, {@code rate_limited}, ... or {@code cancelled}. */
  static String outcome(Outcome o) {
    return o == null ? CANCELLED : OUTCOMES[o.ordinal()];
  }

  static String status(int status) {
    return status >= 100 && status < 1000 ? STATUSES[status] : NONE;
  }

  static String tier(int tier) {
    return tier >= 0 && tier < TIERS.length ? TIERS[tier] : Integer.toString(tier);
  }

  /** How an attempt ended, as one word: its outcome, or {@code truncated_stream}. */
  static String result(AttemptEnd e) {
    if (e.bodyEnd().isPresent() && e.bodyEnd().get() == TokenUsage.End.TRUNCATED) {
      return TRUNCATED;
    }
    return outcome(e.outcome().orElse(null));
  }

  /**
   * The {@code error.type} of a request that ended with {@code e}: {@code none} for a success,
   * else the HTTP status of an error answer ({@code 429}, {@code 503}), {@code truncated_stream}
   * for a stream cut before its end, the outcome of a failure before any answer
   * ({@code timeout}, {@code connection_failure}), or {@code cancelled}.
   */
  static String errorType(AttemptEnd e) {
    if (e.outcome().isEmpty()) {
      return CANCELLED;
    }
    Outcome o = e.outcome().get();
    if (e.bodyEnd().isPresent() && e.bodyEnd().get() == TokenUsage.End.TRUNCATED) {
      return TRUNCATED;
    }
    int status = e.status().orElse(-1);
    if (o == Outcome.SUCCESS && status < 400) {
      return NONE;
    }
    if (status >= 400) {
      return status(status);
    }
    return outcome(o);
  }
}
