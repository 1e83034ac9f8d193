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
  String model;
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
    c.model = model;
    c.terminated = terminated;
    c.errorEvent = errorEvent;
    c.malformed = malformed;
    c.events = events;
    c.jsonStopped = jsonStopped;
    c.firstParsed = firstParsed;
    return c;
  }

  UsageResult toResult(boolean streamed) {
    return new UsageResult(
        reported, prompt, completion, total, cached, reasoning, model,
        streamed, terminated, errorEvent, malformed, events);
  }
}
