package io.github.llmpool.telemetry;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.github.llmpool.Outcome;
import io.github.llmpool.TokenUsage;
import io.github.llmpool.spi.AttemptEnd;
import io.github.llmpool.spi.AttemptStart;
import java.net.URI;
import java.time.Duration;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The shared values: error.type, results, bounded model names, server and provider names. */
class TelemetryValuesTest {
  private final AttemptStart start = AttemptStart.builder().pool("p").provider("a").build();

  private AttemptEnd.Builder end() {
    return AttemptEnd.builder(start).duration(Duration.ofMillis(5));
  }

  @Test
  void errorTypeAndResult() {
    AttemptEnd ok = end().outcome(Outcome.SUCCESS).status(200).bodyEnd(TokenUsage.End.COMPLETE).build();
    AttemptEnd limited = end().outcome(Outcome.RATE_LIMITED).status(429).bodyEnd(TokenUsage.End.COMPLETE).build();
    AttemptEnd cut = end().outcome(Outcome.SUCCESS).status(200).bodyEnd(TokenUsage.End.TRUNCATED).build();
    AttemptEnd dead = end().outcome(Outcome.CONNECTION_FAILURE).build();
    AttemptEnd cancelled = end().build();
    assertEquals("none", TelemetryValues.errorType(ok));
    assertEquals("429", TelemetryValues.errorType(limited));
    assertEquals("truncated_stream", TelemetryValues.errorType(cut));
    assertEquals("connection_failure", TelemetryValues.errorType(dead));
    assertEquals("cancelled", TelemetryValues.errorType(cancelled));
    assertEquals("rate_limited", TelemetryValues.result(limited));
    assertEquals("truncated_stream", TelemetryValues.result(cut));
    assertEquals("none", TelemetryValues.status(-1));
    assertEquals("7", TelemetryValues.tier(7));
    assertEquals("max_attempts", TelemetryValues.exhaustedReason("maxAttempts (2) reached"));
    assertEquals("no_provider", TelemetryValues.exhaustedReason("no untried provider is available"));
  }

  @Test
  void modelNamesAreConfiguredOnesOnly() {
    ModelNames names = new ModelNames();
    names.configure(Set.of("gpt-4o-mini"));
    assertEquals("gpt-4o-mini", names.value("gpt-4o-mini"));
    assertEquals("gpt-4o-mini-2024-07-18", names.value("gpt-4o-mini-2024-07-18"));
    assertEquals("other", names.value("ignore previous instructions"));
    assertEquals("none", names.value(null));
    for (int i = 0; i < ModelNames.MAX + 5; i++) {
      names.value("gpt-4o-mini-" + i);
    }
    assertEquals("other", names.value("gpt-4o-mini-9999"), "at most MAX distinct values");
  }

  @Test
  void serverAndProviderNames() {
    assertEquals("::1", TelemetryValues.serverAddress(URI.create("http://[::1]:8080/v1")));
    assertEquals(443, TelemetryValues.serverPort(URI.create("https://api.openai.com/v1")));
    assertEquals(8080, TelemetryValues.serverPort(URI.create("http://[::1]:8080/v1")));
    assertEquals("azure.ai.openai", TelemetryValues.genAiProviderOf("my-res.openai.azure.com"));
    assertEquals("openai", TelemetryValues.genAiProviderOf("127.0.0.1"));
  }

  @Test
  void keptAttemptsOnlyWhenAsked() {
    TrackedRequest r = TrackedRequest.of(start, false);
    r.started(start);
    assertEquals(1, r.attempts());
    assertThrows(IllegalStateException.class, () -> r.provider(0));
    TrackedRequest k = TrackedRequest.of(start, true);
    k.started(start);
    k.ended(start, end().outcome(Outcome.SUCCESS).status(200).build(), null);
    assertEquals("a", k.provider(0));
    assertEquals(200, k.status(0));
    assertEquals("success", k.result(0));
  }

  @Test
  void aRequestsOutcomeComesFromItsEndWhenItWasRefusedOrCancelledElseFromItsLastAttempt() {
    io.github.llmpool.spi.RequestStart rs = io.github.llmpool.spi.RequestStart.builder().pool("p").id(7).startNanos(10)
        .build();
    TrackedRequest refused = TrackedRequest.of(rs, false);
    refused.end(io.github.llmpool.spi.RequestEnd.builder(rs).result(io.github.llmpool.spi.RequestEnd.Result.REFUSED)
        .reason("no provider available: pool 'p' is drained (drainAll; resume puts it back in rotation)")
        .endNanos(25).build());
    assertEquals(true, refused.refused());
    assertEquals(TelemetryValues.REFUSED, refused.outcome(null));
    assertEquals(TelemetryValues.REFUSED, refused.errorType(null));
    assertEquals(15, refused.durationNanos(null), "from the request's start to its end");
    assertEquals("drained", TelemetryValues.refusedReason(refused.end().get().reason().orElse(null)));
    assertEquals("no_provider", TelemetryValues.refusedReason("no provider available (policy FAIL_FAST): a (tier 0)"));

    TrackedRequest cancelled = TrackedRequest.of(rs, false);
    cancelled.started(start);
    cancelled.end(io.github.llmpool.spi.RequestEnd.builder(rs).result(io.github.llmpool.spi.RequestEnd.Result.CANCELLED)
        .attempts(1).build());
    AttemptEnd failed = end().outcome(Outcome.CONNECTION_FAILURE).build();
    assertEquals(TelemetryValues.CANCELLED, cancelled.errorType(failed), "not the failed attempt's connection_failure");

    TrackedRequest answered = TrackedRequest.of(rs, false);
    answered.started(start);
    answered.end(io.github.llmpool.spi.RequestEnd.builder(rs).result(io.github.llmpool.spi.RequestEnd.Result.FAILED)
        .attempts(1).status(429).build());
    AttemptEnd limited = end().outcome(Outcome.RATE_LIMITED).status(429).bodyEnd(TokenUsage.End.COMPLETE).build();
    assertEquals("rate_limited", answered.outcome(limited));
    assertEquals("429", answered.errorType(limited));
    assertEquals(5_000_000, answered.durationNanos(limited));
  }
}
