package io.github.llmpool;

import java.io.IOException;
import java.util.Optional;

/**
 * Decides the {@link Outcome} of an attempt. Pluggable through
 * {@code ProviderPool.Builder.classifier(...)}; {@link #defaults()} implements the documented
 * table (2xx success; 429 rate limited, or quota exhausted when the error's {@code code} or
 * {@code type} says so; 401/403 on a request the pool signed unauthorized; 408 and 5xx server error; other 4xx the caller's fault; timeouts; every
 * other {@link IOException} a connection failure). Implementations must be thread-safe and fast.
 */
public interface OutcomeClassifier {

  /** Classifies a response by status; {@code response} gives headers and, on demand, a bounded error body. */
  Outcome classify(int status, ResponseInfo response);

  /** Classifies an exception thrown before a response arrived (the call was not cancelled). */
  Outcome classify(IOException failure);

  /** The default classifier. */
  static OutcomeClassifier defaults() {
    return DefaultOutcomeClassifier.INSTANCE;
  }

  /** What a classifier may read of a response. */
  interface ResponseInfo {
    /** The value of response header {@code name}; empty when the response has none. */
    Optional<String> header(String name);

    /**
     * The first bytes (at most 16 KiB) of the error body as UTF-8, read without consuming the body
     * the caller will see. Only read it for statuses that need it: it costs a copy.
     */
    String errorBody();

    /** Whether the pool signed this request with the provider's own credential. */
    default boolean signedByPool() {
      return false;
    }
  }
}
