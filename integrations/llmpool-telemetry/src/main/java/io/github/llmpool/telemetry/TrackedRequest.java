package io.github.llmpool.telemetry;

import io.github.llmpool.TokenUsage;
import io.github.llmpool.spi.AttemptEnd;
import io.github.llmpool.spi.AttemptStart;
import io.github.llmpool.spi.RequestEnd;
import io.github.llmpool.spi.RequestStart;
import java.util.Arrays;
import java.util.Optional;

/**
 * One logical request as the request and attempt hooks show it: its attempts in order, the tokens
 * they reported, how the last one ended and how the request ended. Built by {@link RequestTracker} on the call's thread and
 * handed to its {@link RequestTracker.Sink}s; read it only from the sink's callbacks (not
 * thread-safe, and it changes until {@link RequestTracker.Sink#requestEnded}).
 */
public final class TrackedRequest {
  final String pool;
  final String requestedModel; // the caller's text: only ever mapped to a configured value or escaped
  final boolean streaming;
  int attempts;
  /** The tier of the latest attempt (to tell a same-tier failover from a cross-tier one). */
  int lastTier = -1;
  /** Every attempt's provider, tier, status and result, kept only on request (null otherwise). */
  String[] providers;
  int[] tiers;
  int[] statuses;
  String[] results;
  long priorNanos;
  long inputTokens;
  long outputTokens;
  long cachedTokens;
  long reasoningTokens;
  boolean tokensReported;
  /** The sum of the attempts' costs (null until a priced attempt ended), its currency, how sure. */
  java.math.BigDecimal costAmount;
  String costCurrency;
  boolean costEstimated;
  /** An attempt ended with no price, or in a second currency: the request's cost is unknown. */
  boolean costUnknown;
  boolean costSeen;
  String servedModel;
  String responseId;
  java.util.List<String> finishReasons = java.util.List.of();
  /** The latest attempt, and its end once it ended (until the next attempt starts). */
  AttemptStart lastStart;
  AttemptEnd lastEnd;
  /** How the request ended; null until it did (or for a request built from an attempt, in tests). */
  RequestEnd end;
  String stop;
  boolean ended;
  /** A sink's own per-request state (one slot per sink index), e.g. a span. */
  Object[] attachments;

  TrackedRequest(AttemptStart first, boolean keepAttempts) {
    this(first.pool(), first.requestedModel().orElse(null), first.streaming(), keepAttempts);
  }

  TrackedRequest(RequestStart start, boolean keepAttempts) {
    this(start.pool(), start.requestedModel().orElse(null), start.streaming(), keepAttempts);
  }

  private TrackedRequest(String pool, String requestedModel, boolean streaming, boolean keepAttempts) {
    if (keepAttempts) {
      providers = new String[2];
      tiers = new int[2];
      statuses = new int[2];
      results = new String[2];
    }
    this.pool = pool;
    this.requestedModel = requestedModel;
    this.streaming = streaming;
  }

  /**
   * A request as the tracker builds it from its start, for tests of a sink.
   *
   * @param start the request's start
   * @param keepAttempts whether to keep each attempt's provider, tier, status and result
   * @return a new request with no attempt counted yet
   */
  public static TrackedRequest of(RequestStart start, boolean keepAttempts) {
    return new TrackedRequest(start, keepAttempts);
  }

  /**
   * Marks this request ended as {@code end} says. The tracker calls it; tests of a sink may too.
   *
   * @param end how it ended
   */
  public void end(RequestEnd end) {
    this.end = end;
    this.ended = true;
  }

  /**
   * How the request ended, once it did.
   *
   * @return its end, if it ended through the request hooks
   */
  public Optional<RequestEnd> end() {
    return Optional.ofNullable(end);
  }

  /**
   * Whether the pool refused the request before any attempt ({@link RequestEnd.Result#REFUSED}).
   *
   * @return whether it did
   */
  public boolean refused() {
    return end != null && end.result() == RequestEnd.Result.REFUSED;
  }

  /**
   * How the request ended, for an {@code outcome} tag: {@link TelemetryValues#REFUSED} for a
   * refused request, {@link TelemetryValues#CANCELLED} for one the caller cancelled, else the
   * result of its last attempt ({@link TelemetryValues#result}).
   *
   * @param last its last attempt's end, or null when it made none
   * @return the value
   */
  public String outcome(AttemptEnd last) {
    String r = byRequest();
    if (r != null) {
      return r;
    }
    return last == null ? TelemetryValues.OTHER : TelemetryValues.result(last);
  }

  /**
   * The request's {@code error.type}: as {@link #outcome}, with the last attempt's
   * {@link TelemetryValues#errorType} (a status, {@code none} for a success).
   *
   * @param last its last attempt's end, or null when it made none
   * @return the value
   */
  public String errorType(AttemptEnd last) {
    String r = byRequest();
    if (r != null) {
      return r;
    }
    return last == null ? TelemetryValues.OTHER : TelemetryValues.errorType(last);
  }

  private String byRequest() {
    if (end == null) {
      return null;
    }
    switch (end.result()) {
      case REFUSED:
        return TelemetryValues.REFUSED;
      case CANCELLED:
        return TelemetryValues.CANCELLED;
      default:
        return null;
    }
  }

  /**
   * The request's duration: its attempts' ({@link #priorNanos()} plus the last one's), or, for a
   * request that made none, from its start to its end.
   *
   * @param last its last attempt's end, or null when it made none
   * @return nanoseconds
   */
  public long durationNanos(AttemptEnd last) {
    if (last != null) {
      return priorNanos + last.duration().toNanos();
    }
    return end == null ? 0 : end.duration().toNanos();
  }

  /**
   * A request as the tracker would build it from its first attempt, for tests of a sink.
   *
   * @param first the first attempt
   * @param keepAttempts whether to keep each attempt's provider, tier, status and result
   * @return a new request with no attempt counted yet
   */
  public static TrackedRequest of(AttemptStart first, boolean keepAttempts) {
    return new TrackedRequest(first, keepAttempts);
  }

  /**
   * The pool's name.
   *
   * @return the name
   */
  public String pool() {
    return pool;
  }

  /**
   * The model the caller's body named: caller text, never to be used as an attribute or tag value
   * unmapped (see {@link ModelNames}).
   *
   * @return the model, or null if the body named none
   */
  public String requestedModel() {
    return requestedModel;
  }

  /**
   * Whether the caller asked for a stream.
   *
   * @return whether it did
   */
  public boolean streaming() {
    return streaming;
  }

  /**
   * The attempts so far.
   *
   * @return the count (0 before the first, and for a refused request)
   */
  public int attempts() {
    return attempts;
  }

  /**
   * The provider of attempt {@code i}, when the tracker keeps attempts.
   *
   * @param i the attempt's index, from 0
   * @return its provider
   * @throws IllegalStateException if the tracker keeps no attempts
   */
  public String provider(int i) {
    return kept()[i];
  }

  /**
   * The tier of attempt {@code i}, when the tracker keeps attempts.
   *
   * @param i the attempt's index, from 0
   * @return its tier
   * @throws IllegalStateException if the tracker keeps no attempts
   */
  public int tier(int i) {
    kept();
    return tiers[i];
  }

  /**
   * The HTTP status of attempt {@code i}, when the tracker keeps attempts.
   *
   * @param i the attempt's index, from 0
   * @return its status, or -1 without a response
   * @throws IllegalStateException if the tracker keeps no attempts
   */
  public int status(int i) {
    kept();
    return statuses[i];
  }

  /**
   * How attempt {@code i} ended ({@link TelemetryValues#result}), when the tracker keeps attempts.
   *
   * @param i the attempt's index, from 0
   * @return its result, or null while it runs
   * @throws IllegalStateException if the tracker keeps no attempts
   */
  public String result(int i) {
    kept();
    return results[i];
  }

  private String[] kept() {
    if (providers == null) {
      throw new IllegalStateException("the tracker keeps no attempts (RequestTracker keepAttempts=false)");
    }
    return providers;
  }

  /**
   * The summed durations of the attempts that ended before the last one.
   *
   * @return nanoseconds
   */
  public long priorNanos() {
    return priorNanos;
  }

  /**
   * Input (prompt) tokens summed over the attempts.
   *
   * @return the count
   */
  public long inputTokens() {
    return inputTokens;
  }

  /**
   * Output (completion) tokens summed over the attempts.
   *
   * @return the count
   */
  public long outputTokens() {
    return outputTokens;
  }

  /**
   * Cached input tokens summed over the attempts (part of the input).
   *
   * @return the count
   */
  public long cachedTokens() {
    return cachedTokens;
  }

  /**
   * Reasoning tokens summed over the attempts (part of the output).
   *
   * @return the count
   */
  public long reasoningTokens() {
    return reasoningTokens;
  }

  /**
   * What the request's attempts cost together, failed-over ones included: {@link io.github.llmpool.Cost#UNPRICED}
   * when one of them had no price (or the attempts were priced in different currencies), else
   * the exact sum, {@link io.github.llmpool.Cost.Status#ESTIMATED} when one of them was. Empty
   * when no attempt has ended.
   *
   * @return the cost, if an attempt ended
   */
  public java.util.Optional<io.github.llmpool.Cost> cost() {
    if (!costSeen) {
      return java.util.Optional.empty();
    }
    if (costUnknown || costAmount == null) {
      return java.util.Optional.of(io.github.llmpool.Cost.UNPRICED);
    }
    return java.util.Optional.of(io.github.llmpool.Cost.of(costAmount, costCurrency,
        costEstimated ? io.github.llmpool.Cost.Status.ESTIMATED : io.github.llmpool.Cost.Status.EXACT));
  }

  /**
   * Whether any attempt reported token usage.
   *
   * @return whether one did
   */
  public boolean tokensReported() {
    return tokensReported;
  }

  /**
   * The response id of the latest attempt that had a usage record ({@link TokenUsage#responseId()}).
   *
   * @return it, if that response had one
   */
  public Optional<String> responseId() {
    return Optional.ofNullable(responseId);
  }

  /**
   * The finish reasons of the latest attempt that had a usage record
   * ({@link TokenUsage#finishReasons()}).
   *
   * @return them, immutable; empty if that response gave none
   */
  public java.util.List<String> finishReasons() {
    return finishReasons;
  }

  /**
   * The model the (latest) response named.
   *
   * @return it, if one did
   */
  public Optional<String> servedModel() {
    return Optional.ofNullable(servedModel);
  }

  /**
   * Why the pool stopped trying, from {@code PoolEvent.Exhausted} (see
   * {@link TelemetryValues#exhaustedReason}).
   *
   * @return the reason text, if the pool gave up
   */
  public Optional<String> stop() {
    return Optional.ofNullable(stop);
  }

  /**
   * The object a sink attached to this request ({@link #attach}).
   *
   * @param slot the sink's slot, from 0
   * @return the object, or null
   */
  public Object attachment(int slot) {
    return attachments == null || slot >= attachments.length ? null : attachments[slot];
  }

  /**
   * Attaches a sink's own state to this request (a span, for example), read back with
   * {@link #attachment}.
   *
   * @param slot the sink's slot, from 0 (a sink uses its own fixed one)
   * @param value the object
   */
  public void attach(int slot, Object value) {
    if (attachments == null) {
      attachments = new Object[Math.max(slot + 1, 1)];
    } else if (slot >= attachments.length) {
      attachments = Arrays.copyOf(attachments, slot + 1);
    }
    attachments[slot] = value;
  }

  /**
   * Counts attempt {@code s} as this request's next one. The tracker calls it; tests of a sink
   * may too.
   *
   * @param s the attempt
   */
  public void started(AttemptStart s) {
    lastTier = s.tier();
    if (providers == null) {
      attempts++;
      return;
    }
    if (attempts == providers.length) {
      providers = Arrays.copyOf(providers, attempts * 2);
      tiers = Arrays.copyOf(tiers, attempts * 2);
      statuses = Arrays.copyOf(statuses, attempts * 2);
      results = Arrays.copyOf(results, attempts * 2);
    }
    providers[attempts] = s.provider();
    tiers[attempts] = s.tier();
    statuses[attempts] = -1;
    results[attempts] = null;
    attempts++;
  }

  /**
   * Records the end of attempt {@code s}: its status and result, and its usage. The tracker calls
   * it; tests of a sink may too.
   *
   * @param s the attempt
   * @param e its end
   * @param usage its usage, or null
   */
  public void ended(AttemptStart s, AttemptEnd e, TokenUsage usage) {
    int i = Math.min(s.attempt(), attempts) - 1;
    if (i >= 0 && providers != null) {
      statuses[i] = e.status().orElse(-1);
      results[i] = TelemetryValues.result(e);
    }
    io.github.llmpool.Cost c = e.cost();
    costSeen = true;
    if (!c.priced()) {
      costUnknown = true;
    } else if (costAmount == null) {
      costAmount = c.amount().get();
      costCurrency = c.currency().get();
    } else if (!costCurrency.equals(c.currency().get())) {
      costUnknown = true;
    } else {
      costAmount = costAmount.add(c.amount().get());
    }
    costEstimated |= c.status() == io.github.llmpool.Cost.Status.ESTIMATED;
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
    if (usage != null) { // the latest attempt's, even when it had none
      responseId = usage.responseId().orElse(null);
      finishReasons = usage.finishReasons();
    }
  }

  @Override
  public String toString() {
    return "TrackedRequest{pool=" + pool + ", attempts=" + attempts + (streaming ? ", streaming" : "")
        + (ended ? ", ended" : "") + "}";
  }
}
