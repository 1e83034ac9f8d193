package io.github.llmpool.internal.engine;

/**
 * How the library logs a failure of caller code (an affinity key function, a listener): by class
 * and by where it was thrown from, never by its message or stack trace. Those may quote the
 * request ({@code Invalid UUID string: <the session id>}), a usage record's model, or anything
 * else the caller's code saw, and the library's logs hold no request-derived text.
 */
public final class Failures {
  private Failures() {}

  /**
   * {@code java.lang.IllegalArgumentException at java.util.UUID.fromString1(UUID.java:280)}: the
   * class and the top stack frame (class, method, file, line), or the class alone when there is
   * no stack trace. A cause is named the same way, once: {@code ...; caused by <class> at <frame>}.
   */
  public static String describe(Throwable t) {
    StringBuilder sb = new StringBuilder();
    origin(sb, t);
    Throwable cause = t.getCause();
    if (cause != null && cause != t) {
      origin(sb.append("; caused by "), cause);
    }
    return sb.toString();
  }

  private static void origin(StringBuilder sb, Throwable t) {
    sb.append(t.getClass().getName());
    StackTraceElement[] trace = t.getStackTrace();
    if (trace.length > 0) {
      StackTraceElement top = trace[0];
      sb.append(" at ").append(top.getClassName()).append('.').append(top.getMethodName()).append('(')
          .append(top.getFileName() == null ? "unknown source" : top.getFileName());
      if (top.getLineNumber() >= 0) {
        sb.append(':').append(top.getLineNumber());
      }
      sb.append(')');
    }
  }
}
