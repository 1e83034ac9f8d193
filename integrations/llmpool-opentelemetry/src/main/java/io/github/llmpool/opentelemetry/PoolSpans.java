package io.github.llmpool.opentelemetry;

import static io.github.llmpool.opentelemetry.PoolView.ERROR_TYPE;
import static io.github.llmpool.opentelemetry.PoolView.GEN_AI_PROVIDER;
import static io.github.llmpool.opentelemetry.PoolView.OPERATION;
import static io.github.llmpool.opentelemetry.PoolView.REQUEST_MODEL;
import static io.github.llmpool.opentelemetry.PoolView.RESPONSE_MODEL;
import static io.github.llmpool.opentelemetry.PoolView.SERVER_ADDRESS;
import static io.github.llmpool.opentelemetry.PoolView.SERVER_PORT;

import io.github.llmpool.TokenUsage;
import io.github.llmpool.spi.AttemptEnd;
import io.github.llmpool.spi.AttemptStart;
import io.github.llmpool.telemetry.RequestTracker;
import io.github.llmpool.telemetry.TelemetryValues;
import io.github.llmpool.telemetry.TrackedRequest;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanBuilder;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.api.trace.StatusCode;
import io.opentelemetry.api.trace.Tracer;
import io.opentelemetry.context.Context;

/**
 * The spans of one pool: a {@link RequestTracker.Sink} that opens a request span when a request
 * starts (its parent: the context current on the calling thread) and a child span per attempt,
 * and ends them as the attempts and the request end (a refused request: a span with no child).
 */
final class PoolSpans implements RequestTracker.Sink {
  static final AttributeKey<Boolean> REQUEST_STREAM = AttributeKey.booleanKey("gen_ai.request.stream");
  static final AttributeKey<Long> INPUT_TOKENS = AttributeKey.longKey("gen_ai.usage.input_tokens");
  static final AttributeKey<Long> OUTPUT_TOKENS = AttributeKey.longKey("gen_ai.usage.output_tokens");
  static final AttributeKey<Long> CACHE_READ_TOKENS = AttributeKey.longKey("gen_ai.usage.cache_read.input_tokens");
  static final AttributeKey<Long> REASONING_TOKENS = AttributeKey.longKey("gen_ai.usage.reasoning.output_tokens");
  static final AttributeKey<String> RESPONSE_ID = AttributeKey.stringKey("gen_ai.response.id");
  static final AttributeKey<java.util.List<String>> FINISH_REASONS =
      AttributeKey.stringArrayKey("gen_ai.response.finish_reasons");
  static final AttributeKey<Long> HTTP_STATUS = AttributeKey.longKey("http.response.status_code");
  static final AttributeKey<String> POOL = AttributeKey.stringKey("llmpool.pool");
  static final AttributeKey<String> PROVIDER = AttributeKey.stringKey("llmpool.provider");
  static final AttributeKey<Long> TIER = AttributeKey.longKey("llmpool.tier");
  static final AttributeKey<Long> ATTEMPT = AttributeKey.longKey("llmpool.attempt");
  static final AttributeKey<Long> ATTEMPTS = AttributeKey.longKey("llmpool.attempts");
  static final AttributeKey<Boolean> PROBE = AttributeKey.booleanKey("llmpool.probe");
  static final AttributeKey<String> OUTCOME = AttributeKey.stringKey("llmpool.outcome");
  static final AttributeKey<String> RETRY_REASON = AttributeKey.stringKey("llmpool.retry.reason");
  static final AttributeKey<String> FAILOVER = AttributeKey.stringKey("llmpool.failover");
  static final AttributeKey<String> STOP = AttributeKey.stringKey("llmpool.stop");

  /** The request's attachment slots (see {@link TrackedRequest#attach}). */
  private static final int REQUEST_SPAN = 0;
  private static final int REQUEST_CONTEXT = 1;
  private static final int ATTEMPT_SPAN = 2;
  private static final int PREVIOUS_RESULT = 3;

  private final Tracer tracer;
  private final PoolView view;
  private final SpanKind kind;

  PoolSpans(Tracer tracer, PoolView view, SpanKind kind) {
    this.tracer = tracer;
    this.view = view;
    this.kind = kind;
  }

  private String name(String model) {
    return TelemetryValues.NONE.equals(model) ? view.operation : view.operation + " " + model;
  }

  @Override
  public void requestStarted(TrackedRequest r) {
    // On the calling thread, before any attempt: the request span opens under the caller's context.
    String model = view.sentModel(null, r.requestedModel());
    Context caller = Context.current();
    Span request = tracer.spanBuilder(name(model)).setParent(caller).setSpanKind(kind)
        .setAttribute(OPERATION, view.operation).setAttribute(REQUEST_MODEL, model)
        .setAttribute(REQUEST_STREAM, r.streaming()).setAttribute(POOL, view.poolName).startSpan();
    r.attach(REQUEST_SPAN, request);
    r.attach(REQUEST_CONTEXT, caller.with(request));
  }

  @Override
  public void started(TrackedRequest r, AttemptStart s, Boolean sameTier) {
    PoolView.Info info = view.provider(s.provider());
    String model = view.sentModel(info, r.requestedModel());
    Context parent = (Context) r.attachment(REQUEST_CONTEXT);
    if (parent == null) {
      return;
    }
    if (sameTier == null && info != null) { // the first attempt names the request's provider
      Span request = (Span) r.attachment(REQUEST_SPAN);
      if (request != null) {
        request.setAttribute(GEN_AI_PROVIDER, info.genAiProvider);
      }
    }
    SpanBuilder b = tracer.spanBuilder(name(model)).setParent(parent).setSpanKind(kind)
        .setAttribute(OPERATION, view.operation).setAttribute(REQUEST_MODEL, model)
        .setAttribute(REQUEST_STREAM, r.streaming()).setAttribute(PROVIDER, s.provider())
        .setAttribute(TIER, (long) s.tier()).setAttribute(ATTEMPT, (long) s.attempt());
    if (info != null) {
      b.setAttribute(GEN_AI_PROVIDER, info.genAiProvider).setAttribute(SERVER_ADDRESS, info.address)
          .setAttribute(SERVER_PORT, info.port);
    }
    if (s.probe()) {
      b.setAttribute(PROBE, true);
    }
    if (sameTier != null) {
      Object previous = r.attachment(PREVIOUS_RESULT);
      if (previous != null) {
        b.setAttribute(RETRY_REASON, (String) previous);
      }
      b.setAttribute(FAILOVER, sameTier ? "same_tier" : "other_tier");
    }
    r.attach(ATTEMPT_SPAN, b.startSpan());
  }

  @Override
  public void attemptEnded(TrackedRequest r, AttemptStart s, AttemptEnd e, TokenUsage usage) {
    Span span = (Span) r.attachment(ATTEMPT_SPAN);
    if (span == null) {
      return;
    }
    r.attach(ATTEMPT_SPAN, null);
    String result = TelemetryValues.result(e);
    r.attach(PREVIOUS_RESULT, result);
    span.setAttribute(OUTCOME, result);
    if (e.status().isPresent()) {
      span.setAttribute(HTTP_STATUS, (long) e.status().getAsInt());
    }
    if (usage != null) {
      usage.servedModel().ifPresent(m -> span.setAttribute(RESPONSE_MODEL, view.models.value(m)));
      response(span, usage);
      if (usage.reported()) {
        tokens(span, usage.tokens().prompt(), usage.tokens().completion(), usage.tokens().cached(),
            usage.tokens().reasoning());
      }
    }
    error(span, TelemetryValues.errorType(e));
    span.end();
  }

  @Override
  public void requestEnded(TrackedRequest r, AttemptStart last, AttemptEnd end) {
    Span span = (Span) r.attachment(REQUEST_SPAN);
    if (span == null) {
      return;
    }
    r.attach(REQUEST_SPAN, null);
    r.attach(REQUEST_CONTEXT, null);
    span.setAttribute(ATTEMPTS, (long) r.attempts());
    if (last != null) {
      PoolView.Info info = view.provider(last.provider());
      String model = view.sentModel(info, r.requestedModel());
      span.updateName(name(model));
      span.setAttribute(REQUEST_MODEL, model);
      span.setAttribute(PROVIDER, last.provider());
      if (info != null) {
        span.setAttribute(GEN_AI_PROVIDER, info.genAiProvider);
        span.setAttribute(SERVER_ADDRESS, info.address);
        span.setAttribute(SERVER_PORT, info.port);
      }
    }
    r.servedModel().ifPresent(m -> span.setAttribute(RESPONSE_MODEL, view.models.value(m)));
    r.responseId().ifPresent(id -> span.setAttribute(RESPONSE_ID, id)); // the last attempt's
    if (!r.finishReasons().isEmpty()) {
      span.setAttribute(FINISH_REASONS, r.finishReasons());
    }
    if (r.tokensReported()) {
      tokens(span, r.inputTokens(), r.outputTokens(), r.cachedTokens(), r.reasoningTokens());
    }
    if (end != null && end.status().isPresent()) {
      span.setAttribute(HTTP_STATUS, (long) end.status().getAsInt());
    }
    span.setAttribute(OUTCOME, r.outcome(end));
    if (r.stop().isPresent()) {
      span.setAttribute(STOP, TelemetryValues.exhaustedReason(r.stop().get()));
    } else if (r.refused()) {
      span.setAttribute(STOP, TelemetryValues.refusedReason(r.end().get().reason().orElse(null)));
    }
    error(span, r.errorType(end));
    span.end();
  }

  /** The response's id and finish reasons, where the provider sent them (provider data, bounded by the core). */
  private static void response(Span span, TokenUsage usage) {
    usage.responseId().ifPresent(id -> span.setAttribute(RESPONSE_ID, id));
    if (!usage.finishReasons().isEmpty()) {
      span.setAttribute(FINISH_REASONS, usage.finishReasons());
    }
  }

  private static void tokens(Span span, long input, long output, long cached, long reasoning) {
    span.setAttribute(INPUT_TOKENS, input);
    span.setAttribute(OUTPUT_TOKENS, output);
    span.setAttribute(CACHE_READ_TOKENS, cached);
    span.setAttribute(REASONING_TOKENS, reasoning);
  }

  private static void error(Span span, String errorType) {
    if (!TelemetryValues.NONE.equals(errorType)) {
      span.setAttribute(ERROR_TYPE, errorType);
      span.setStatus(StatusCode.ERROR, errorType);
    }
  }
}
