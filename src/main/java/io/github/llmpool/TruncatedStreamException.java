package io.github.llmpool;

import java.io.IOException;

/**
 * A streamed response ended without its terminal event ({@code data: [DONE]}, a
 * {@code finish_reason}, or {@code response.completed}): the answer is incomplete. Thrown by the
 * body's read at the point where it would have returned end-of-stream, unless the pool was built
 * with {@code failOnTruncatedStream(false)}.
 */
public final class TruncatedStreamException extends IOException {
  private static final long serialVersionUID = 1L;

  /**
   * @param message which provider's stream ended without its terminal event
   */
  public TruncatedStreamException(String message) {
    super(message);
  }
}
