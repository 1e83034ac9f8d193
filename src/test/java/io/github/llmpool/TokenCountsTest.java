package io.github.llmpool;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

/** The shared token-count value: counts as set, 0 by default, never negative, equal by value. */
class TokenCountsTest {

  private static String iae(Executable e) {
    return assertThrows(IllegalArgumentException.class, e).getMessage();
  }

  @Test
  void countsAreWhatWasSetAndZeroOtherwise() {
    TokenCounts t = TokenCounts.builder().prompt(10).completion(5).total(16).cached(4).reasoning(2).build();
    assertEquals(List.of(10L, 5L, 16L, 4L, 2L), List.of(t.prompt(), t.completion(), t.total(), t.cached(), t.reasoning()));
    TokenCounts onlyTotal = TokenCounts.builder().total(7).build();
    assertEquals(List.of(0L, 0L, 7L, 0L, 0L),
        List.of(onlyTotal.prompt(), onlyTotal.completion(), onlyTotal.total(), onlyTotal.cached(), onlyTotal.reasoning()));
  }

  @Test
  void nothingSetIsTheZeroConstantItself() {
    assertSame(TokenCounts.ZERO, TokenCounts.builder().build());
    assertSame(TokenCounts.ZERO, TokenCounts.builder().prompt(0).total(0).build());
    assertEquals(List.of(0L, 0L, 0L, 0L, 0L), List.of(TokenCounts.ZERO.prompt(), TokenCounts.ZERO.completion(),
        TokenCounts.ZERO.total(), TokenCounts.ZERO.cached(), TokenCounts.ZERO.reasoning()));
  }

  @Test
  void theTotalIsNeverRecomputed() {
    assertEquals(0, TokenCounts.builder().prompt(3).completion(4).build().total());
  }

  @Test
  void equalByValue() {
    TokenCounts a = TokenCounts.builder().prompt(1).completion(2).total(3).build();
    TokenCounts b = TokenCounts.builder().prompt(1).completion(2).total(3).build();
    assertEquals(a, b);
    assertEquals(a.hashCode(), b.hashCode());
    assertNotEquals(a, TokenCounts.builder().prompt(1).completion(2).total(3).cached(1).build());
    assertNotEquals(a, TokenCounts.builder().prompt(1).completion(2).total(3).reasoning(1).build());
    assertNotEquals(a, TokenCounts.ZERO);
    assertNotEquals(a, "TokenCounts");
    assertEquals(TokenCounts.ZERO, TokenCounts.builder().prompt(5).prompt(0).build());
  }

  @Test
  void toStringNamesEveryCount() {
    assertEquals("TokenCounts{prompt=10, completion=5, total=15, cached=1, reasoning=2}",
        TokenCounts.builder().prompt(10).completion(5).total(15).cached(1).reasoning(2).build().toString());
    assertEquals("TokenCounts{prompt=0, completion=0, total=0, cached=0, reasoning=0}", TokenCounts.ZERO.toString());
  }

  @Test
  void negativeCountsAreRefused() {
    TokenCounts.Builder b = TokenCounts.builder();
    assertEquals("prompt must be >= 0 but was -1", iae(() -> b.prompt(-1)));
    assertEquals("completion must be >= 0 but was -2", iae(() -> b.completion(-2)));
    assertEquals("total must be >= 0 but was -3", iae(() -> b.total(-3)));
    assertEquals("cached must be >= 0 but was -4", iae(() -> b.cached(-4)));
    assertEquals("reasoning must be >= 0 but was " + Long.MIN_VALUE, iae(() -> b.reasoning(Long.MIN_VALUE)));
    assertSame(TokenCounts.ZERO, b.build(), "a refused value leaves the builder as it was");
  }

  @Test
  void theBuilderIsReusable() {
    TokenCounts.Builder b = TokenCounts.builder().prompt(1);
    TokenCounts first = b.build();
    TokenCounts second = b.total(9).build();
    assertEquals(0, first.total());
    assertEquals(9, second.total());
  }
}
