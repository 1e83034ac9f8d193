package io.github.llmpool.telemetry;

import io.github.llmpool.Budget;
import io.github.llmpool.Outcome;
import io.github.llmpool.TokenUsage;
import io.github.llmpool.spi.AttemptEnd;
import java.net.URI;
import java.util.List;
import java.util.Locale;

/**
 * The attribute (tag) values llmpool's metrics and traces use, interned, and the histogram
 * buckets of the GenAI conventions: every value comes from here or from configuration, never from
 * a request or a response. Shared by {@code llmpool-micrometer} and {@code llmpool-opentelemetry}
 * so that both emit the same values.
 */
public final class TelemetryValues {
  private TelemetryValues() {}

  /** The outcome and {@code error.type} of a request the pool refused before any attempt: {@value}. */
  public static final String REFUSED = "refused";

  /** The result of a call the caller gave up on. */
  public static final String CANCELLED = "cancelled";
  /** The result of a stream cut before its end. */
  public static final String TRUNCATED = "truncated_stream";
  /** No value ({@code error.type} of a success, a status without a response). */
  public static final String NONE = "none";
  /** A model neither configured nor listed. */
  public static final String OTHER = "other";

  /**
   * Bucket boundaries of {@code gen_ai.client.token.usage} and the other token histograms
   * (semantic conventions v1.41.0).
   */
  public static final List<Double> TOKEN_BUCKETS = List.of(1d, 4d, 16d, 64d, 256d, 1024d, 4096d, 16384d, 65536d,
      262144d, 1048576d, 4194304d, 16777216d, 67108864d);

  /**
   * Bucket boundaries, in seconds, of {@code gen_ai.client.operation.duration},
   * {@code time_to_first_chunk} and {@code time_per_output_chunk} (and their
   * {@code gen_ai.client.inference.*} names).
   */
  public static final List<Double> DURATION_BUCKETS = List.of(0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56,
      5.12, 10.24, 20.48, 40.96, 81.92);

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

  /**
   * An outcome as a value: {@code success}, {@code rate_limited}, ... or {@code cancelled}.
   *
   * @param o the outcome, or null for a cancel
   * @return the value
   */
  public static String outcome(Outcome o) {
    return o == null ? CANCELLED : OUTCOMES[o.ordinal()];
  }

  /**
   * An HTTP status as a value.
   *
   * @param status the status, or -1
   * @return its digits, or {@code none} outside 100..999
   */
  public static String status(int status) {
    return status >= 100 && status < 1000 ? STATUSES[status] : NONE;
  }

  /**
   * A tier as a value.
   *
   * @param tier the tier, from 0
   * @return its digits
   */
  public static String tier(int tier) {
    return tier >= 0 && tier < TIERS.length ? TIERS[tier] : Integer.toString(tier);
  }

  /**
   * How an attempt ended, as one word: its outcome, or {@code truncated_stream}.
   *
   * @param e the attempt's end
   * @return the value
   */
  public static String result(AttemptEnd e) {
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
   *
   * @param e the last attempt's end
   * @return the value
   */
  public static String errorType(AttemptEnd e) {
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

  /**
   * The core's stop reason ({@code PoolEvent.Exhausted.reason()}) as a value.
   *
   * @param reason the text, or null
   * @return {@code retry_budget}, {@code max_attempts}, {@code not_replayable},
   *     {@code no_provider}, {@code other}, or {@code unknown} for null
   */
  public static String exhaustedReason(String reason) {
    if (reason == null) {
      return "unknown";
    }
    if (reason.contains("retry budget")) {
      return "retry_budget";
    }
    if (reason.startsWith("maxAttempts")) {
      return "max_attempts";
    }
    if (reason.contains("cannot be replayed")) {
      return "not_replayable";
    }
    if (reason.contains("no untried provider")) {
      return "no_provider";
    }
    return "other";
  }

  /**
   * A bounded value for why the pool refused a request before any attempt
   * ({@code RequestEnd.reason()}, the pool's own text): {@code drained} (the pool or every
   * provider is drained), else {@code no_provider} (every provider evicted under fail-fast, or
   * none with weight).
   *
   * @param reason the refusal's text, or null
   * @return the value
   */
  public static String refusedReason(String reason) {
    return reason != null && reason.contains("is drained") ? "drained" : "no_provider";
  }

  /**
   * The {@code scope} tag of a budget's meters: {@code pool}, {@code provider} or
   * {@code quota_group}.
   *
   * @param b the budget
   * @return the value
   */
  public static String budgetScope(Budget b) {
    return switch (b.scope()) {
      case POOL -> "pool";
      case PROVIDER -> "provider";
      case QUOTA_GROUP -> "quota_group";
    };
  }

  /**
   * The {@code unit} tag of a budget's meters: the currency code of a money budget
   * ({@code USD}), {@code tokens} for a token budget.
   *
   * @param b the budget
   * @return the value
   */
  public static String budgetUnit(Budget b) {
    return b.unit() == Budget.Unit.MONEY ? b.currency().orElse("money") : "tokens";
  }

  /**
   * The default {@code gen_ai.provider.name} for a base URL host: {@code api.openai.com} is
   * {@code openai}, {@code *.openai.azure.com} is {@code azure.ai.openai}, {@code api.anthropic.com}
   * is {@code anthropic}, {@code api.groq.com} {@code groq}, {@code api.deepseek.com}
   * {@code deepseek}, {@code api.mistral.ai} {@code mistral_ai}, {@code api.x.ai} {@code x_ai},
   * {@code generativelanguage.googleapis.com} {@code gcp.gemini}, {@code api.perplexity.ai}
   * {@code perplexity}; any other host is {@code openai}, the API the pool speaks.
   *
   * @param host the host
   * @return the value
   */
  public static String genAiProviderOf(String host) {
    String h = host.toLowerCase(Locale.ROOT);
    if (h.equals("api.openai.com")) {
      return "openai";
    }
    if (h.endsWith(".openai.azure.com")) {
      return "azure.ai.openai";
    }
    for (List<String> e : List.of(List.of("api.anthropic.com", "anthropic"), List.of("api.groq.com", "groq"),
        List.of("api.deepseek.com", "deepseek"), List.of("api.mistral.ai", "mistral_ai"), List.of("api.x.ai", "x_ai"),
        List.of("generativelanguage.googleapis.com", "gcp.gemini"), List.of("api.perplexity.ai", "perplexity"))) {
      if (h.equals(e.get(0))) {
        return e.get(1);
      }
    }
    return "openai";
  }

  /**
   * The {@code server.address} of a base URL: its host, without the brackets of an IPv6 literal.
   *
   * @param baseUrl the provider's base URL
   * @return the host
   */
  public static String serverAddress(URI baseUrl) {
    String host = baseUrl.getHost();
    if (host.startsWith("[") && host.endsWith("]")) {
      host = host.substring(1, host.length() - 1);
    }
    return host;
  }

  /**
   * The {@code server.port} of a base URL: its port, else 443 for https and 80 otherwise.
   *
   * @param baseUrl the provider's base URL
   * @return the port
   */
  public static int serverPort(URI baseUrl) {
    int port = baseUrl.getPort();
    return port != -1 ? port : "https".equalsIgnoreCase(baseUrl.getScheme()) ? 443 : 80;
  }
}
