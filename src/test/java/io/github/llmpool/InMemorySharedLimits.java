package io.github.llmpool;

import io.github.llmpool.spi.SharedLimit;
import io.github.llmpool.spi.SharedLimits;
import io.github.llmpool.spi.SharedState;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Fleet-wide windows in memory, for pools in one JVM standing in for instances on several machines:
 * one GCRA window per {@link SharedLimit#key()} (burst a minute's worth, one unit per
 * {@code 60 s / limit}, on the given ticker's wall clock), leases of {@code max(1, limit x share)}
 * units expiring after {@code ttl}. Nothing happens until the test calls {@link #pump()} (the
 * implementation's "own thread"), so a test decides when leases arrive; {@link #down(boolean)}
 * stands for an unreachable store. Each {@link #instance()} is one instance's shared state
 * (counted for the fleet size). Thread-safe (synchronized).
 */
final class InMemorySharedLimits {
  private final Ticker ticker;
  private final double share;
  private final long ttlMillis;
  private final Map<String, double[]> tat = new HashMap<>(); // key -> [tat millis]
  private final List<LineImpl> lines = new ArrayList<>();
  private final AtomicInteger instances = new AtomicInteger();
  private boolean down;
  /** Lease requests answered (wake-ups and expiries). */
  int rounds;
  int wakes;

  InMemorySharedLimits(Ticker ticker, double share, long ttlMillis) {
    this.ticker = ticker;
    this.share = share;
    this.ttlMillis = ttlMillis;
  }

  /** One instance's shared state: shares limits only. */
  SharedState instance() {
    int id = instances.incrementAndGet();
    SharedLimits limits = (limit, holder) -> open(id, limit, holder);
    return new SharedState() {
      @Override
      public Publisher join(String pool, Receiver receiver) {
        return e -> {};
      }

      @Override
      public SharedLimits limits() {
        return limits;
      }
    };
  }

  private synchronized SharedLimits.Line open(int instance, SharedLimit limit, SharedLimits.Holder holder) {
    LineImpl l = new LineImpl(limit, holder, Math.max(1, (long) Math.floor(limit.perMinute() * share)));
    lines.add(l);
    if (down) {
      holder.storeDown(); // an implementation may call the holder from open
    }
    return l;
  }

  synchronized void down(boolean isDown) {
    if (down == isDown) {
      return;
    }
    down = isDown;
    for (LineImpl l : lines) {
      if (isDown) {
        l.holder.storeDown();
      } else {
        l.holder.storeUp();
      }
    }
  }

  /** Units the window of {@code key} has left now. */
  synchronized long windowLeft(String key, long perMinute) {
    double t = 60_000.0 / perMinute;
    double[] w = tat.computeIfAbsent(key, k -> new double[] {0});
    double now = ticker.wallMillis();
    return (long) Math.floor((now + 60_000 - Math.max(now, w[0])) / t + 1e-6);
  }

  /** Everything held by the lines of {@code key}, all instances. */
  synchronized long heldOf(String key) {
    return lines.stream().filter(l -> l.limit.key().equals(key) && !l.closed).mapToLong(l -> l.holder.held()).sum();
  }

  synchronized int openLines() {
    return (int) lines.stream().filter(l -> !l.closed).count();
  }

  /**
   * The implementation's round: expired leases give back what is unused (and renew), lines below
   * the low-water mark whose retry time has come ask for {@code lease - held}. Repeats until
   * nothing changes. Returns the grants made.
   */
  synchronized int pump() {
    int grants = 0;
    if (down) {
      return 0;
    }
    long now = ticker.wallMillis();
    int fleet = Math.max(1, instances.get());
    for (LineImpl l : lines) {
      long give = 0;
      if (l.closed) {
        give = l.holder.reclaim(0);
        l.leases.clear();
      } else {
        while (!l.leases.isEmpty() && l.leases.peekFirst()[0] <= now) {
          l.leases.pollFirst();
          long keep = l.leases.stream().mapToLong(x -> x[1]).sum();
          give += l.holder.reclaim(keep);
        }
      }
      double t = 60_000.0 / l.limit.perMinute();
      double[] w = tat.computeIfAbsent(l.limit.key(), k -> new double[] {0});
      double base = Math.max(now, w[0]);
      if (give > 0) {
        base = Math.max(now, base - give * t);
      }
      w[0] = base;
      if (l.closed) {
        continue;
      }
      long held = l.holder.held();
      if (held >= l.lowWater() || now < l.retryAt) {
        continue;
      }
      long want = l.lease - held;
      long room = (long) Math.floor((now + 60_000 - base) / t + 1e-6);
      long grant = Math.max(0, Math.min(want, room));
      w[0] = base + grant * t;
      long retry = 0;
      if (grant < want) {
        long need = Math.min(want - grant, l.lease);
        retry = Math.max(1, (long) Math.ceil(w[0] + need * t - now - 60_000));
      }
      l.retryAt = now + retry;
      if (grant > 0) {
        l.leases.addLast(new long[] {now + ttlMillis, grant});
      }
      rounds++;
      l.holder.granted(SharedLimits.Grant.of(grant, Math.max(0, room - grant), retry, fleet));
      grants++;
    }
    lines.removeIf(l -> l.closed);
    return grants;
  }

  private final class LineImpl implements SharedLimits.Line {
    final SharedLimit limit;
    final SharedLimits.Holder holder;
    final long lease;
    final Deque<long[]> leases = new ArrayDeque<>(); // [expires millis, units]
    long retryAt;
    volatile boolean closed;

    LineImpl(SharedLimit limit, SharedLimits.Holder holder, long lease) {
      this.limit = limit;
      this.holder = holder;
      this.lease = lease;
    }

    @Override
    public long leaseSize() {
      return lease;
    }

    @Override
    public long lowWater() {
      return Math.max(1, (lease + 1) / 2);
    }

    @Override
    public void wake() {
      synchronized (InMemorySharedLimits.this) {
        wakes++;
      }
    }

    @Override
    public void close() {
      closed = true;
    }
  }
}
