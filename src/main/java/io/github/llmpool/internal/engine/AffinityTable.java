package io.github.llmpool.internal.engine;

import io.github.llmpool.Affinity;
import io.github.llmpool.Ticker;
import java.time.Duration;
import java.util.HashMap;

/**
 * The pool's sticky table: affinity key to provider name, a true LRU bounded by
 * {@link Affinity#maxSize()} that forgets keys idle for {@link Affinity#idleExpiry()}.
 *
 * <ul>
 *   <li>Recency only: the {@code maxSize} most recently used keys (looked up or written) are always
 *       kept; remembering one more key forgets the least recently used one. (A Caffeine cache, used
 *       before, admits by frequency (Window TinyLFU): one-off keys, which is what new sessions
 *       are, were often dropped on arrival while older keys stayed.)</li>
 *   <li>Idle expiry on the pool's {@link Ticker}: a key unused for {@code idleExpiry} or more is
 *       forgotten. Keys are in last-use order, so expired ones are always at the cold end and are
 *       dropped from there by every operation: no background work, no scan.</li>
 *   <li>Memory: a hash map entry and one list node per key, at most {@code maxSize} keys.</li>
 *   <li>Thread-safe: one lock, held for a hash lookup and a few pointer moves (no allocation on a
 *       lookup, none on a write that only refreshes a key; the key's hash is computed before the
 *       lock is taken). Keys are never logged.</li>
 * </ul>
 */
public final class AffinityTable {

  /** A remembered key, linked in last-use order. */
  private static final class Node {
    final String key;
    String provider;
    long usedAt;
    Node older;
    Node newer;

    Node(String key) {
      this.key = key;
    }
  }

  private final Affinity spec;
  private final Ticker ticker;
  private final long maxSize;
  private final long idleNanos;
  private final Object lock = new Object();
  // Guarded by lock.
  private final HashMap<String, Node> map = new HashMap<>();
  private Node oldest;
  private Node newest;

  public AffinityTable(Affinity spec, Ticker ticker) {
    this.spec = spec;
    this.ticker = ticker;
    this.maxSize = spec.maxSize();
    this.idleNanos = saturatedNanos(spec.idleExpiry());
  }

  private static long saturatedNanos(Duration d) {
    try {
      return d.toNanos();
    } catch (ArithmeticException tooLong) {
      return Long.MAX_VALUE;
    }
  }

  public Affinity spec() {
    return spec;
  }

  /** The provider remembered for {@code key} (refreshing its last use), or null. */
  public String provider(String key) {
    key.hashCode(); // cached in the string: computed outside the lock
    synchronized (lock) {
      long now = ticker.read();
      expire(now);
      Node n = map.get(key);
      if (n == null) {
        return null;
      }
      touch(n, now);
      return n.provider;
    }
  }

  /**
   * Remembers {@code provider} for {@code key}; writes only when it changes from {@code known}
   * (what {@link #provider} returned for this request, whose lookup already refreshed the key).
   */
  public void remember(String key, String provider, String known) {
    if (provider.equals(known)) {
      return;
    }
    key.hashCode();
    synchronized (lock) {
      long now = ticker.read();
      expire(now);
      Node n = map.get(key);
      if (n == null) {
        n = new Node(key);
        map.put(key, n);
        link(n);
        if (map.size() > maxSize) {
          drop(oldest);
        }
      } else {
        touch(n, now);
      }
      n.provider = provider;
      n.usedAt = now;
    }
  }

  /** The number of remembered keys (expired ones are dropped first). */
  public long size() {
    synchronized (lock) {
      expire(ticker.read());
      return map.size();
    }
  }

  // ---------------------------------------------------------------- under the lock

  /** Drops keys idle for {@code idleNanos} or more: all at the cold end (last-use order). */
  private void expire(long now) {
    Node n;
    while ((n = oldest) != null && now - n.usedAt >= idleNanos) {
      drop(n);
    }
  }

  /** Marks {@code n} used now: it becomes the newest. */
  private void touch(Node n, long now) {
    n.usedAt = now;
    if (n != newest) {
      unlink(n);
      link(n);
    }
  }

  private void drop(Node n) {
    unlink(n);
    map.remove(n.key);
  }

  /** Links {@code n} as the newest. */
  private void link(Node n) {
    n.older = newest;
    n.newer = null;
    if (newest != null) {
      newest.newer = n;
    } else {
      oldest = n;
    }
    newest = n;
  }

  private void unlink(Node n) {
    if (n.older != null) {
      n.older.newer = n.newer;
    } else {
      oldest = n.newer;
    }
    if (n.newer != null) {
      n.newer.older = n.older;
    } else {
      newest = n.older;
    }
    n.older = null;
    n.newer = null;
  }
}
