package io.github.llmpool;

/** How one attempt ended, as far as health and failover are concerned. */
public enum Outcome {
  /** 2xx. */
  SUCCESS(false),
  /** The caller's fault (400, 401/403 on a request the pool did not sign, 404, 413, 422...): no eviction, no retry. */
  CLIENT_ERROR(false),
  /** 429 rate limit: evict (for the server's suggested delay when it gives one) and fail over. */
  RATE_LIMITED(true),
  /** 429 saying the quota or spend limit is exhausted: evict for the quota duration and fail over. */
  QUOTA_EXHAUSTED(true),
  /**
   * 401 or 403 on a request the pool signed with the provider's own key: that key is wrong, revoked
   * or not allowed; evict for the quota duration (no wait fixes a key) and fail over.
   */
  UNAUTHORIZED(true),
  /** 500, 502, 503, 504, 529 and other 5xx, 408: provider trouble, fail over. */
  SERVER_ERROR(true),
  /** Connect, read or write timeout. */
  TIMEOUT(true),
  /** Connection refused or reset, DNS or TLS failure, or a stream cut before its end. */
  CONNECTION_FAILURE(true);

  private final boolean retryable;

  Outcome(boolean retryable) {
    this.retryable = retryable;
  }

  /** Whether the attempt may be retried on another provider and counts against the provider's health. */
  public boolean retryable() {
    return retryable;
  }
}
