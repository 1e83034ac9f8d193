package io.github.llmpool.bench.quality;

import io.github.llmpool.Ticker;
import io.github.llmpool.spi.SharedLimit;
import io.github.llmpool.spi.SharedLimits;
import io.github.llmpool.spi.SharedState;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLongArray;

/**
 * Records, per fleet window (configured limit) and world minute, the units this instance was
 * granted and gave back, by wrapping the shared state's {@link SharedLimits} holders: what the
 * fleet window let this instance take, to set against what the fakes received (issue 18's
 * diagnosis of 429s under leases). Reset by {@link #report()}. Thread-safe.
 */
final class LeaseLog {
  private static final long MINUTE = 60_000_000_000L;
  private static final int MINUTES = 32;
  private final Map<String, AtomicLongArray[]> byKey = new ConcurrentHashMap<>();

  /** {@code shared} with its limits' holders recorded on {@code ticker}'s world minutes. */
  SharedState wrap(SharedState shared, Ticker ticker) {
    SharedLimits limits = shared.limits();
    if (limits == null) {
      return shared;
    }
    SharedLimits recording = (limit, holder) -> limits.open(limit, recording(limit, holder, ticker));
    return new SharedState() {
      @Override
      public Publisher join(String pool, Receiver receiver) {
        return shared.join(pool, receiver);
      }

      @Override
      public SharedLimits limits() {
        return recording;
      }
    };
  }

  private SharedLimits.Holder recording(SharedLimit limit, SharedLimits.Holder h, Ticker ticker) {
    AtomicLongArray[] c = byKey.computeIfAbsent(limit.key(),
        k -> new AtomicLongArray[] {new AtomicLongArray(MINUTES), new AtomicLongArray(MINUTES)});
    return new SharedLimits.Holder() {
      private int minute() {
        return (int) Math.max(0, Math.min(MINUTES - 1, ticker.read() / MINUTE));
      }

      @Override
      public long held() {
        return h.held();
      }

      @Override
      public void granted(SharedLimits.Grant grant) {
        c[0].addAndGet(minute(), grant.units());
        h.granted(grant);
      }

      @Override
      public long reclaim(long keep) {
        long back = h.reclaim(keep);
        c[1].addAndGet(minute(), back);
        return back;
      }

      @Override
      public void storeDown() {
        h.storeDown();
      }

      @Override
      public void storeUp() {
        h.storeUp();
      }
    };
  }

  /** One line per window: {@code key granted=g0,g1,... back=b0,b1,...}; then forgets. */
  List<String> report() {
    List<String> out = new ArrayList<>();
    new TreeMap<>(byKey).forEach((k, c) -> out.add(k + " granted=" + join(c[0]) + " back=" + join(c[1])));
    byKey.clear();
    return out;
  }

  private static String join(AtomicLongArray a) {
    int last = 0;
    for (int i = 0; i < a.length(); i++) {
      if (a.get(i) != 0) {
        last = i;
      }
    }
    StringBuilder b = new StringBuilder();
    for (int i = 0; i <= last; i++) {
      b.append(i == 0 ? "" : ",").append(a.get(i));
    }
    return b.toString();
  }
}
