package io.github.llmpool.internal.okhttp;

import io.github.llmpool.Attempt;
import io.github.llmpool.AttemptsExhaustedException;
import io.github.llmpool.LlmPoolException;
import io.github.llmpool.Outcome;
import io.github.llmpool.OutcomeClassifier;
import io.github.llmpool.PoolEvent;
import io.github.llmpool.internal.health.RateWindow;
import io.github.llmpool.internal.health.RetryHints;
import io.github.llmpool.internal.engine.AffinityTable;
import io.github.llmpool.internal.engine.AttemptLease;
import io.github.llmpool.internal.engine.PoolCore;
import io.github.llmpool.internal.engine.RequestHook;
import io.github.llmpool.internal.route.Slot;
import io.github.llmpool.internal.route.Exclusion;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import okhttp3.Call;
import okhttp3.Interceptor;
import okhttp3.Request;
import okhttp3.Response;

/**
 * One logical request: the bounded failover loop. Each attempt goes to a provider this request has
 * not tried yet (same tier first, then the next); a retryable failure whose response has not
 * reached the caller is closed and retried at once, within {@code RetryPolicy.maxAttempts}, the
 * pool's retry budget and the call's own timeout (OkHttp cancels the call when it expires, which
 * ends the loop). A one-shot or duplex body is never replayed. When attempts run out, the last
 * upstream response is returned as is (marked {@code x-should-retry: false} so SDKs above do not
 * multiply attempts), or, if the last attempt was an exception, an
 * {@link AttemptsExhaustedException} lists every attempt. Every response not returned is closed
 * before the next {@code proceed}. Not thread-safe: it lives on the call's thread.
 */
final class LogicalCall implements Exclusion {
  /** Error bodies read to classify a 429 are cut here. */
  static final int MAX_ERROR_BODY = 16 * 1024;
  static final String SHOULD_RETRY = "x-should-retry";

  private final PoolCore core;
  private final Interceptor.Chain chain;
  private final Call call;
  /**
   * The attempts that did not end the call, in order, kept as their parts: {@link Attempt} records
   * (and their {@link Duration}s) are built only when the call ends without a success and lists
   * them ({@link #attempts()}, events); a call whose first attempt succeeds allocates none of it.
   */
  private Slot[] failedSlots;
  private int[] failedStatus;
  private Outcome[] failedOutcome;
  private String[] failedError;
  private long[] failedNanos;
  private int failedCount;
  /** The providers tried, in order: the first in a field, the rest (failover only) in an array. */
  private Slot firstTried;
  private Slot[] moreTried;
  private int triedCount;
  private final boolean[] probe = new boolean[1];
  private final RequestPlan prepared; // when the caller (a ModelRouter) already read the request

  /** Told when a response arrives and when its body ends (cheap; see {@link DispatcherWatch}). */
  private final DispatcherWatch watch;

  /**
   * With the request already read into {@code plan} (null: read {@code chain.request()}) and the
   * watch of the interceptor's per-host limit.
   */
  LogicalCall(PoolCore core, Interceptor.Chain chain, RequestPlan plan, DispatcherWatch watch) {
    this.core = core;
    this.chain = chain;
    this.call = chain.call();
    this.prepared = plan;
    this.watch = watch;
    this.prober = Prober.of(core);
  }

  /** The pool's probe sender ({@code P2cSettings.probes}), or null. */
  private final Prober prober;

  /** The request's token estimate (set once the request is read). */
  private long tokens;
  /** Its prompt estimate and max_tokens (-1: none), for budgets. */
  private long promptTokens;
  private long maxTokens = -1;
  /** Providers a budget refused at dispatch (not tried; passed over for the rest of this request). */
  private Slot[] overBudget;
  private int overBudgetCount;
  /** What the attempt about to be dispatched reserved from its budgets (null: nothing). */
  private long[] budgetHeld;
  /**
   * The quota headroom a request that waited for room took when it was woken ({@code quotaWait}),
   * handed to its attempt's lease at dispatch (null until a request first waits).
   */
  private io.github.llmpool.internal.health.Headroom.Reservation waited;
  /** Whether the slot just claimed was claimed after a wait (the dispatch time is read again). */
  private boolean woke;

  @Override
  public long tokens() {
    return tokens;
  }

  @Override
  public long promptTokens() {
    return promptTokens;
  }

  @Override
  public long maxTokens() {
    return maxTokens;
  }

  @Override
  public boolean excludes(Slot slot) {
    for (int i = 0; i < overBudgetCount; i++) {
      if (overBudget[i].state == slot.state) {
        return true;
      }
    }
    if (triedCount == 0) {
      return false;
    }
    if (firstTried.state == slot.state) {
      return true;
    }
    for (int i = 0; i < triedCount - 1; i++) {
      if (moreTried[i].state == slot.state) {
        return true;
      }
    }
    return false;
  }

  private void addTried(Slot slot) {
    if (triedCount == 0) {
      firstTried = slot;
    } else {
      if (moreTried == null) {
        moreTried = new Slot[2];
      } else if (moreTried.length < triedCount) {
        moreTried = java.util.Arrays.copyOf(moreTried, moreTried.length * 2);
      }
      moreTried[triedCount - 1] = slot;
    }
    triedCount++;
  }

  /** Records an attempt that did not end the call (its parts; see {@link #attempts()}). */
  private void recordFailed(Slot slot, int status, Outcome outcome, String error, long nanos) {
    if (failedSlots == null) {
      failedSlots = new Slot[2];
      failedStatus = new int[2];
      failedOutcome = new Outcome[2];
      failedError = new String[2];
      failedNanos = new long[2];
    } else if (failedCount == failedSlots.length) {
      int n = failedCount * 2;
      failedSlots = java.util.Arrays.copyOf(failedSlots, n);
      failedStatus = java.util.Arrays.copyOf(failedStatus, n);
      failedOutcome = java.util.Arrays.copyOf(failedOutcome, n);
      failedError = java.util.Arrays.copyOf(failedError, n);
      failedNanos = java.util.Arrays.copyOf(failedNanos, n);
    }
    failedSlots[failedCount] = slot;
    failedStatus[failedCount] = status;
    failedOutcome[failedCount] = outcome;
    failedError[failedCount] = error;
    failedNanos[failedCount] = nanos;
    failedCount++;
  }

  /** Every attempt recorded so far, as the exceptions and events list them. */
  private List<Attempt> attempts() {
    List<Attempt> list = new ArrayList<>(failedCount);
    for (int i = 0; i < failedCount; i++) {
      Slot s = failedSlots[i];
      list.add(new Attempt(s.name(), s.tier, failedStatus[i], failedOutcome[i], failedError[i],
          Duration.ofNanos(failedNanos[i])));
    }
    return list;
  }

  /** Tells OkHttp's call timeout from a caller's cancel (real time since entry). */
  private final CallDeadline deadline = new CallDeadline();

  /** The request of the latest attempt as sent to its provider, and as the caller may see it. */
  private Request sent;
  private Request sentUnsigned;

  /** Failures before a response, in order (created at the first). */
  private List<IOException> errors;

  /** The failed response kept for the caller while the next attempt is tried, and its lease. */
  private Response pending;
  private AttemptLease pendingLease;

  /** The request and attempt hooks' view of this request; null while no hook is registered. */
  private RequestHook hook;
  /** The attempts dispatched so far (for the request hooks). */
  private int dispatched;

  Response execute() throws IOException {
    try {
      RequestPlan plan = prepared != null ? prepared : RequestPlan.of(chain.request(), core.settings().virtualPrefix());
      hook = core.requestStarted(plan.requestedModel(), plan.streaming()); // null without hooks
      return loop(plan);
    } catch (Throwable t) {
      // Whatever escapes the loop (a bug, an Error, a caller's cancel): the response held for the
      // caller is closed and its attempt finished, so no counter stays unbalanced and no
      // connection leaks.
      dropPending(core.now());
      core.release(waited); // a waited request's headroom, taken but never dispatched
      RequestHook h = hook;
      if (h != null) { // after the last attempt's end (dropPending's discard)
        h.threw(t, call.isCanceled() || Thread.currentThread().isInterrupted(), dispatched, core.now());
      }
      throw t;
    }
  }

  private Response loop(RequestPlan plan) throws IOException {
    // Session affinity: the first attempt goes to the key's remembered provider if it is eligible.
    AffinityTable sticky = core.affinity();
    String key = sticky == null ? null : AffinityView.key(sticky.spec(), plan);
    String stickyProvider = key == null ? null : sticky.provider(key);
    int maxAttempts = plan.replayable ? core.settings().retry().maxAttempts() : 1;
    tokens = plan.estimatedTokens();
    promptTokens = plan.promptTokens();
    maxTokens = plan.maxTokens();
    if (core.hasBudgets()) {
      core.budgetsAtStart(core.now()); // resets ended windows; a spent pool-wide budget refuses here
    }
    core.budget().onRequest(core.now());

    Slot previous = null;

    // Bounded: each pass dispatches one attempt on a provider not tried before, at most maxAttempts.
    for (int n = 1; ; n++) {
      long now = core.now();
      Slot slot = null;
      String stop;
      if (n > maxAttempts) {
        stop = plan.replayable ? "maxAttempts (" + maxAttempts + ") reached" : "the request body cannot be replayed";
      } else if (call.isCanceled() || Thread.currentThread().isInterrupted()) {
        dropPending(now);
        throw call.isCanceled() ? new IOException("Canceled") : new java.io.InterruptedIOException("interrupted");
      } else {
        slot = claim(n, now, stickyProvider);
        if (slot != null && woke) { // it waited for room: dispatched now, not when it arrived
          now = core.now();
          woke = false;
        }
        stop = slot == null ? "no untried provider is available" : null;
        if (slot != null && n > 1 && !core.budget().tryRetry(now)) { // (n > 1: nothing waited, nothing held)
          core.onNeutral(slot, probe[0]);
          slot = null;
          stop = "the pool's retry budget is spent";
        }
        budgetHeld = null;
        if (slot != null && core.hasBudgets()) {
          slot = withinBudgets(slot, n);
          if (slot == null) {
            stop = "no untried provider is within its budgets";
          }
        }
      }
      if (slot == null) {
        return finish(pending, pendingLease, stop, now);
      }
      // From here the slot is claimed (perhaps as its probe): it is released on every path.
      Request out;
      try {
        dropPending(now);
        if (previous != null) {
          retriedOn(); // a retryable failure is retried: now, not when it happened
        }
        if (previous != null && previous.tier != slot.tier) {
          Slot from = previous;
          Slot to = slot;
          int attemptNo = n;
          core.emit(() -> new PoolEvent.FailedOver(to.name(), to.tier, from.name(), from.tier, attemptNo));
        }
        previous = slot;
        addTried(slot);
        if (key != null) { // the key moves with the request: evicted, excluded or new, it stays here now
          sticky.remember(key, slot.name(), stickyProvider);
          if (!slot.name().equals(stickyProvider)) {
            core.publishAffinity(key, slot.name()); // a new binding; nothing when local-only
          }
          stickyProvider = slot.name();
        }
        Request.Builder signed = plan.builder(slot.endpoint);
        out = signed.build();
        // The caller's view of this request, from the same builder (see forCaller).
        sentUnsigned = slot.endpoint.scope == null ? out : RequestPlan.unsigned(signed, slot.endpoint);
        sent = out;
      } catch (RuntimeException e) {
        core.onNeutral(slot, probe[0]);
        core.releaseBudgets(slot, budgetHeld);
        core.release(waited);
        throw new IOException("llmpool could not prepare the request for provider '" + slot.name() + "': "
            + e.getClass().getName(), e);
      } catch (Throwable e) {
        core.onNeutral(slot, probe[0]);
        core.releaseBudgets(slot, budgetHeld);
        core.release(waited);
        throw e;
      }

      AttemptLease lease = AttemptLease.dispatch(core, slot, n, probe[0], now, plan.requestedModel(), plan.streaming(),
          hook, tokens, waited);
      lease.holdBudgets(budgetHeld);
      budgetHeld = null;
      dispatched = n;
      if (prober != null) {
        prober.remember(slot, plan, now);
        prober.sendDue(); // what this request's picks queued: sent before its own attempt waits
      }
      Response response = attempt(out, lease, slot, n, now, maxAttempts);
      if (response == null) {
        continue; // failed before a response; recorded
      }
      Response kept = judge(response, out, lease, slot, n, now, maxAttempts);
      if (kept != null) {
        return kept;
      }
    }
  }

  /**
   * Reserves the request's estimate from the budgets of the claimed {@code slot}; when one refuses,
   * releases the claim, passes the provider over for the rest of this request and claims another.
   * Returns the slot that holds its reservation ({@link #budgetHeld}), or null when none is left.
   * Bounded: each refusal excludes one more provider.
   */
  private Slot withinBudgets(Slot slot, int n) {
    while (slot != null) {
      long[] held = core.reserveBudgets(slot, promptTokens, maxTokens);
      if (held != null) {
        budgetHeld = held;
        return slot;
      }
      core.onNeutral(slot, probe[0]);
      core.release(waited);
      if (overBudget == null) {
        overBudget = new Slot[2];
      } else if (overBudgetCount == overBudget.length) {
        overBudget = java.util.Arrays.copyOf(overBudget, overBudgetCount * 2);
      }
      overBudget[overBudgetCount++] = slot;
      slot = claim(n, core.now(), null);
    }
    return null;
  }

  /** Chooses and claims the provider for attempt {@code n} (sets {@link #probe}); null when none. */
  private Slot claim(int n, long now, String stickyProvider) {
    probe[0] = false;
    Slot slot = n == 1 && stickyProvider != null ? core.chooseSticky(now, stickyProvider, this, probe) : null;
    if (slot == null) {
      slot = core.choose(now, this, probe);
    }
    if (slot == null && core.hasBudgets()) {
      slot = core.chooseAfterLease(now, this, probe); // a shared budget short only until a lease: wait for it, bounded
    }
    if (slot == null && n == 1) {
      slot = waitForReturn(now);
    }
    if (slot == null && n == 1) {
      slot = core.failOpen(core.now(), this);
    }
    return slot;
  }

  /**
   * With {@code quotaWait} set: while the earliest return of a provider (an eviction's end, a quota
   * reset) is within the bound left, waits for it on the pool's ticker and chooses again. Null when
   * there is no bound, nothing returns within it, or the caller gave up.
   *
   * <p>Requests that wait together would all wake at the same return and each see the same room.
   * So each wakes a random part of one refill later ({@link PoolCore#wakeJitter}, never past the
   * bound), and a woken request takes the provider's headroom atomically when it chooses it
   * ({@link PoolCore#tryReserve}, held in {@link #waited} for the dispatch): when another waiter
   * took the room first, it releases the claim and waits again.
   */
  private Slot waitForReturn(long start) {
    long bound = core.settings().quotaWaitNanos();
    if (bound <= 0) {
      return null;
    }
    long end = start + bound;
    long now = start;
    while (!call.isCanceled() && !Thread.currentThread().isInterrupted()) {
      long wait = core.earliestReturn(now, this);
      if (wait < 0 || now + wait - end > 0) {
        return null;
      }
      long park = Math.max(wait, 1);
      park += Math.min(core.wakeJitter(now, this), Math.max(0, end - now - park));
      core.settings().ticker().park(park);
      now = core.now();
      Slot slot = core.choose(now, this, probe);
      if (slot != null) {
        if (waited == null) {
          waited = new io.github.llmpool.internal.health.Headroom.Reservation();
        }
        if (core.tryReserve(slot, tokens, now, waited)) {
          woke = true;
          return slot;
        }
        core.onNeutral(slot, probe[0]); // another waiter took the room: wait again
      }
    }
    return null;
  }

  /**
   * Sends one attempt. Returns its response, or null when it failed before a response (the
   * failure is recorded with health and in {@code errors}); throws when the caller gave up or on
   * an {@link Error}. Every failure inside {@code proceed} is this attempt's: an exception OkHttp
   * itself throws below the pool (for example {@code NumberFormatException} from its own
   * {@code Retry-After} parsing) counts against the provider and fails over like an I/O error.
   */
  private Response attempt(Request out, AttemptLease lease, Slot slot, int n, long now, int maxAttempts)
      throws IOException {
    IOException failure;
    try {
      return chain.proceed(out);
    } catch (IOException e) {
      failure = e;
    } catch (RuntimeException e) {
      failure = new IOException("OkHttp failed inside the attempt: " + e.getClass().getName(), e);
    } catch (Throwable e) { // an Error, or a checked exception OkHttp throws undeclared (InterruptedException)
      lease.failedBeforeResponse(null, core.now());
      throw e; // precise rethrow: only IOException is declared
    }
    long end = core.now();
    // An interrupted caller thread (Okio: InterruptedIOException("interrupted")) gave up, like a cancel.
    boolean canceled = call.isCanceled() || Thread.currentThread().isInterrupted();
    // The call's own timeout (OkHttp's callTimeout, real time) cancels it: the provider did not
    // answer in time, which counts against it; no retry is possible.
    boolean callTimedOut = canceled && deadline.expired(call);
    Outcome outcome = callTimedOut ? Outcome.TIMEOUT : canceled ? null : core.settings().classifier().classify(failure);
    lease.failedBeforeResponse(outcome, end);
    recordFailed(slot, -1, outcome == null ? Outcome.CONNECTION_FAILURE : outcome, describe(failure), end - now);
    if (canceled) {
      throw core.secrets().redact(failure);
    }
    if (errors == null) {
      errors = new ArrayList<>(2);
    }
    errors.add(failure);
    retried(slot, n, outcome, -1, maxAttempts);
    return null;
  }

  /**
   * Classifies a response and records the verdict. Returns it (tapped) for the caller when it is
   * final, or null after keeping it as {@link #pending} when the next attempt should be tried.
   */
  private Response judge(Response response, Request out, AttemptLease lease, Slot slot, int n, long now,
      int maxAttempts) throws IOException {
    long headersAt = core.now();
    RateLimitHeaders.Reading limits = observeLimits(core, slot, response, headersAt, now);
    if (limits != null && lease.hooked()) {
      lease.rateLimits(limits.requestRemaining(), limits.tokenRemaining());
    }
    watch.check(call, headersAt);
    RedirectGuard.Seen seen = out.tag(RedirectGuard.Seen.class);
    if (seen != null && !seen.byGuard && chain.getFollowRedirects()) {
      core.warnUnguardedRedirects(slot.name());
    }
    String credential = slot.endpoint.credentialHeader;
    if (credential != null && (response.code() == 401 || response.code() == 403)
        && !reachedTheWire(response, credential)) {
      throw credentialRemoved(response, lease, slot, now, headersAt, credential);
    }
    Outcome outcome;
    try {
      outcome = classify(response, credential != null);
    } catch (RuntimeException e) {
      outcome = response.isSuccessful() ? Outcome.SUCCESS : Outcome.SERVER_ERROR;
    }
    if (!outcome.retryable()) { // the call ends here: this attempt is listed nowhere
      lease.answered(headersAt, response.code(), outcome, -1);
      return forCaller(response, slot.endpoint, lease, false);
    }
    recordFailed(slot, response.code(), outcome, null, headersAt - now);
    // Kept first, so that anything thrown below still closes it (execute's catch).
    pending = response;
    pendingLease = lease;
    lease.answered(headersAt, response.code(), outcome,
        RetryHints.delayNanos(response::header, core.settings().ticker().wallMillis()));
    retried(slot, n, outcome, response.code(), maxAttempts);
    return null;
  }

  /**
   * Reads the rate-limit headers of {@code response} (every response, whatever its status: one pass
   * over the header names, nothing allocated without them) into {@code slot}'s headroom, dated to
   * the dispatch at {@code now}; publishes them when the pool shares state. Returns the reading, or
   * null when the response has none.
   */
  static RateLimitHeaders.Reading observeLimits(PoolCore core, Slot slot, Response response, long headersAt, long now) {
    // Every response, whatever its status: one pass over the header names, nothing allocated without rate-limit headers.
    RateLimitHeaders.Reading limits = RateLimitHeaders.read(response.headers(), core.settings().ticker().wallMillis());
    if (limits != null) {
      RateWindow requestWindow = limits.requests(headersAt, now); // dated to the dispatch: the provider's counts are of then
      RateWindow tokenWindow = limits.tokens(headersAt, now);
      slot.state.observeRateLimits(requestWindow, tokenWindow, limits.ignored(), headersAt);
      core.publishRateLimits(slot, requestWindow, tokenWindow); // nothing when local-only
      if (response.code() == 429) {
        slot.state.headroom().rateLimited(headersAt,
            RetryHints.delayNanos(response::header, core.settings().ticker().wallMillis()), requestWindow, tokenWindow);
      }
      core.observedHeadroom(slot, headersAt);
    }
    return limits;
  }

  /**
   * Whether the wire request behind {@code response} still carried the credential header the pool
   * set (a response served without a network request, from a cache, is taken as signed).
   */
  private static boolean reachedTheWire(Response response, String header) {
    Response network = response.networkResponse();
    return network == null || network.request().header(header) != null;
  }

  /**
   * A 401/403 to a request whose credential something below the pool removed before it reached the
   * wire (the OpenAI Java SDK's own OkHttp transport strips {@code Authorization} and
   * {@code api-key} in a network interceptor whenever the wire host differs from the call's URL,
   * which the pool's rewrite always makes it). A misconfigured client stack, not a bad key: the
   * attempt is closed without a verdict (no eviction, a claimed probe released), nothing is
   * retried (every provider would answer the same), and the call fails at once naming the cause
   * and the fix.
   */
  private LlmPoolException credentialRemoved(Response response, AttemptLease lease, Slot slot, long now, long headersAt,
      String header) {
    int code = response.code();
    lease.answeredWithoutVerdict(headersAt, code);
    recordFailed(slot, code, Outcome.CLIENT_ERROR, null, headersAt - now);
    closeQuietly(response, lease, headersAt);
    core.warnCredentialRemoved(slot.name(), header);
    return new LlmPoolException("provider '" + slot.name() + "' answered " + code + " to a request that reached it"
        + " without the " + header + " header the pool set: something below the pool's interceptor removed it (the"
        + " OpenAI Java SDK's own OkHttp transport strips credentials when the wire host differs from the call's"
        + " URL, which the pool's rewrite always makes it). This is a client configuration error, not a bad key:"
        + " nothing was evicted or retried. Fix: send the pool's requests through an HTTP client that keeps the"
        + " header (an OkHttpClient with pool.interceptor() and no network interceptor that drops credentials; for"
        + " the OpenAI Java SDK, io.github.llmpool:llmpool-openai-java's LlmPoolOpenAI.client(pool))", attempts(), null);
  }

  /** Closes the response kept for the caller, if any, finishing its attempt as discarded. */
  private void dropPending(long now) {
    Response r = pending;
    AttemptLease l = pendingLease;
    pending = null;
    pendingLease = null;
    closeQuietly(r, l, now);
  }

  private Outcome classify(Response response, boolean signed) {
    return classify(core, response, signed);
  }

  /** The pool's classifier's verdict on {@code response} ({@code signed}: the pool set its credential). */
  static Outcome classify(PoolCore core, Response response, boolean signed) {
    OutcomeClassifier classifier = core.settings().classifier();
    return classifier.classify(response.code(), new OutcomeClassifier.ResponseInfo() {
      @Override
      public Optional<String> header(String name) {
        return Optional.ofNullable(response.header(name));
      }

      @Override
      public String errorBody() {
        try {
          return new String(response.peekBody(MAX_ERROR_BODY).bytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
          return "";
        }
      }

      @Override
      public boolean signedByPool() {
        return signed;
      }
    });
  }

  /**
   * The last retryable failure, for its {@code Retried} event: emitted when the next attempt is
   * dispatched, so none fires when no provider is left to retry on (or the budget, the attempt
   * limit or the caller stops the request).
   */
  private Slot retrySlot;
  private int retryAttempt;
  private Outcome retryOutcome;
  private int retryStatus;

  private void retried(Slot slot, int n, Outcome outcome, int status, int maxAttempts) {
    retrySlot = slot;
    retryAttempt = n;
    retryOutcome = outcome;
    retryStatus = status;
  }

  private void retriedOn() {
    Slot slot = retrySlot;
    if (slot == null) {
      return;
    }
    int n = retryAttempt;
    Outcome outcome = retryOutcome;
    int status = retryStatus;
    retrySlot = null;
    core.emit(() -> new PoolEvent.Retried(slot.name(), slot.tier, n, outcome, status));
  }

  /** Ends the logical request: the last failed response, or an exception listing every attempt. */
  private Response finish(Response pending, AttemptLease pendingLease, String stop, long now)
      throws IOException {
    List<Attempt> attempts = attempts();
    if (pending != null) {
      Attempt last = attempts.get(attempts.size() - 1);
      core.emit(() -> new PoolEvent.Exhausted(last.provider(), last.tier(), attempts.size(), last.outcome(), last.status(),
          stop));
      Response forCaller = forCaller(pending, pendingLease.slot().endpoint, pendingLease, true);
      this.pending = null; // the caller owns it now
      this.pendingLease = null;
      return forCaller;
    }
    if (errors != null && !errors.isEmpty()) {
      Attempt last = attempts.get(attempts.size() - 1);
      core.emit(() -> new PoolEvent.Exhausted(last.provider(), last.tier(), attempts.size(), last.outcome(), -1, stop));
      // OkHttp's texts may quote what an upstream sent (a malformed status line echoing the key):
      // the caller gets the chain with every configured credential value masked.
      IOException cause = core.secrets().redact(errors.get(errors.size() - 1));
      AttemptsExhaustedException e = new AttemptsExhaustedException(
          "all " + attempts.size() + " attempts failed (" + stop + ")", attempts, cause);
      for (int i = 0; i < errors.size() - 1; i++) {
        e.addSuppressed(core.secrets().redact(errors.get(i)));
      }
      throw e;
    }
    throw core.noProvider(now, attempts, this);
  }

  /**
   * The response the caller gets, rebuilt once: every request it names, its own and those of its
   * network, cache and prior responses all the way down the chain OkHttp built (redirects, its own
   * retries), without the provider's credential, extra headers or the pool's tags; every reason
   * phrase and header value with the pool's credential values masked (an upstream may echo them);
   * the body tapped, its read failures redacted the same way, its bytes unchanged; and
   * {@code x-should-retry: false} when the pool gave up on it.
   */
  private Response forCaller(Response r, io.github.llmpool.internal.route.Endpoint e, AttemptLease lease, boolean noRetry) {
    io.github.llmpool.internal.engine.Secrets secrets = core.secrets();
    if (hook != null) {
      lease.endsRequest(hook); // its body's end ends the request
    }
    Response.Builder b = callerView(r, e, secrets, r.request() == sent ? sentUnsigned : null)
        .body(UsageTap.tap(r.body(), lease, call, deadline, r.header("Content-Encoding"), secrets, watch));
    if (noRetry) {
      b.header(SHOULD_RETRY, "false");
    }
    return b.build();
  }

  /**
   * A builder of {@code r} in which no request, at any link of the response chain, carries
   * {@code e}'s credential, extra headers or the pool's tags, and no reason phrase or header value
   * holds one of {@code secrets}. OkHttp links at most 21 responses (20 follow-ups), so the
   * recursion is bounded.
   */
  static Response.Builder callerView(Response r, io.github.llmpool.internal.route.Endpoint e,
      io.github.llmpool.internal.engine.Secrets secrets) {
    return callerView(r, e, secrets, null);
  }

  /** As above; {@code unsigned}, when not null, is {@code withoutCredentials(r.request(), e)}, already built. */
  private static Response.Builder callerView(Response r, io.github.llmpool.internal.route.Endpoint e,
      io.github.llmpool.internal.engine.Secrets secrets, Request unsigned) {
    Response.Builder b = r.newBuilder();
    if (e.scope == null && secrets.isEmpty()) { // no credential, no extra header, no pool tag
      return b;
    }
    b.request(unsigned != null ? unsigned : withoutCredentials(r.request(), e));
    String message = secrets.redact(r.message());
    if (message != r.message()) {
      b.message(message);
    }
    okhttp3.Headers headers = r.headers();
    for (int i = 0; i < headers.size(); i++) {
      if (secrets.appearsIn(headers.value(i))) {
        okhttp3.Headers.Builder h = new okhttp3.Headers.Builder();
        for (int j = 0; j < headers.size(); j++) {
          h.addUnsafeNonAscii(headers.name(j), secrets.redact(headers.value(j)));
        }
        b.headers(h.build());
        break;
      }
    }
    Response network = r.networkResponse();
    if (network != null) {
      b.networkResponse(callerView(network, e, secrets).build());
    }
    Response cached = r.cacheResponse();
    if (cached != null) {
      b.cacheResponse(callerView(cached, e, secrets).build());
    }
    Response prior = r.priorResponse();
    if (prior != null) {
      b.priorResponse(callerView(prior, e, secrets).build());
    }
    return b;
  }

  /**
   * The request without the provider's credential and extra headers and without the pool's tags
   * (itself when the provider sets none); the caller's own headers and tags stay.
   */
  static Request withoutCredentials(Request request, io.github.llmpool.internal.route.Endpoint e) {
    io.github.llmpool.internal.route.CredentialScope scope = e.scope;
    if (scope == null) {
      return request;
    }
    Request.Builder b = request.newBuilder()
        .tag(io.github.llmpool.internal.route.CredentialScope.class, null)
        .tag(RedirectGuard.Seen.class, null);
    for (String name : scope.headerNames) {
      b.removeHeader(name);
    }
    return b.build();
  }

  private static void closeQuietly(Response response, AttemptLease lease, long now) {
    if (response == null) {
      return;
    }
    lease.discard(now);
    response.close();
  }

  /** The attempt's error text: class and message, with every configured credential value masked. */
  private String describe(IOException e) {
    String m = e.getMessage();
    return core.secrets().redact(e.getClass().getSimpleName() + (m == null ? "" : ": " + m));
  }
}
