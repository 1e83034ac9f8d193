package io.github.llmpool.internal.health;

import io.github.llmpool.Cost;
import java.math.BigDecimal;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.atomic.LongAdder;

/**
 * One provider's money: what its priced attempts cost, per currency (exact sums), and the tokens
 * of its unpriced attempts; plus the cache-write tokens of every attempt (a count the older token
 * sums do not carry). Updated where usage is reported, never on the pick path: an unpriced usage
 * costs a few {@link LongAdder} additions, a priced one a short lock. Thread-safe.
 */
public final class Spend {
  private final Map<String, BigDecimal> byCurrency = new TreeMap<>(); // guarded by this
  private final LongAdder estimatedAttempts = new LongAdder();
  private final LongAdder unpricedAttempts = new LongAdder();
  private final LongAdder unpricedPrompt = new LongAdder();
  private final LongAdder unpricedCompletion = new LongAdder();
  private final LongAdder unpricedTotal = new LongAdder();
  private final LongAdder unpricedCached = new LongAdder();
  private final LongAdder unpricedReasoning = new LongAdder();
  private final LongAdder unpricedCacheWrite = new LongAdder();
  private final LongAdder cacheWrite = new LongAdder();

  /** Adds a priced attempt's cost (an {@link Cost#UNPRICED} one is ignored: see {@link #unpriced}). */
  public void add(Cost cost) {
    if (!cost.priced()) {
      return;
    }
    if (cost.status() == Cost.Status.ESTIMATED) {
      estimatedAttempts.increment();
    }
    BigDecimal amount = cost.amount().orElseThrow();
    String currency = cost.currency().orElseThrow();
    synchronized (this) {
      byCurrency.merge(currency, amount, BigDecimal::add);
    }
  }

  /** An attempt of a provider without a price; its reported tokens (all 0 when none were reported). */
  public void unpriced(boolean reported, long prompt, long completion, long total, long cached, long reasoning,
      long cacheWrite) {
    unpricedAttempts.increment();
    if (!reported) {
      return;
    }
    unpricedPrompt.add(prompt);
    unpricedCompletion.add(completion);
    unpricedTotal.add(total);
    if (cached != 0) {
      unpricedCached.add(cached);
    }
    if (reasoning != 0) {
      unpricedReasoning.add(reasoning);
    }
    if (cacheWrite != 0) {
      unpricedCacheWrite.add(cacheWrite);
    }
  }

  /** Cache-write tokens of any attempt (priced or not). */
  public void cacheWrite(long tokens) {
    if (tokens != 0) {
      cacheWrite.add(tokens);
    }
  }

  /** The sums per currency code, sorted by code; a copy. */
  public synchronized Map<String, BigDecimal> byCurrency() {
    return new TreeMap<>(byCurrency);
  }

  public long estimatedAttempts() {
    return estimatedAttempts.sum();
  }

  public long unpricedAttempts() {
    return unpricedAttempts.sum();
  }

  public long unpricedPrompt() {
    return unpricedPrompt.sum();
  }

  public long unpricedCompletion() {
    return unpricedCompletion.sum();
  }

  public long unpricedTotal() {
    return unpricedTotal.sum();
  }

  public long unpricedCached() {
    return unpricedCached.sum();
  }

  public long unpricedReasoning() {
    return unpricedReasoning.sum();
  }

  public long unpricedCacheWrite() {
    return unpricedCacheWrite.sum();
  }

  public long cacheWriteTokens() {
    return cacheWrite.sum();
  }
}
