package io.github.llmpool.internal.engine;

import io.github.llmpool.internal.route.Slot;

import io.github.llmpool.Cost;
import io.github.llmpool.Outcome;
import io.github.llmpool.Price;
import io.github.llmpool.TokenCounts;
import io.github.llmpool.TokenUsage;
import io.github.llmpool.internal.usage.UsageResult;
import io.github.llmpool.spi.AttemptStart;
import java.time.Duration;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * One attempt on one provider, from dispatch to the end of its response body. Holds the in-flight
 * slot taken at dispatch and gives it back exactly once, whichever way the attempt ends: an
 * exception before the response, a response the pool discards to fail over, or the end, early
 * close or failure of the body the caller reads. At that moment it counts the attempt, adds its
 * tokens, feeds the latency estimate (a stream's, by default, already at its first token:
 * {@link #firstToken}) and delivers the {@link TokenUsage}. Thread-safe.
 */
public final class AttemptLease extends io.github.llmpool.internal.health.Headroom.Reservation {
  private static final UsageResult NONE = new UsageResult(false, 0, 0, 0, 0, 0, null, false, false, false, false, 0);

  private final PoolCore core;
  private final Slot slot;
  private final int attempt;
  private final boolean probe;
  private final long start;
  private final String requestedModel;
  /** 0 until the attempt ends, then 1: set once by compare-and-set (a field, not an AtomicBoolean). */
  private volatile int done;
  private static final VarHandle DONE;
  /**
   * Where the attempt is: {@link #WAITING} until its first token or its end, then
   * {@link #TOKEN} (first token seen, no sample taken), {@link #SAMPLED_AT_TOKEN} (first token
   * seen and sampled) or {@link #ENDED}; moved by compare-and-set from {@code WAITING} in
   * {@link #firstToken}, swapped to {@code ENDED} at the end. Whoever moves it from
   * {@code WAITING} ends the stream's wait for its first token; the end samples only when it did
   * not find {@code SAMPLED_AT_TOKEN}: one sample per attempt, never two.
   */
  private volatile int stage;
  private static final int WAITING = 0;
  private static final int TOKEN = 1;
  private static final int SAMPLED_AT_TOKEN = 3;
  private static final int ENDED = 2;
  /** Whether this attempt is a stream (counted as waiting for its first token from its dispatch). */
  private final boolean streaming;
  private static final VarHandle STAGE;

  static {
    try {
      DONE = MethodHandles.lookup().findVarHandle(AttemptLease.class, "done", int.class);
      STAGE = MethodHandles.lookup().findVarHandle(AttemptLease.class, "stage", int.class);
    } catch (ReflectiveOperationException e) {
      throw new ExceptionInInitializerError(e);
    }
  }
  private volatile long headersAt = -1;
  private volatile int status = -1;
  private volatile Outcome outcome;
  /** The rate-limit window the response announced (-1: unknown); read only for attempt hooks. */
  private volatile long remainingRequests = -1;
  private volatile long remainingTokens = -1;
  /** Attempt hooks: what onStart was given, or null when no hook is registered. */
  private final AttemptStart started;
  /** What this attempt reserved from its provider's budgets (null: none); settled once, when it ends. */
  private long[] budgetHeld;
  /** A latency probe of the pool's own, not a caller's attempt. */
  private final boolean latencyProbe;
  /** The request this attempt's body ends, once it is the one the caller gets; null otherwise or without hooks. */
  private volatile RequestHook endsRequest;

  private AttemptLease(PoolCore core, Slot slot, int attempt, boolean probe, long start, String requestedModel,
      AttemptStart started, boolean streaming, boolean latencyProbe) {
    this.latencyProbe = latencyProbe;
    this.streaming = streaming;
    this.core = core;
    this.slot = slot;
    this.attempt = attempt;
    this.probe = probe;
    this.start = start;
    this.requestedModel = requestedModel;
    this.started = started;
  }

  /** Dispatches an attempt: +1 in flight, +1 request; tells the attempt hooks, if any. */
  public static AttemptLease dispatch(PoolCore core, Slot slot, int attempt, boolean probe, long now,
      String requestedModel, boolean streaming) {
    return dispatch(core, slot, attempt, probe, now, requestedModel, streaming, null);
  }

  /** As above, for the request {@code request} (null: no hook registered). */
  public static AttemptLease dispatch(PoolCore core, Slot slot, int attempt, boolean probe, long now,
      String requestedModel, boolean streaming, RequestHook request) {
    return dispatch(core, slot, attempt, probe, now, requestedModel, streaming, request, 0);
  }

  /**
   * As above, for a request of {@code tokens} estimated tokens: one request and the estimate are
   * taken from the provider's quota headroom, and the estimate is corrected to the reported usage
   * when the attempt ends.
   */
  public static AttemptLease dispatch(PoolCore core, Slot slot, int attempt, boolean probe, long now,
      String requestedModel, boolean streaming, RequestHook request, long tokens) {
    return dispatch(core, slot, attempt, probe, now, requestedModel, streaming, request, tokens, null);
  }

  /**
   * As above; {@code reserved}, when it holds the attempt's units already ({@link PoolCore#tryReserve}
   * for a request that waited for room), is handed to the lease instead of reserving again.
   */
  public static AttemptLease dispatch(PoolCore core, Slot slot, int attempt, boolean probe, long now,
      String requestedModel, boolean streaming, RequestHook request, long tokens,
      io.github.llmpool.internal.health.Headroom.Reservation reserved) {
    return dispatch(core, slot, attempt, probe, now, requestedModel, streaming, request, tokens, reserved, false);
  }

  /**
   * A latency probe of the pool's own ({@code P2cSettings.probes}): attempt 1 of no logical request,
   * streamed, of {@code tokens} estimated tokens; its start and usage records say
   * {@code latencyProbe}.
   */
  public static AttemptLease dispatchLatencyProbe(PoolCore core, Slot slot, long now, String requestedModel,
      long tokens) {
    return dispatch(core, slot, 1, false, now, requestedModel, true, null, tokens, null, true);
  }

  private static AttemptLease dispatch(PoolCore core, Slot slot, int attempt, boolean probe, long now,
      String requestedModel, boolean streaming, RequestHook request, long tokens,
      io.github.llmpool.internal.health.Headroom.Reservation reserved, boolean latencyProbe) {
    slot.state.dispatch(now, streaming);
    AttemptStart started = core.hasAttemptListeners()
        ? core.attemptStarted(slot, attempt, probe, latencyProbe, requestedModel, streaming,
            request == null ? 0 : request.id())
        : null;
    AttemptLease lease = new AttemptLease(core, slot, attempt, probe, now, requestedModel, started, streaming,
        latencyProbe);
    if (reserved != null && reserved.held() && reserved.headroom() == slot.state.headroom()) {
      reserved.moveTo(lease);
    } else {
      core.release(reserved);
      core.reserve(slot, tokens, now, lease);
    }
    return lease;
  }

  public Slot slot() {
    return slot;
  }

  /** Hands this attempt what was reserved from its budgets at dispatch (null or empty: nothing), to settle at its end. */
  public void holdBudgets(long[] held) {
    this.budgetHeld = held == null || held.length == 0 ? null : held;
  }

  /**
   * This attempt's response is the one the caller gets: the end of its body ends {@code request}
   * (null: nothing to tell). Set before the response leaves the pool.
   */
  public void endsRequest(RequestHook request) {
    this.endsRequest = request;
  }

  public boolean probe() {
    return probe;
  }

  public long start() {
    return start;
  }

  public PoolCore core() {
    return core;
  }

  /** Whether attempt hooks will be told of this attempt's end (what {@link #rateLimits} is for). */
  public boolean hooked() {
    return started != null;
  }

  /**
   * What the response's rate-limit headers said was left, for the attempt hooks: remaining
   * requests and tokens ({@code RateLimitHeaders}), each -1 when absent or malformed.
   */
  public void rateLimits(long requests, long tokens) {
    this.remainingRequests = requests;
    this.remainingTokens = tokens;
  }

  /**
   * The response headers arrived with this status, classified as {@code outcome}, and the
   * provider's health learns it here, like every other verdict of an attempt: a retryable outcome
   * is a failure (which may evict, for {@code hintNanos} when the response named a delay, else -1),
   * anything else proves the provider up. The body's own end is reported by {@link #finish}.
   */
  public void answered(long now, int status, Outcome outcome, long hintNanos) {
    headers(now, status, outcome);
    if (outcome.retryable()) {
      core.onFailure(slot, outcome, status, hintNanos, now, start, probe);
    } else {
      core.onHealthy(slot, start);
    }
  }

  /**
   * The response headers arrived, but they say nothing of the provider (a credential removed below
   * the pool): counted as the caller's fault, no verdict, a claimed probe released.
   */
  public void answeredWithoutVerdict(long now, int status) {
    headers(now, status, Outcome.CLIENT_ERROR);
    core.onNeutral(slot, probe);
  }

  private void headers(long now, int status, Outcome outcome) {
    this.headersAt = now;
    this.status = status;
    this.outcome = outcome;
    if ((status < 200 || status >= 300) && STAGE.compareAndSet(this, WAITING, TOKEN) && streaming) {
      slot.state.firstToken(start, now); // an error answer: no first token to wait for
    }
  }

  /**
   * The attempt failed before a response: releases it and records the failure with health
   * ({@code outcome == null} means cancelled: no health verdict).
   */
  public void failedBeforeResponse(Outcome outcome, long now) {
    if (!DONE.compareAndSet(this, 0, 1)) {
      return;
    }
    end(now);
    slot.state.release();
    slot.state.count(false, false);
    if (outcome == null) {
      core.onNeutral(slot, probe);
    } else {
      core.onFailure(slot, outcome, -1, -1, now, start, probe);
    }
    Price price = slot.endpoint.price;
    Cost cost = Cost.UNPRICED;
    if (price == null) {
      slot.state.spend.unpriced(false, 0, 0, 0, 0, 0, 0);
    } else { // a lower bound: the provider may bill work done for a request that timed out
      cost = price.cost(TokenCounts.ZERO, Cost.Status.ESTIMATED);
      slot.state.spend.add(cost);
    }
    if (budgetHeld != null) { // nothing answered: what it cost, 0
      core.settleBudgets(slot, budgetHeld, cost, 0, false);
    }
    core.attemptEnded(started, outcome, -1, now - start, -1, -1, null, -1, -1, cost); // attempt hooks (no-op without)
  }

  /**
   * A streamed body's first token arrived at {@code now}: when the model {@linkplain
   * io.github.llmpool.internal.health.LatencyModel#samplesAtFirstToken samples at the first token},
   * the provider's latency estimate gets this attempt's sample now, its time to first token as the
   * signal, once; the end of the body then takes no second sample. Only for a 2xx answer whose
   * attempt has not ended yet. Called by the thread that reads the body (the tap), at most once.
   */
  public void firstToken(long now) {
    int code = status;
    io.github.llmpool.internal.health.LatencyModel model = core.settings().latency();
    boolean sample = code >= 200 && code < 300 && model.samplesAtFirstToken();
    if (!STAGE.compareAndSet(this, WAITING, sample ? SAMPLED_AT_TOKEN : TOKEN)) {
      return; // ended, or its first token was seen already
    }
    if (streaming) {
      slot.state.firstToken(start, now); // no longer waiting for its first token
    }
    if (sample) {
      slot.state.sampledInFlight(); // no longer awaits its sample: exploration need not wait for its end
      long ttft = Math.max(0, now - start);
      slot.state.sample(now, model.signal(true, ttft, ttft, 0, false), start, model);
    }
  }

  /**
   * The answer is not a stream (the request asked for one, but its body is not server-sent
   * events, or the tap cannot read it): it waits for no first token from now on ({@code now}), and
   * its sample is taken at its end, as a non-streamed answer's.
   */
  public void notStreamed(long now) {
    if (streaming && STAGE.compareAndSet(this, WAITING, TOKEN)) {
      slot.state.firstToken(start, now);
    }
  }

  /**
   * Moves the stage to {@link #ENDED}, once: ends a stream's wait for its first token if nothing
   * did yet; returns whether its sample was taken at its first token.
   */
  private boolean end(long now) {
    int was = (int) STAGE.getAndSet(this, ENDED);
    if (was == WAITING && streaming) {
      slot.state.firstToken(start, now); // ended without a first token: no longer waiting for one
    }
    return was == SAMPLED_AT_TOKEN;
  }

  /** The pool closed this attempt's response to fail over: release and report it as discarded. */
  public void discard(long now) {
    finish(NONE, TokenUsage.End.DISCARDED, -1, now, false);
  }

  /**
   * The body ended (read to its end, closed early, or failed). {@code ttftAt} is when the first
   * token arrived (-1 if none); {@code cancelled} suppresses a health verdict for a failed read.
   */
  public void finish(UsageResult usage, TokenUsage.End end, long ttftAt, long now, boolean cancelled) {
    finish(usage, end, ttftAt, now, cancelled ? null : Outcome.CONNECTION_FAILURE);
  }

  /**
   * As above; a failed or truncated body of a 2xx answer counts as {@code bodyFailure} against the
   * provider ({@code null}: the caller gave up, no verdict).
   */
  public void finish(UsageResult usage, TokenUsage.End end, long ttftAt, long now, Outcome bodyFailure) {
    if (!DONE.compareAndSet(this, 0, 1)) {
      return;
    }
    int code = status;
    boolean ok2xx = code >= 200 && code < 300;
    boolean bodyFailed = end == TokenUsage.End.FAILED || end == TokenUsage.End.TRUNCATED;
    boolean clientError = outcome == Outcome.CLIENT_ERROR;
    boolean sampledEarly = end(now); // from now on firstToken takes nothing
    slot.state.release(sampledEarly);
    slot.state.count(ok2xx && !bodyFailed, clientError && !bodyFailed);
    if (usage.reported()) {
      slot.state.addTokens(usage.promptTokens(), usage.completionTokens(), usage.totalTokens(),
          usage.cachedTokens(), usage.reasoningTokens());
      slot.state.spend.cacheWrite(usage.cacheWriteTokens());
    }
    Price price = slot.endpoint.price;
    TokenCounts tokens = null; // made only when needed: priced, or for the usage listener
    Cost cost = Cost.UNPRICED;
    if (price == null) { // no allocation on this path
      slot.state.spend.unpriced(usage.reported(), usage.promptTokens(), usage.completionTokens(), usage.totalTokens(),
          usage.cachedTokens(), usage.reasoningTokens(), usage.cacheWriteTokens());
    } else {
      tokens = tokens(usage);
      cost = price.cost(tokens, costStatus(usage, tokens, end, ok2xx));
      slot.state.spend.add(cost);
    }
    if (budgetHeld != null) { // a 2xx answer without a usage report keeps its estimate: it was billed, for how much nobody knows
      core.settleBudgets(slot, budgetHeld, cost, usage.reported()
          ? Math.max(usage.totalTokens(), usage.promptTokens() + usage.completionTokens()) : 0,
          ok2xx && !usage.reported() && end != TokenUsage.End.DISCARDED);
    }
    if (held()) { // the quota estimate, corrected to what the provider counted
      core.settle(slot, this, usage.reported()
          ? Math.max(usage.totalTokens(), usage.promptTokens() + usage.completionTokens()) : -1);
    }
    long duration = now - start;
    long ttft = usage.streamed() ? (ttftAt >= 0 ? ttftAt - start : -1) : (headersAt >= 0 ? headersAt - start : -1);
    if (ok2xx) {
      if (bodyFailed && bodyFailure != null) {
        core.onFailure(slot, bodyFailure, code, -1, now, start, false);
      } else if (!sampledEarly && (usage.streamed() ? ttft >= 0 : end == TokenUsage.End.COMPLETE)) {
        long signal = core.settings().latency().signal(usage.streamed(), ttft, duration, usage.completionTokens(),
            usage.reported());
        slot.state.sample(now, signal, start, core.settings().latency());
      }
    }
    if (core.hasUsageListener()) { // built only for a listener: no allocation otherwise
      core.deliver(usageRecord(usage, tokens != null ? tokens : tokens(usage), cost, end, code, ttft, duration));
    }
    // Attempt hooks (no-op without): the verdict is the body's failure for a failed 2xx body, else the headers'.
    core.attemptEnded(started, ok2xx && bodyFailed ? bodyFailure : outcome, code, duration,
        headersAt >= 0 ? headersAt - start : -1, ttft, end, remainingRequests, remainingTokens, cost);
    RequestHook request = endsRequest;
    if (request != null) { // request hooks, after the last attempt's
      request.answered(code, end, bodyFailed && bodyFailure == null, attempt, now);
    }
  }

  /**
   * The record for the listener. Headers always arrived before a usage is reported (a discard or
   * a tapped body follows them); durations are clamped at 0 against a non-monotonic ticker.
   */
  private TokenUsage usageRecord(UsageResult usage, TokenCounts tokens, Cost cost, TokenUsage.End end, int code,
      long ttft, long duration) {
    return TokenUsage.builder(slot.name()).cost(cost).tier(slot.tier).requestedModel(requestedModel)
        .servedModel(usage.servedModel()).responseId(usage.responseId()).finishReasons(usage.finishReasons())
        .tokens(tokens).reported(usage.reported()).status(Math.max(0, code))
        .streamed(usage.streamed()).timeToFirstByte(nanos(headersAt >= 0 ? headersAt - start : duration))
        .timeToFirstToken(ttft >= 0 ? nanos(ttft) : null).duration(nanos(duration)).attempt(attempt).end(end)
        .errorEvent(usage.errorEvent()).latencyProbe(latencyProbe).build();
  }

  private static TokenCounts tokens(UsageResult usage) {
    return !usage.reported() ? TokenCounts.ZERO : TokenCounts.builder().prompt(usage.promptTokens())
        .completion(usage.completionTokens()).total(usage.totalTokens()).cached(usage.cachedTokens())
        .reasoning(usage.reasoningTokens()).cacheWrite(usage.cacheWriteTokens()).build();
  }

  /**
   * How sure a priced attempt's cost is: an error answer (not 2xx) is billed nothing but what it
   * reported, exactly; a 2xx answer is exact only when its body was complete, its usage reported
   * and consistent, else the reported tokens give a lower bound.
   */
  static Cost.Status costStatus(UsageResult usage, TokenCounts tokens, TokenUsage.End end, boolean ok2xx) {
    if (!ok2xx) {
      return Cost.Status.EXACT;
    }
    return usage.reported() && end == TokenUsage.End.COMPLETE && Price.consistent(tokens)
        ? Cost.Status.EXACT : Cost.Status.ESTIMATED;
  }

  private static Duration nanos(long n) {
    return Duration.ofNanos(Math.max(0, n));
  }
}
