package io.github.llmpool.okhttp;

import io.github.llmpool.Attempt;
import io.github.llmpool.AttemptsExhaustedException;
import io.github.llmpool.Outcome;
import io.github.llmpool.OutcomeClassifier;
import io.github.llmpool.PoolEvent;
import io.github.llmpool.health.RetryHints;
import io.github.llmpool.internal.AffinityTable;
import io.github.llmpool.internal.AttemptLease;
import io.github.llmpool.internal.PoolCore;
import io.github.llmpool.internal.Slot;
import io.github.llmpool.select.Exclusion;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
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
  private final List<Attempt> attempts = new ArrayList<>(2);
  private final List<Slot> tried = new ArrayList<>(2);
  private final boolean[] probe = new boolean[1];
  private final RequestPlan prepared; // when the caller (a ModelRouter) already read the request

  LogicalCall(PoolCore core, Interceptor.Chain chain) {
    this(core, chain, null);
  }

  /** With the request already read into {@code plan} (null: read {@code chain.request()}). */
  LogicalCall(PoolCore core, Interceptor.Chain chain, RequestPlan plan) {
    this.core = core;
    this.chain = chain;
    this.call = chain.call();
    this.prepared = plan;
  }

  @Override
  public boolean excludes(Slot slot) {
    for (int i = 0; i < tried.size(); i++) {
      if (tried.get(i).state == slot.state) {
        return true;
      }
    }
    return false;
  }

  /** Real time at entry, only to tell OkHttp's call timeout from a caller's cancel. */
  private final long enteredAt = System.nanoTime();

  private boolean callTimeoutExpired() {
    long timeout = call.timeout().timeoutNanos();
    return timeout > 0 && System.nanoTime() - enteredAt >= timeout - java.util.concurrent.TimeUnit.MILLISECONDS.toNanos(5);
  }

  Response execute() throws IOException {
    RequestPlan plan = prepared != null ? prepared : RequestPlan.of(chain.request(), core.settings().virtualPrefix());
    // Session affinity: the first attempt goes to the key's remembered provider if it is eligible.
    AffinityTable sticky = core.affinity();
    String key = sticky == null ? null : AffinityView.key(sticky.spec(), plan);
    String stickyProvider = key == null ? null : sticky.provider(key);
    int maxAttempts = plan.replayable ? core.settings().retry().maxAttempts() : 1;
    core.budget().onRequest(core.now());

    Response pending = null; // the last failed response, returned if nothing better comes
    AttemptLease pendingLease = null;
    List<IOException> errors = new ArrayList<>(1);
    Slot previous = null;

    // Bounded: each pass dispatches one attempt on a provider not tried before, at most maxAttempts.
    for (int n = 1; ; n++) {
      long now = core.now();
      Slot slot = null;
      String stop;
      if (n > maxAttempts) {
        stop = plan.replayable ? "maxAttempts (" + maxAttempts + ") reached" : "the request body cannot be replayed";
      } else if (call.isCanceled() || Thread.currentThread().isInterrupted()) {
        closeQuietly(pending, pendingLease, now);
        throw call.isCanceled() ? new IOException("Canceled") : new java.io.InterruptedIOException("interrupted");
      } else {
        probe[0] = false;
        slot = n == 1 && stickyProvider != null ? core.chooseSticky(now, stickyProvider, this, probe) : null;
        if (slot == null) {
          slot = core.choose(now, this, probe);
        }
        if (slot == null && n == 1) {
          slot = core.failOpen(now, this);
        }
        stop = slot == null ? "no untried provider is available" : null;
        if (slot != null && n > 1 && !core.budget().tryRetry(now)) {
          core.onNeutral(slot, probe[0]);
          slot = null;
          stop = "the pool's retry budget is spent";
        }
      }
      if (slot == null) {
        return finish(pending, pendingLease, errors, stop, now);
      }
      if (pending != null) {
        closeQuietly(pending, pendingLease, now);
        pending = null;
        pendingLease = null;
      }
      if (previous != null && previous.tier != slot.tier) {
        Slot from = previous;
        Slot to = slot;
        int attemptNo = n;
        core.emit(() -> new PoolEvent.FailedOver(to.name(), to.tier, from.name(), from.tier, attemptNo));
      }
      previous = slot;
      tried.add(slot);
      if (key != null) { // the key moves with the request: evicted, excluded or new, it stays here now
        sticky.remember(key, slot.name(), stickyProvider);
        stickyProvider = slot.name();
      }

      Request out = plan.forEndpoint(slot.endpoint);
      AttemptLease lease = AttemptLease.dispatch(core, slot, n, probe[0], now, plan.requestedModel());
      Response response;
      try {
        response = chain.proceed(out);
      } catch (IOException e) {
        long end = core.now();
        // An interrupted caller thread (Okio: InterruptedIOException("interrupted")) gave up, like a cancel.
        boolean canceled = call.isCanceled() || Thread.currentThread().isInterrupted();
        // The call's own timeout (OkHttp's callTimeout, real time) cancels it: the provider did not
        // answer in time, which counts against it; no retry is possible.
        boolean callTimedOut = canceled && callTimeoutExpired();
        Outcome outcome = callTimedOut ? Outcome.TIMEOUT : canceled ? null : core.settings().classifier().classify(e);
        lease.failedBeforeResponse(outcome, end);
        attempts.add(new Attempt(slot.name(), slot.tier, -1, outcome == null ? Outcome.CONNECTION_FAILURE : outcome,
            describe(e), Duration.ofNanos(end - now)));
        if (canceled) {
          throw core.secrets().redact(e);
        }
        errors.add(e);
        retried(slot, n, outcome, -1, maxAttempts);
        continue;
      } catch (Throwable e) { // also a checked exception OkHttp throws undeclared (InterruptedException)
        lease.failedBeforeResponse(null, core.now());
        throw e; // precise rethrow: only IOException is declared
      }

      long headersAt = core.now();
      RedirectGuard.Seen seen = out.tag(RedirectGuard.Seen.class);
      if (seen != null && !seen.byGuard && chain.getFollowRedirects()) {
        core.warnUnguardedRedirects(slot.name());
      }
      Outcome outcome;
      try {
        outcome = classify(response, slot.endpoint.credentialHeader != null);
      } catch (RuntimeException e) {
        outcome = response.isSuccessful() ? Outcome.SUCCESS : Outcome.SERVER_ERROR;
      }
      lease.headers(headersAt, response.code(), outcome);
      attempts.add(new Attempt(slot.name(), slot.tier, response.code(), outcome, null, Duration.ofNanos(headersAt - now)));
      if (!outcome.retryable()) {
        core.onHealthy(slot, lease.start());
        return forCaller(response, slot.endpoint, lease, false);
      }
      Response failed = response;
      long hint = RetryHints.delayNanos(failed::header, core.settings().ticker().wallMillis());
      core.onFailure(slot, outcome, response.code(), hint, headersAt, lease.start(), lease.probe());
      retried(slot, n, outcome, response.code(), maxAttempts);
      pending = response;
      pendingLease = lease;
    }
  }

  private Outcome classify(Response response, boolean signed) {
    OutcomeClassifier classifier = core.settings().classifier();
    return classifier.classify(response.code(), new OutcomeClassifier.ResponseInfo() {
      @Override
      public String header(String name) {
        return response.header(name);
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

  private void retried(Slot slot, int n, Outcome outcome, int status, int maxAttempts) {
    if (n < maxAttempts) {
      core.emit(() -> new PoolEvent.Retried(slot.name(), slot.tier, n, outcome, status));
    }
  }

  /** Ends the logical request: the last failed response, or an exception listing every attempt. */
  private Response finish(Response pending, AttemptLease pendingLease, List<IOException> errors, String stop, long now)
      throws IOException {
    if (pending != null) {
      Attempt last = attempts.get(attempts.size() - 1);
      core.emit(() -> new PoolEvent.Exhausted(last.provider(), attempts.size(), last.outcome(), last.status(), stop));
      return forCaller(pending, pendingLease.slot().endpoint, pendingLease, true);
    }
    if (!errors.isEmpty()) {
      Attempt last = attempts.get(attempts.size() - 1);
      core.emit(() -> new PoolEvent.Exhausted(last.provider(), attempts.size(), last.outcome(), -1, stop));
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
  private Response forCaller(Response r, io.github.llmpool.internal.Endpoint e, AttemptLease lease, boolean noRetry) {
    io.github.llmpool.internal.Secrets secrets = core.secrets();
    Response.Builder b = callerView(r, e, secrets)
        .body(UsageTap.tap(RedactingBody.wrap(r.body(), secrets), lease, call));
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
  static Response.Builder callerView(Response r, io.github.llmpool.internal.Endpoint e,
      io.github.llmpool.internal.Secrets secrets) {
    Response.Builder b = r.newBuilder();
    if (e.scope == null && secrets.isEmpty()) { // no credential, no extra header, no pool tag
      return b;
    }
    b.request(withoutCredentials(r.request(), e));
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
  static Request withoutCredentials(Request request, io.github.llmpool.internal.Endpoint e) {
    io.github.llmpool.internal.CredentialScope scope = e.scope;
    if (scope == null) {
      return request;
    }
    Request.Builder b = request.newBuilder()
        .tag(io.github.llmpool.internal.CredentialScope.class, null)
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
