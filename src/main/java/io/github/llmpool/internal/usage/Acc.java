package io.github.llmpool.internal.usage;

/** Mutable accumulator behind a {@link UsageResult}. Copyable, so that a result can be computed
 * tentatively (for a final SSE event that has no trailing blank line yet) without side effects. */
final class Acc {
  boolean reported;
  long prompt;
  long completion;
  long total;
  long cached;
  long reasoning;
  /** Prompt tokens written to the cache (part of {@link #prompt}). */
  long cacheWrite;
  /** The usage is Anthropic's: {@link #prompt} is {@link #anthropicInput} + cached + cacheWrite. */
  boolean anthropic;
  /** Anthropic's {@code input_tokens} as reported (excluding the cache). */
  long anthropicInput;
  String model;
  /** The response id (first seen), cut to {@link Reasons#MAX_ID}. */
  String responseId;
  /** Choices' finish reasons: the first, the rest (lazily), how many. */
  String finish0;
  String[] finishMore;
  int finishCount;
  /** Responses API: the response's {@code status} (last seen) and {@code incomplete_details.reason}. */
  String status;
  String incompleteReason;
  /** The status belongs to a Responses API object (JSON: root {@code object} is {@code response}). */
  boolean responseObject;
  boolean terminated;
  boolean errorEvent;
  boolean malformed;
  long events;
  /** SSE: a parsed event was not valid JSON (or had an unreadable usage); stop parsing JSON. */
  boolean jsonStopped;
  /** SSE: the first JSON data event has been handled (it is parsed in full, for the model). */
  boolean firstParsed;

  Acc copy() {
    Acc c = new Acc();
    c.reported = reported;
    c.prompt = prompt;
    c.completion = completion;
    c.total = total;
    c.cached = cached;
    c.reasoning = reasoning;
    c.cacheWrite = cacheWrite;
    c.anthropic = anthropic;
    c.anthropicInput = anthropicInput;
    c.model = model;
    c.responseId = responseId;
    c.finish0 = finish0;
    c.finishMore = finishMore == null ? null : finishMore.clone();
    c.finishCount = finishCount;
    c.status = status;
    c.incompleteReason = incompleteReason;
    c.responseObject = responseObject;
    c.terminated = terminated;
    c.errorEvent = errorEvent;
    c.malformed = malformed;
    c.events = events;
    c.jsonStopped = jsonStopped;
    c.firstParsed = firstParsed;
    return c;
  }

  /** Adds a choice's finish reason (already bounded); beyond {@link Reasons#MAX_REASONS} it is dropped. */
  void addFinish(String r) {
    if (finishCount == 0) {
      finish0 = r;
    } else if (finishCount < Reasons.MAX_REASONS) {
      if (finishMore == null) {
        finishMore = new String[Reasons.MAX_REASONS - 1];
      }
      finishMore[finishCount - 1] = r;
    } else {
      return;
    }
    finishCount++;
  }

  /** Takes what another accumulator (a big SSE event's) found about id and finish. */
  void mergeFinish(Acc o) {
    if (responseId == null) {
      responseId = o.responseId;
    }
    for (int k = 0; k < o.finishCount; k++) {
      addFinish(k == 0 ? o.finish0 : o.finishMore[k - 1]);
    }
    if (o.status != null) {
      status = o.status;
    }
    if (o.incompleteReason != null) {
      incompleteReason = o.incompleteReason;
    }
    responseObject |= o.responseObject;
  }

  UsageResult toResult(boolean streamed) {
    return new UsageResult(
        reported, prompt, completion, total, cached, reasoning, model,
        streamed, terminated, errorEvent, malformed, events, responseId,
        Reasons.of(finish0, finishMore, finishCount, responseObject, status, incompleteReason), cacheWrite);
  }

  /** {@code a + b}, saturating at {@link Long#MAX_VALUE} (both are non-negative counts). */
  static long sum(long a, long b) {
    long s = a + b;
    return s < 0 ? Long.MAX_VALUE : s;
  }
}
