package io.github.llmpool;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

/** The usage record as a value: its builder's defaults and checks, equality, toString. */
class TokenUsageTest {
  private static final TokenCounts TOKENS = TokenCounts.builder().prompt(23).completion(57).total(80).cached(12)
      .reasoning(40).build();

  private static String iae(Executable e) {
    return assertThrows(IllegalArgumentException.class, e).getMessage();
  }

  private static String npe(Executable e) {
    return assertThrows(NullPointerException.class, e).getMessage();
  }

  private static TokenUsage.Builder full() {
    return TokenUsage.builder("mini").tier(1).requestedModel("gpt-4o-mini").servedModel("gpt-4o-mini-2024-07-18")
        .responseId("chatcmpl-1").finishReasons(List.of("stop", "length"))
        .tokens(TOKENS).reported(true).status(200).streamed(true).timeToFirstByte(Duration.ofMillis(100))
        .timeToFirstToken(Duration.ofMillis(150)).duration(Duration.ofMillis(900)).attempt(2)
        .end(TokenUsage.End.TRUNCATED).errorEvent(true);
  }

  @Test
  void everyFieldReadsBackAsSet() {
    TokenUsage u = full().build();
    assertEquals("mini", u.provider());
    assertEquals(1, u.tier());
    assertEquals(Optional.of("gpt-4o-mini"), u.requestedModel());
    assertEquals(Optional.of("gpt-4o-mini-2024-07-18"), u.servedModel());
    assertEquals(Optional.of("chatcmpl-1"), u.responseId());
    assertEquals(List.of("stop", "length"), u.finishReasons());
    assertSame(TOKENS, u.tokens());
    assertEquals(80, u.totalTokens());
    assertTrue(u.reported());
    assertEquals(200, u.status());
    assertTrue(u.streamed());
    assertEquals(Duration.ofMillis(100), u.timeToFirstByte());
    assertEquals(Optional.of(Duration.ofMillis(150)), u.timeToFirstToken());
    assertEquals(Duration.ofMillis(900), u.duration());
    assertEquals(2, u.attempt());
    assertEquals(TokenUsage.End.TRUNCATED, u.end());
    assertFalse(u.complete());
    assertTrue(u.errorEvent());
  }

  @Test
  void theDefaultsAreTheDocumentedOnes() {
    TokenUsage u = TokenUsage.builder("p").build();
    assertEquals(0, u.tier());
    assertEquals(Optional.empty(), u.requestedModel());
    assertEquals(Optional.empty(), u.servedModel());
    assertEquals(Optional.empty(), u.responseId());
    assertEquals(List.of(), u.finishReasons());
    assertSame(TokenCounts.ZERO, u.tokens());
    assertEquals(0, u.totalTokens());
    assertFalse(u.reported());
    assertEquals(200, u.status());
    assertFalse(u.streamed());
    assertEquals(Duration.ZERO, u.timeToFirstByte());
    assertEquals(Optional.empty(), u.timeToFirstToken());
    assertEquals(Duration.ZERO, u.duration());
    assertEquals(1, u.attempt());
    assertEquals(TokenUsage.End.COMPLETE, u.end());
    assertTrue(u.complete());
    assertFalse(u.errorEvent());
  }

  @Test
  void nullClearsAnOptionalField() {
    TokenUsage u = full().requestedModel(null).servedModel(null).timeToFirstToken(null).build();
    assertEquals(List.of(Optional.empty(), Optional.empty(), Optional.empty()),
        List.of(u.requestedModel(), u.servedModel(), u.timeToFirstToken()));
  }

  @Test
  void finishReasonsAreCopiedAndImmutable() {
    List<String> reasons = new java.util.ArrayList<>(List.of("stop"));
    TokenUsage u = TokenUsage.builder("p").finishReasons(reasons).build();
    reasons.add("length");
    assertEquals(List.of("stop"), u.finishReasons());
    assertThrows(UnsupportedOperationException.class, () -> u.finishReasons().add("x"));
  }

  @Test
  void equalByValue() {
    TokenUsage a = full().build();
    assertEquals(a, full().build());
    assertEquals(a.hashCode(), full().build().hashCode());
    List<UnaryOperator<TokenUsage.Builder>> changes = List.of(
        b -> TokenUsage.builder("other").tier(1).requestedModel("gpt-4o-mini").servedModel("gpt-4o-mini-2024-07-18")
            .responseId("chatcmpl-1").finishReasons(List.of("stop", "length")).tokens(TOKENS).reported(true).streamed(true).timeToFirstByte(Duration.ofMillis(100))
            .timeToFirstToken(Duration.ofMillis(150)).duration(Duration.ofMillis(900)).attempt(2)
            .end(TokenUsage.End.TRUNCATED).errorEvent(true),
        b -> b.tier(0), b -> b.requestedModel(null), b -> b.servedModel("x"), b -> b.responseId(null), b -> b.responseId("chatcmpl-2"),
        b -> b.finishReasons(List.of()), b -> b.finishReasons(List.of("length", "stop")), b -> b.tokens(TokenCounts.ZERO),
        b -> b.reported(false), b -> b.status(503), b -> b.streamed(false), b -> b.timeToFirstByte(Duration.ZERO),
        b -> b.timeToFirstToken(null), b -> b.duration(Duration.ofSeconds(1)), b -> b.attempt(1),
        b -> b.end(TokenUsage.End.COMPLETE), b -> b.errorEvent(false));
    for (UnaryOperator<TokenUsage.Builder> change : changes) {
      TokenUsage other = change.apply(full()).build();
      assertNotEquals(a, other, other::toString);
    }
    assertNotEquals(a, null);
    assertNotEquals(a, a.toString());
  }

  @Test
  void toStringShowsEveryFieldAndLeavesAbsentOnesOut() {
    assertEquals("TokenUsage{provider=mini, tier=1, attempt=2, status=200, end=TRUNCATED, streamed=true, reported=true,"
        + " tokens=TokenCounts{prompt=23, completion=57, total=80, cached=12, reasoning=40}, cost=UNPRICED,"
        + " requestedModel=gpt-4o-mini, servedModel=gpt-4o-mini-2024-07-18, responseId=chatcmpl-1,"
        + " finishReasons=[stop, length], timeToFirstByte=PT0.1S,"
        + " timeToFirstToken=PT0.15S, duration=PT0.9S, errorEvent=true}", full().build().toString());
    assertEquals("TokenUsage{provider=p, tier=0, attempt=1, status=200, end=COMPLETE, streamed=false, reported=false,"
        + " tokens=TokenCounts{prompt=0, completion=0, total=0, cached=0, reasoning=0}, cost=UNPRICED, timeToFirstByte=PT0S,"
        + " duration=PT0S, errorEvent=false}", TokenUsage.builder("p").build().toString());
  }

  @Test
  void badValuesAreRefusedNamingTheParameter() {
    TokenUsage.Builder b = TokenUsage.builder("p");
    assertEquals("provider", npe(() -> TokenUsage.builder(null)));
    assertEquals("tier must be >= 0 but was -1", iae(() -> b.tier(-1)));
    assertEquals("status must be >= 0 but was -1", iae(() -> b.status(-1)));
    assertEquals("attempt must be >= 1 but was 0", iae(() -> b.attempt(0)));
    assertEquals("tokens", npe(() -> b.tokens(null)));
    assertEquals("end", npe(() -> b.end(null)));
    assertEquals("finishReasons", npe(() -> b.finishReasons(null)));
    assertThrows(NullPointerException.class, () -> b.finishReasons(java.util.Arrays.asList("stop", null)));
    assertEquals("timeToFirstByte", npe(() -> b.timeToFirstByte(null)));
    assertEquals("duration", npe(() -> b.duration(null)));
    assertEquals("timeToFirstByte must not be negative but was PT-0.001S",
        iae(() -> b.timeToFirstByte(Duration.ofMillis(-1))));
    assertEquals("timeToFirstToken must not be negative but was PT-1S",
        iae(() -> b.timeToFirstToken(Duration.ofSeconds(-1))));
    assertEquals("duration must not be negative but was PT-0.000000001S", iae(() -> b.duration(Duration.ofNanos(-1))));
    assertEquals("duration must be at most PT2562047H47M16.854775807S but was PT2562048H",
        iae(() -> b.duration(Duration.ofHours(2_562_048))));
    assertEquals(TokenUsage.builder("p").build(), b.build(), "a refused value leaves the builder as it was");
  }

  @Test
  void aStatusIsAnyNonNegativeCodeAResponseCanCarry() {
    assertEquals(0, TokenUsage.builder("p").status(0).build().status());
    assertEquals(999, TokenUsage.builder("p").status(999).build().status());
  }
}
