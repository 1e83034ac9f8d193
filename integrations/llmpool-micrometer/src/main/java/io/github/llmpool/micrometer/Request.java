package io.github.llmpool.micrometer;

import io.github.llmpool.Outcome;
import io.github.llmpool.TokenUsage;
import io.github.llmpool.spi.AttemptEnd;
import io.github.llmpool.spi.AttemptStart;

/**
 * One logical request as the attempt hooks show it: its attempts in order, the tokens they
 * reported and how the last one ended. Built by {@link RequestTracker} on the call's thread;
 * handed to the sinks once, when the request ends.
 */
final class Request {
  final String pool;
  final String requestedModel; // the caller's text: only ever mapped to a configured value or escaped
  final boolean streaming;
  /** Attempts so far. */
  int attempts;
  /** The tier of the latest attempt (to tell a same-tier failover from a cross-tier one). */
  int lastTier = -1;
  /** Every attempt's provider, tier, status and result, kept only for the audit log (null otherwise). */
  String[] providers;
  int[] tiers;
  int[] statuses;
  String[] results;
  /** Sum of the durations of the attempts that ended before the last one. */
  long priorNanos;
  long inputTokens;
  long outputTokens;
  long cachedTokens;
  long reasoningTokens;
  boolean tokensReported;
  String servedModel;
  /** The last attempt ended retryable before a response: the request ends at Exhausted or goes on. */
  boolean awaitingNext;
  /** Why the pool stopped trying, from {@code PoolEvent.Exhausted}; null otherwise. */
  String stop;
  boolean ended;

  Request(AttemptStart first, boolean keepAttempts) {
    if (keepAttempts) {
      providers = new String[2];
      tiers = new int[2];
      statuses = new int[2];
      results = new String[2];
    }
    this.pool = first.pool();
    this.requestedModel = first.requestedModel().orElse(null);
    this.streaming = first.streaming();
  }

  void started(AttemptStart s) {
    lastTier = s.tier();
    if (providers == null) {
      attempts++;
      awaitingNext = false;
      return;
    }
    if (attempts == providers.length) {
      providers = java.util.Arrays.copyOf(providers, attempts * 2);
      tiers = java.util.Arrays.copyOf(tiers, attempts * 2);
      statuses = java.util.Arrays.copyOf(statuses, attempts * 2);
      results = java.util.Arrays.copyOf(results, attempts * 2);
    }
    providers[attempts] = s.provider();
    tiers[attempts] = s.tier();
    statuses[attempts] = -1;
    results[attempts] = null;
    attempts++;
    awaitingNext = false;
  }

  /** Records the end of attempt {@code s} (its index is its attempt number - 1 when in step). */
  void ended(AttemptStart s, AttemptEnd e, TokenUsage usage) {
    int i = Math.min(s.attempt(), attempts) - 1;
    if (i >= 0 && providers != null) {
      statuses[i] = e.status().orElse(-1);
      results[i] = Tags.result(e);
    }
    if (usage != null && usage.reported()) {
      tokensReported = true;
      inputTokens += usage.tokens().prompt();
      outputTokens += usage.tokens().completion();
      cachedTokens += usage.tokens().cached();
      reasoningTokens += usage.tokens().reasoning();
    }
    if (usage != null && usage.servedModel().isPresent()) {
      servedModel = usage.servedModel().get();
    }
  }

  /** Whether {@code e} ends the logical request (see {@link RequestTracker}). */
  static boolean isLast(AttemptEnd e) {
    if (e.outcome().isEmpty()) {
      return true; // cancelled: nothing follows
    }
    Outcome o = e.outcome().get();
    if (!o.retryable()) {
      return true;
    }
    if (e.bodyEnd().isPresent()) {
      return e.bodyEnd().get() != TokenUsage.End.DISCARDED; // a retryable answer handed to the caller
    }
    return false; // failed before a response: decided by the next start or by Exhausted
  }
}
