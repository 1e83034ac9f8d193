package io.github.llmpool.bench.quality;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import okhttp3.Headers;

/**
 * The reference contender of the quota experiment: a simple client-side pacer (the approach of
 * Langroid or the OpenAI cookbook's parallel processor) that reads the same rate-limit headers the
 * pool reads, keeps its own count of what it sent since, and sends a request only to a provider
 * that has room for it (one request, and its admission estimate of tokens); with no room anywhere
 * it waits up to {@link #MAX_WAIT_NANOS} (world time) and then refuses the request.
 *
 * <p>Per provider and dimension it keeps the latest admission it heard of (by its own send order):
 * the remaining count then, and the reset. It tells token buckets from fixed windows by the resets
 * (a window's reset points at the same instant request after request; a bucket's moves), refills a
 * bucket at {@code limit} per minute and a window at its reset, and subtracts everything it sent
 * after that admission. Without a limit or reset (Azure's dialect) it does not refill and lets one
 * request through at a time once the count says none is left. Without headers it knows nothing and
 * sends everything. Tier by tier, in order; within a tier, the provider with the most headroom
 * (as a share of its limit). Thread-safe (one lock).
 */
final class Pacer {
  static final long MINUTE = QuotaLimit.MINUTE;
  /** How long a request may wait for room before it is refused (world time). */
  static final long MAX_WAIT_NANOS = 2_000_000_000L;

  /** One dimension (requests or tokens) of one provider. */
  static final class Dim {
    long limit = -1;
    boolean known;
    long base; // remaining at the base admission
    long baseSeq = -1;
    long baseAt; // world time of the base admission (its send time)
    long baseCum; // our cumulative sends including the base one
    long baseRefunds; // our cumulative refunds when the base request was sent
    long resetAt = -1; // world time; -1: none given
    int windowVotes;
    int bucketVotes;
    long sentCum;
    long refundCum;

    boolean windowed() {
      return windowVotes > bucketVotes;
    }

    /** What we think is left now; Long.MAX_VALUE when nothing is known. */
    double estimate(long now) {
      if (!known) {
        return Long.MAX_VALUE;
      }
      if (resetAt >= 0 && now >= resetAt && limit > 0 && windowed()) {
        // a new window: everything back, our sends counted from here
        base = limit;
        baseAt = resetAt;
        baseCum = sentCum;
        baseRefunds = refundCum;
        resetAt += MINUTE;
      }
      double level = base;
      if (limit > 0 && !windowed()) {
        level = Math.min(limit, base + (now - baseAt) * (limit / (double) MINUTE));
      } else if (limit > 0 && resetAt >= 0 && now >= resetAt) {
        level = limit;
      }
      return level - (sentCum - baseCum) + (refundCum - baseRefunds);
    }

    void observe(long seq, long sentAt, long cum, long refundsAtSend, long limit, long remaining, long resetNanos) {
      if (remaining < 0 || seq <= baseSeq) {
        return;
      }
      long newReset = resetNanos >= 0 ? sentAt + resetNanos : -1;
      // Only a limit in use tells the two apart: a full bucket's reset is 0, like a window's at its end.
      if (newReset >= 0 && resetAt >= 0 && limit > 0 && remaining < limit / 2 && base < limit / 2) {
        if (Math.abs(newReset - resetAt) < MINUTE / limit / 4) {
          windowVotes++;
        } else if (Math.abs(newReset - resetAt) < MINUTE / 2) { // a jump of a whole window is no vote
          bucketVotes++;
        }
      }
      known = true;
      this.limit = limit;
      base = remaining;
      baseSeq = seq;
      baseAt = sentAt;
      baseCum = cum;
      baseRefunds = refundsAtSend;
      resetAt = newReset;
    }

    double share(double est) {
      return limit > 0 ? est / limit : est / Math.max(1, base + 1.0);
    }
  }

  /** One provider as the pacer sees it. */
  final class Gauge {
    final String name;
    final String url;
    final int tier;
    final Dim requests = new Dim();
    final Dim tokens = new Dim();
    int inFlight;
    long blockedUntil;

    Gauge(String name, String url, int tier) {
      this.name = name;
      this.url = url;
      this.tier = tier;
    }

    /** Room for one request of {@code cost} tokens: -1 if none, else the headroom share. */
    double room(long now, long cost) {
      if (now < blockedUntil) {
        return -1;
      }
      double r = requests.estimate(now);
      double t = tokens.estimate(now);
      boolean fits = r >= 1 && t >= cost;
      if (!fits) {
        // Azure: no refill known; one request at a time finds out.
        boolean blind = requests.limit < 0 || tokens.limit < 0 && tokens.known;
        return blind && inFlight == 0 ? 0 : -1;
      }
      return Math.min(requests.share(r), tokens.known ? tokens.share(t) : 1);
    }
  }

  /** A send: what the pacer needs to match its response's headers to its own count. */
  record Ticket(Gauge gauge, long seq, long sentAt, long cumRequests, long cumTokens, long refundsAtSend, long cost,
      long resetAtSend) {}

  private final ScaledTicker ticker;
  final List<Gauge> gauges = new ArrayList<>();
  private long seq;

  Pacer(ScaledTicker ticker) {
    this.ticker = ticker;
  }

  void add(String name, String url, int tier) {
    gauges.add(new Gauge(name, url, tier));
  }

  /**
   * A provider with room for a request of {@code cost} tokens (not in {@code tried}), waiting up to
   * {@link #MAX_WAIT_NANOS}; null when none had room in time.
   */
  synchronized Ticket acquire(long cost, List<Gauge> tried) throws InterruptedException {
    long deadline = ticker.read() + MAX_WAIT_NANOS;
    while (true) {
      long now = ticker.read();
      Gauge best = null;
      double bestRoom = -1;
      int tier = Integer.MAX_VALUE;
      for (Gauge g : gauges) {
        if (tried.contains(g) || g.tier > tier) {
          continue;
        }
        double room = g.room(now, cost);
        // ties (nothing known yet: every room is unbounded) go to the provider with fewer in flight
        if (room >= 0 && (g.tier < tier || room > bestRoom || room == bestRoom && g.inFlight < best.inFlight)) {
          best = g;
          bestRoom = room;
          tier = g.tier;
        }
      }
      if (best != null) {
        Ticket t = new Ticket(best, ++seq, now, best.requests.sentCum + 1, best.tokens.sentCum + cost,
            best.tokens.refundCum, cost, best.tokens.resetAt);
        best.requests.sentCum += 1;
        best.tokens.sentCum += cost;
        best.inFlight++;
        return t;
      }
      if (now >= deadline) {
        return null;
      }
      // woken by an answer or a finished attempt; a bucket refills by itself, so look again soon
      wait(Math.max(1, Math.min((deadline - now) / ticker.scale() / 1_000_000L, 50 / ticker.scale() + 1)));
    }
  }

  /** The response's headers (any status), and the {@code retry-after} of a 429. */
  synchronized void answered(Ticket t, int status, Headers h) {
    notifyAll();
    Gauge g = t.gauge();
    long wall = ticker.wallMillis();
    long now = ticker.read();
    long[] req = read(h, "requests", wall);
    long[] tok = read(h, "tokens", wall);
    g.requests.observe(t.seq(), t.sentAt(), t.cumRequests(), 0, req[0], req[1], req[2]);
    g.tokens.observe(t.seq(), t.sentAt(), t.cumTokens(), t.refundsAtSend(), tok[0], tok[1], tok[2]);
    if (status == 429) {
      String ra = h.get("retry-after");
      long wait = 1_000_000_000L;
      if (ra != null) {
        try {
          wait = (long) (Double.parseDouble(ra.trim()) * 1e9);
        } catch (NumberFormatException e) {
          // keep 1 s
        }
      }
      g.blockedUntil = Math.max(g.blockedUntil, now + wait);
    }
  }

  /** The attempt is over: in flight no more; {@code realTokens} (or -1) settles the token count. */
  synchronized void done(Ticket t, long realTokens) {
    notifyAll();
    Gauge g = t.gauge();
    g.inFlight--;
    if (realTokens >= 0 && t.cost() > realTokens) {
      boolean sameWindow = !g.tokens.windowed() || g.tokens.resetAt == t.resetAtSend();
      if (sameWindow) {
        g.tokens.refundCum += t.cost() - realTokens;
      }
    }
  }

  /** {limit, remaining, reset nanos} of one dimension, -1 each when absent: OpenAI/Azure, then Anthropic. */
  static long[] read(Headers h, String dim, long wallMillis) {
    long limit = count(h.get("x-ratelimit-limit-" + dim));
    long remaining = count(h.get("x-ratelimit-remaining-" + dim));
    long reset = goDuration(h.get("x-ratelimit-reset-" + dim));
    if (remaining < 0) {
      limit = count(h.get("anthropic-ratelimit-" + dim + "-limit"));
      remaining = count(h.get("anthropic-ratelimit-" + dim + "-remaining"));
      String r = h.get("anthropic-ratelimit-" + dim + "-reset");
      reset = -1;
      if (r != null) {
        try {
          reset = Math.max(0, (Instant.parse(r.trim()).toEpochMilli() - wallMillis) * 1_000_000L);
        } catch (RuntimeException e) {
          reset = -1;
        }
      }
    }
    return new long[] {limit, remaining, reset};
  }

  private static long count(String v) {
    if (v == null) {
      return -1;
    }
    try {
      return Long.parseLong(v.trim());
    } catch (NumberFormatException e) {
      return -1;
    }
  }

  /** A Go duration ({@code 6m0s}, {@code 20ms}, {@code 1.5s}) in nanos, or -1. */
  static long goDuration(String v) {
    if (v == null || v.isEmpty()) {
      return -1;
    }
    String s = v.trim().toLowerCase(Locale.ROOT);
    double total = 0;
    int i = 0;
    while (i < s.length()) {
      int start = i;
      while (i < s.length() && (Character.isDigit(s.charAt(i)) || s.charAt(i) == '.')) {
        i++;
      }
      if (start == i) {
        return -1;
      }
      double num = Double.parseDouble(s.substring(start, i));
      int u = i;
      while (i < s.length() && !Character.isDigit(s.charAt(i))) {
        i++;
      }
      String unit = s.substring(u, i);
      double mult = switch (unit) {
        case "h" -> 3600e9;
        case "m" -> 60e9;
        case "s" -> 1e9;
        case "ms" -> 1e6;
        case "us", "µs" -> 1e3;
        case "ns" -> 1;
        default -> Double.NaN;
      };
      if (Double.isNaN(mult)) {
        return -1;
      }
      total += num * mult;
    }
    return (long) total;
  }
}
