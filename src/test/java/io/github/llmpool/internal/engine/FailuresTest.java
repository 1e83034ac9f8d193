package io.github.llmpool.internal.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.UUID;
import org.junit.jupiter.api.Test;

/** A caller's failure is named by class and origin, never by its message. */
class FailuresTest {
  private static final String SESSION = "user-42-session-0123abcd";

  @Test
  void namesTheClassAndTheTopFrameButNotTheMessage() {
    IllegalArgumentException e = null;
    try {
      UUID.fromString(SESSION);
    } catch (IllegalArgumentException thrown) {
      e = thrown;
    }
    String d = Failures.describe(e);
    assertTrue(d.startsWith("java.lang.IllegalArgumentException at java.util.UUID.fromString"), d);
    assertTrue(d.matches(".*\\(UUID\\.java:\\d+\\)"), d);
    assertFalse(d.contains(SESSION) || d.contains("Invalid UUID string"), d);
  }

  @Test
  void namesTheCauseTheSameWay() {
    Throwable t = new IllegalStateException("wrapping " + SESSION, new AssertionError(SESSION));
    String d = Failures.describe(t);
    assertTrue(d.startsWith("java.lang.IllegalStateException at " + FailuresTest.class.getName()
        + ".namesTheCauseTheSameWay(FailuresTest.java:"), d);
    assertTrue(d.contains("; caused by java.lang.AssertionError at " + FailuresTest.class.getName()), d);
    assertFalse(d.contains(SESSION), d);
  }

  @Test
  void aFailureWithoutAStackTraceIsItsClass() {
    Error e = new AssertionError(SESSION);
    e.setStackTrace(new StackTraceElement[0]);
    assertEquals("java.lang.AssertionError", Failures.describe(e));
    e.setStackTrace(new StackTraceElement[] {new StackTraceElement("a.B", "c", null, -2)});
    assertEquals("java.lang.AssertionError at a.B.c(unknown source)", Failures.describe(e));
  }
}
