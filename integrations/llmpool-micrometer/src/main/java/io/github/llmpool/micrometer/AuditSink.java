package io.github.llmpool.micrometer;

import io.github.llmpool.telemetry.RequestTracker;
import io.github.llmpool.telemetry.TelemetryValues;
import io.github.llmpool.telemetry.TrackedRequest;
import io.github.llmpool.spi.AttemptEnd;
import io.github.llmpool.spi.AttemptStart;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Writes one line per logical request to an SLF4J logger at INFO, in logfmt (see
 * {@link LlmPoolAuditLog} for the fields). Builds nothing while the logger is off for INFO.
 */
final class AuditSink implements RequestTracker.Sink {
  /** Longest model text written; the caller's text is cut there. */
  static final int MAX_MODEL = 128;

  private final Logger log;

  AuditSink(String loggerName) {
    this(LoggerFactory.getLogger(loggerName));
  }

  AuditSink(Logger log) {
    this.log = log;
  }

  @Override
  public void requestEnded(TrackedRequest r, AttemptStart last, AttemptEnd end) {
    if (!log.isInfoEnabled()) {
      return;
    }
    log.info(line(r, end));
  }

  /** The line of {@code r}, whose last attempt ended as {@code end} (null: it made none). */
  static String line(TrackedRequest r, AttemptEnd end) {
    StringBuilder b = new StringBuilder(256);
    b.append("pool=").append(r.pool());
    b.append(" model=");
    quoted(b, r.requestedModel());
    b.append(" served=");
    quoted(b, r.servedModel().orElse(null));
    b.append(" outcome=").append(r.outcome(end));
    int status = end == null ? -1 : end.status().orElse(-1);
    b.append(" status=").append(status < 0 ? "-" : Integer.toString(status));
    b.append(" error=").append(r.errorType(end));
    b.append(" stream=").append(r.streaming());
    b.append(" attempts=").append(r.attempts());
    b.append(" providers=");
    for (int i = 0; i < r.attempts(); i++) {
      if (i > 0) {
        b.append(',');
      }
      b.append(r.provider(i)).append(':').append(r.status(i) < 0 ? "-" : Integer.toString(r.status(i)))
          .append(':').append(r.result(i) == null ? "-" : r.result(i));
    }
    b.append(" tiers=");
    for (int i = 0; i < r.attempts(); i++) {
      if (i > 0) {
        b.append(',');
      }
      b.append(r.tier(i));
    }
    if (r.tokensReported()) {
      b.append(" tokens_in=").append(r.inputTokens()).append(" tokens_out=").append(r.outputTokens())
          .append(" tokens_cached=").append(r.cachedTokens()).append(" tokens_reasoning=").append(r.reasoningTokens());
    } else {
      b.append(" tokens_in=- tokens_out=- tokens_cached=- tokens_reasoning=-");
    }
    long total = r.durationNanos(end);
    b.append(" duration_ms=");
    millis(b, total);
    b.append(" ttft_ms=");
    if (end != null && end.timeToFirstToken().isPresent()) {
      millis(b, r.priorNanos() + end.timeToFirstToken().get().toNanos());
    } else {
      b.append('-');
    }
    b.append(" body=").append(end == null ? "-"
        : end.bodyEnd().map(x -> x.name().toLowerCase(java.util.Locale.ROOT)).orElse("-"));
    b.append(" id=");
    quoted(b, r.responseId().orElse(null));
    b.append(" finish=");
    quoted(b, r.finishReasons().isEmpty() ? null : String.join(",", r.finishReasons()));
    java.util.Optional<io.github.llmpool.Cost> cost = r.cost();
    if (cost.isEmpty()) {
      b.append(" cost=- currency=- cost_status=-");
    } else {
      io.github.llmpool.Cost c = cost.get();
      b.append(" cost=").append(c.amount().map(java.math.BigDecimal::toPlainString).orElse("-"))
          .append(" currency=").append(c.currency().orElse("-"))
          .append(" cost_status=").append(c.status().name().toLowerCase(java.util.Locale.ROOT));
    }
    if (r.stop().isPresent()) {
      b.append(" stop=").append(TelemetryValues.exhaustedReason(r.stop().get()));
    } else if (r.refused()) {
      b.append(" stop=").append(TelemetryValues.refusedReason(r.end().get().reason().orElse(null)));
    }
    return b.toString();
  }

  private static void millis(StringBuilder b, long nanos) {
    long micros = nanos / 1000;
    b.append(micros / 1000).append('.');
    long frac = micros % 1000;
    if (frac < 100) {
      b.append('0');
    }
    if (frac < 10) {
      b.append('0');
    }
    b.append(frac);
  }

  /** {@code -} for none; else the text in double quotes, cut, with {@code "}, {@code \} and controls escaped. */
  static void quoted(StringBuilder b, String s) {
    if (s == null) {
      b.append('-');
      return;
    }
    b.append('"');
    int n = Math.min(s.length(), MAX_MODEL);
    for (int i = 0; i < n; i++) {
      char c = s.charAt(i);
      if (c == '"' || c == '\\') {
        b.append('\\').append(c);
      } else if (c < 0x20 || c == 0x7f || Character.isSurrogate(c) || c == '\u2028' || c == '\u2029') {
        b.append(String.format("\\u%04x", (int) c));
      } else {
        b.append(c);
      }
    }
    if (s.length() > MAX_MODEL) {
      b.append("...");
    }
    b.append('"');
  }
}
