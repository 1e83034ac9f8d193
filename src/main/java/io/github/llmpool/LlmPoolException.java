package io.github.llmpool;

import java.io.IOException;
import java.util.List;

/**
 * The base of the pool's exceptions: an {@link IOException} (so OkHttp callers handle it like any
 * network failure) that lists every attempt of the logical request. Never carries a key.
 */
public class LlmPoolException extends IOException {
  private static final long serialVersionUID = 1L;

  private final transient List<Attempt> attempts;

  /**
   * {@code message} followed by the list of attempts.
   *
   * @param message what happened, without any credential
   * @param attempts every attempt of the logical request, in order (copied)
   * @param cause the underlying failure, or null
   */
  public LlmPoolException(String message, List<Attempt> attempts, Throwable cause) {
    super(message + describe(attempts), cause);
    this.attempts = List.copyOf(attempts);
  }

  /** Every attempt, in order. */
  public List<Attempt> attempts() {
    return attempts;
  }

  private static String describe(List<Attempt> attempts) {
    if (attempts.isEmpty()) {
      return "";
    }
    StringBuilder sb = new StringBuilder("; attempts:");
    for (int i = 0; i < attempts.size(); i++) {
      sb.append(' ').append(i + 1).append(") ").append(attempts.get(i));
    }
    return sb.toString();
  }
}
