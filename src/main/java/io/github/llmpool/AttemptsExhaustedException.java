package io.github.llmpool;

import java.util.List;

/**
 * Every attempt of a logical request failed and the last one ended with an exception (when the
 * last attempt got a response, the caller receives that response instead). The earlier failures
 * are attached as suppressed exceptions; the last one is the cause. Where OkHttp's text for a
 * failure quotes a configured credential value (an upstream echoing the key in a malformed status
 * line), the exception attached is a copy with the value masked ({@code ****}): of the same class
 * when it has a public {@code (String)} constructor, else an {@code IOException} whose message
 * starts with the original class name; the stack trace is kept.
 */
public final class AttemptsExhaustedException extends LlmPoolException {
  private static final long serialVersionUID = 1L;

  /**
   * For the pool (and tests): {@code message} and every attempt, {@code cause} the last failure.
   *
   * @param message what happened, without any credential
   * @param attempts every attempt of the logical request, in order (copied)
   * @param cause the last attempt's failure, or null
   */
  public AttemptsExhaustedException(String message, List<Attempt> attempts, Throwable cause) {
    super(message, attempts, cause);
  }
}
