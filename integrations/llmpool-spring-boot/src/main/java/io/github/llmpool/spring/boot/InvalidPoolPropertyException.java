package io.github.llmpool.spring.boot;

/**
 * A bad {@code llmpool.*} value: the message is the property's name followed by the core
 * builder's own message (which never holds a key or header value).
 */
final class InvalidPoolPropertyException extends IllegalArgumentException {
  private static final long serialVersionUID = 1L;

  InvalidPoolPropertyException(String message) {
    super(message);
  }
}
