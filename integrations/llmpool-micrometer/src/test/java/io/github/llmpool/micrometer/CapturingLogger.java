package io.github.llmpool.micrometer;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.slf4j.Marker;
import org.slf4j.event.Level;
import org.slf4j.helpers.LegacyAbstractLogger;
import org.slf4j.helpers.MessageFormatter;

/** An SLF4J logger that keeps what it is given (a test appender over the SLF4J API). */
final class CapturingLogger extends LegacyAbstractLogger {
  private static final long serialVersionUID = 1L;
  final transient List<String> lines = new CopyOnWriteArrayList<>();
  private final Level threshold;

  CapturingLogger(String name, Level threshold) {
    this.name = name;
    this.threshold = threshold;
  }

  private boolean on(Level l) {
    return threshold != null && l.toInt() >= threshold.toInt();
  }

  @Override
  public boolean isTraceEnabled() {
    return on(Level.TRACE);
  }

  @Override
  public boolean isDebugEnabled() {
    return on(Level.DEBUG);
  }

  @Override
  public boolean isInfoEnabled() {
    return on(Level.INFO);
  }

  @Override
  public boolean isWarnEnabled() {
    return on(Level.WARN);
  }

  @Override
  public boolean isErrorEnabled() {
    return on(Level.ERROR);
  }

  @Override
  protected String getFullyQualifiedCallerName() {
    return null;
  }

  @Override
  protected void handleNormalizedLoggingCall(Level level, Marker marker, String message, Object[] args,
      Throwable throwable) {
    lines.add(level + " " + MessageFormatter.basicArrayFormat(message, args));
  }
}
