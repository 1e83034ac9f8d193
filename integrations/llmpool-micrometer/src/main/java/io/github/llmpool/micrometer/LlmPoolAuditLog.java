package io.github.llmpool.micrometer;

import io.github.llmpool.telemetry.RequestTracker;
import io.github.llmpool.ProviderPool;
import java.util.Objects;
import org.slf4j.Logger;

/**
 * The audit log: one line per logical request on the SLF4J logger {@value #DEFAULT_LOGGER_NAME},
 * at INFO, in logfmt. It never holds a key, a header or a body: the caller's requested model is
 * the only caller text in it, quoted, escaped and cut at 128 characters.
 *
 * <pre>{@code
 * ProviderPool pool = LlmPoolAuditLog.configure(ProviderPool.builder().name("chat").tier(a).tier(b)).build();
 * // pool=chat model="gpt-4o-mini" served="gpt-4o-mini-2024-07-18" outcome=success status=200 error=none
 * //   stream=false attempts=2 providers=a:429:rate_limited,b:200:success tiers=0,1 tokens_in=23 tokens_out=57
 * //   tokens_cached=12 tokens_reasoning=40 duration_ms=412.031 ttft_ms=398.700 body=complete
 * //   id="chatcmpl-abc123" finish="stop"
 * }</pre>
 *
 * <p>Fields, in this order: {@code pool}; {@code model} (requested, quoted, {@code -} if none);
 * {@code served} (the model the response named); {@code outcome} (of the last attempt:
 * {@code success}, {@code rate_limited}, {@code server_error}, {@code connection_failure},
 * {@code timeout}, {@code client_error}, {@code unauthorized}, {@code quota_exhausted},
 * {@code truncated_stream}, {@code cancelled}); {@code status} (its HTTP status, {@code -} if none);
 * {@code error} (the {@code error.type} of the metrics, {@code none} on success); {@code stream};
 * {@code attempts}; {@code providers} ({@code name:status:outcome} per attempt, in order);
 * {@code tiers}; {@code tokens_in}, {@code tokens_out}, {@code tokens_cached},
 * {@code tokens_reasoning} (summed over the attempts; {@code -} when no usage was reported);
 * {@code duration_ms} (from the first dispatch to the end of the last body); {@code ttft_ms};
 * {@code body} ({@code complete}, {@code truncated}, {@code closed_early}, {@code failed},
 * {@code -} without a response); {@code id} (the last attempt's response id, quoted, {@code -} if
 * none); {@code finish} (its finish reasons, comma-separated and quoted, {@code -} if none); and
 * {@code stop} (why the pool stopped trying:
 * {@code max_attempts}, {@code no_provider}, {@code retry_budget}, {@code not_replayable}) only when
 * it gave up. Cost is not logged yet (the core has no prices).
 *
 * <p>The line is written when the request ends: for a streamed or read body, when the caller
 * finishes reading it. While the logger is off for INFO nothing is built but the request's
 * bookkeeping. A request refused before any attempt (a drained pool) writes no line.
 */
public final class LlmPoolAuditLog {
  /** The logger the audit lines go to: {@value}. */
  public static final String DEFAULT_LOGGER_NAME = "llmpool.audit";

  private LlmPoolAuditLog() {}

  /**
   * Adds the audit log's hooks to {@code builder}, on the logger {@value #DEFAULT_LOGGER_NAME}.
   * With {@link LlmPoolMetrics}, prefer {@code LlmPoolMetrics.Builder.auditLog(true)}, which shares
   * the hooks.
   *
   * @param builder the pool's builder
   * @return {@code builder}
   * @throws NullPointerException if {@code builder} is null
   */
  public static ProviderPool.Builder configure(ProviderPool.Builder builder) {
    return configure(builder, org.slf4j.LoggerFactory.getLogger(DEFAULT_LOGGER_NAME));
  }

  /**
   * As {@link #configure(ProviderPool.Builder)}, writing to {@code logger}.
   *
   * @param builder the pool's builder
   * @param logger where the lines go
   * @return {@code builder}
   * @throws NullPointerException if an argument is null
   */
  public static ProviderPool.Builder configure(ProviderPool.Builder builder, Logger logger) {
    Objects.requireNonNull(builder, "builder");
    RequestTracker t = new RequestTracker(true, new AuditSink(Objects.requireNonNull(logger, "logger")));
    return builder.onRequest(t).onAttempt(t).onEvent(t).onUsage(t);
  }
}
