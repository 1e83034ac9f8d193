package io.github.llmpool;

import java.util.List;

/**
 * Every attempt of a logical request failed and the last one ended with an exception (when the
 * last attempt got a response, the caller receives that response instead). The earlier failures
 * are attached as suppressed exceptions; the last one is the cause.
 */
public final class AttemptsExhaustedException extends LlmPoolException {
  private static final long serialVersionUID = 1L;

  public AttemptsExhaustedException(String message, List<Attempt> attempts, Throwable cause) {
    super(message, attempts, cause);
  }
}
