package io.github.llmpool.internal.okhttp;

import com.fasterxml.jackson.core.io.JsonStringEncoder;
import io.github.llmpool.Outcome;
import io.github.llmpool.TokenUsage;
import io.github.llmpool.internal.engine.AttemptLease;
import io.github.llmpool.internal.engine.PoolCore;
import io.github.llmpool.internal.engine.Probes;
import io.github.llmpool.internal.health.RetryHints;
import io.github.llmpool.internal.route.Slot;
import io.github.llmpool.internal.usage.UsageParser;
import io.github.llmpool.internal.usage.UsageResult;
import java.io.IOException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import okhttp3.Call;
import okhttp3.Callback;
import okhttp3.MediaType;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import okhttp3.RequestBody;
import okhttp3.Response;
import okhttp3.ResponseBody;
import okio.BufferedSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Sends the probes a pool's P2C tiers queued ({@code P2cSettings.probes}, {@link Probes}): for each
 * provider due one, a streamed chat completion asking for one output token, built like a caller's
 * request to that provider (its URL, credential, model override and usage option), sent
 * asynchronously on the probe client, so the thread that picked pays for building it only. The
 * answer is an attempt like any other: its first token is the provider's latency sample, a 429 or
 * 5xx counts against it, its rate-limit headers feed its headroom, its usage reaches
 * {@code onUsage} (marked {@code latencyProbe}), it reserves its estimate from the provider's
 * budgets and settles to its usage (a budget that would not take it keeps it unsent). A probe that
 * fails before an answer (no connection, a timeout of the probe client) is no verdict: the probe
 * client is not the callers' client, and a failure of its own must not evict a provider the callers
 * reach. A client error (4xx other than 429) stops probes of that provider until the pool sends it
 * another model or path. Thread-safe.
 */
public final class Prober {
  private static final Logger log = LoggerFactory.getLogger("io.github.llmpool");
  private static final MediaType JSON = MediaType.get("application/json");
  private static final UsageResult NONE = new UsageResult(false, 0, 0, 0, 0, 0, null, true, false, false, false, 0);
  /** The rest of a chat completion's path: what a probe is sent as. */
  static final String CHAT_COMPLETIONS = "/chat/completions";
  /** What a probe asks. */
  static final String PROMPT = "Reply with one word.";

  private final PoolCore core;
  private final Probes probes;
  private volatile OkHttpClient client;
  private final OkHttpClient configured;
  private final AtomicBoolean warnedRefused = new AtomicBoolean();

  /** The prober of {@code core}, made at the first call; null when the pool sends no probes. */
  static Prober of(PoolCore core) {
    Probes p = core.probes();
    if (p == null) {
      return null;
    }
    Object s = p.sender();
    return s != null ? (Prober) s : (Prober) p.sender(new Prober(core, null));
  }

  /**
   * Makes {@code core}'s prober send with {@code client} ({@code ProviderPool.Builder.probeClient});
   * nothing when the pool sends no probes. Call before the pool serves requests.
   */
  public static void install(PoolCore core, OkHttpClient client) {
    if (core.probes() != null) {
      core.probes().sender(new Prober(core, client));
    }
  }

  /** For {@code core} (whose {@link PoolCore#probes()} is not null); {@code client} null: a client of OkHttp's defaults, made at the first probe. */
  Prober(PoolCore core, OkHttpClient client) {
    this.core = core;
    this.probes = core.probes();
    this.configured = client;
  }

  /** Remembers a caller's chat completion just dispatched to {@code slot}, the request a probe of it copies. */
  void remember(Slot slot, RequestPlan plan, long now) {
    if (plan.json == null || !plan.restPath.endsWith(CHAT_COMPLETIONS)) {
      return;
    }
    probes.remember(slot, plan.restPath, plan.requestedModel(), plan.json.completionTokensNamed(), now);
  }

  /** Sends every probe queued (usually none: one read of an empty queue). */
  void sendDue() {
    Slot slot;
    while ((slot = probes.poll()) != null) {
      try {
        send(slot);
      } catch (RuntimeException | IOException e) { // never the caller's failure
        probes.sent(slot);
        log.debug("llmpool[{}] could not send a probe to '{}': {}", core.name(), slot.name(), e.getClass().getName());
      }
    }
  }

  /**
   * The body of a probe: {@code model} (none when null), one short user message, a budget of one
   * token under the name the caller's request used, streamed.
   */
  public static String body(String model, boolean completionTokensNamed) {
    StringBuilder b = new StringBuilder(160).append('{');
    if (model != null) {
      b.append("\"model\":\"").append(JsonStringEncoder.getInstance().quoteAsString(model)).append("\",");
    }
    b.append("\"messages\":[{\"role\":\"user\",\"content\":\"").append(PROMPT).append("\"}],\"")
        .append(completionTokensNamed ? "max_completion_tokens" : "max_tokens").append("\":1,\"stream\":true}");
    return b.toString();
  }

  private void send(Slot slot) throws IOException {
    Probes.Template template = probes.template(slot);
    if (template == null) {
      probes.sent(slot);
      return;
    }
    PoolCore.Settings s = core.settings();
    Request virtual = new Request.Builder()
        .url("https://" + s.virtualHost() + s.virtualPrefix() + template.restPath())
        .post(RequestBody.create(body(template.model(), template.completionTokensNamed()), JSON))
        .build();
    RequestPlan plan = RequestPlan.of(virtual, s.virtualPrefix());
    Request out = plan.forEndpoint(slot.endpoint);
    // A probe is billed like any request: it reserves its estimate from the provider's budgets and
    // settles to its usage, and a budget that would not take it keeps it unsent.
    long[] held = core.reserveBudgets(slot, plan.promptTokens(), plan.maxTokens());
    if (held == null) {
      probes.sent(slot);
      return;
    }
    long start = core.now();
    AttemptLease lease = AttemptLease.dispatchLatencyProbe(core, slot, start, template.model(), plan.estimatedTokens());
    lease.holdBudgets(held);
    slot.state.countProbe();
    probes.sent(slot); // in flight now: awaitingSample keeps the next one off until it is measured
    try {
      enqueue(slot, lease, start, out);
    } catch (RuntimeException e) { // a client that cannot take the call (shut down): the lease ends here
      long now = core.now();
      probes.failed(slot, now);
      lease.failedBeforeResponse(null, now);
      throw e;
    }
  }

  private void enqueue(Slot slot, AttemptLease lease, long start, Request out) {
    client().newCall(out).enqueue(new Callback() {
      @Override
      public void onFailure(Call call, IOException e) {
        long now = core.now();
        probes.failed(slot, now); // paused before anyone hears of the end
        lease.failedBeforeResponse(null, now); // no verdict: see the class comment
      }

      @Override
      public void onResponse(Call call, Response response) {
        answered(slot, lease, start, response);
      }
    });
  }

  private void answered(Slot slot, AttemptLease lease, long start, Response response) {
    try (response) {
      long headersAt = core.now();
      LogicalCall.observeLimits(core, slot, response, headersAt, start);
      int code = response.code();
      if (code < 200 || code >= 300) {
        Outcome outcome = LogicalCall.classify(core, response, slot.endpoint.credentialHeader != null);
        lease.answered(headersAt, code, outcome,
            RetryHints.delayNanos(response::header, core.settings().ticker().wallMillis()));
        if (!outcome.retryable() && code >= 400 && code < 500) {
          probes.refused(slot);
          if (warnedRefused.compareAndSet(false, true)) {
            log.warn("llmpool[{}] provider '{}' answered {} to a probe; it is re-measured with callers' requests"
                + " until the pool sends it another model or path", core.name(), slot.name(), code);
          }
        }
        lease.discard(core.now());
        return;
      }
      lease.answered(headersAt, code, Outcome.SUCCESS, -1);
      ResponseBody body = response.body();
      MediaType type = body.contentType();
      // The callers' parser: the same first token, the same usage as a caller's attempt would read.
      UsageParser parser = type == null ? UsageParser.none() : UsageParser.forMediaType(type.type(), type.subtype());
      if (!parser.isStreaming()) {
        lease.notStreamed(headersAt);
      }
      BufferedSource source = body.source();
      byte[] chunk = new byte[8192];
      long ttftAt = -1;
      int n;
      while ((n = source.read(chunk)) != -1) {
        parser.accept(chunk, 0, n);
        if (ttftAt < 0 && parser.firstTokenSeen()) {
          ttftAt = core.now();
          if (parser.isStreaming()) {
            lease.firstToken(ttftAt);
          }
        }
      }
      UsageResult usage = parser.result();
      lease.finish(usage, usage.terminated() || !parser.isStreaming() ? TokenUsage.End.COMPLETE
          : TokenUsage.End.TRUNCATED, parser.isStreaming() ? ttftAt : -1, core.now(), (Outcome) null);
    } catch (IOException | RuntimeException e) {
      lease.finish(NONE, TokenUsage.End.FAILED, -1, core.now(), (Outcome) null); // no verdict
    }
  }

  private OkHttpClient client() {
    OkHttpClient c = client;
    if (c == null) {
      synchronized (this) {
        c = client;
        if (c == null) {
          OkHttpClient.Builder b = configured != null ? configured.newBuilder()
              : new OkHttpClient.Builder().readTimeout(60, TimeUnit.SECONDS);
          if (!b.networkInterceptors().contains(RedirectGuard.get())) {
            b.addNetworkInterceptor(RedirectGuard.get());
          }
          c = b.build();
          client = c;
        }
      }
    }
    return c;
  }
}
