package io.github.llmpool;

import io.github.llmpool.spi.SharedAffinity;
import io.github.llmpool.spi.SharedEviction;
import io.github.llmpool.spi.SharedQuota;
import io.github.llmpool.spi.SharedState;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * A {@link SharedState} for pools in one JVM standing in for instances of one pool on several
 * machines. Publishing only queues (as a real one queues its I/O): {@link #deliver()} hands every
 * queued eviction to the other members of its pool, so a test decides when the news arrives.
 * Thread-safe.
 */
final class InMemorySharedState implements SharedState {
  private record Member(String pool, Receiver receiver) {}

  /** One published value: an eviction, a quota or an affinity entry. */
  private record Queued(Member from, Object value) {
    String pool() {
      return value instanceof SharedEviction e ? e.pool() : value instanceof SharedQuota q ? q.pool()
          : ((SharedAffinity) value).pool();
    }
  }

  private final List<Member> members = new CopyOnWriteArrayList<>();
  private final Deque<Queued> queue = new ArrayDeque<>();
  /** Everything published, in order. */
  final List<SharedEviction> published = new CopyOnWriteArrayList<>();
  /** Every quota published, in order. */
  final List<SharedQuota> quotas = new CopyOnWriteArrayList<>();
  /** Every affinity entry published, in order. */
  final List<SharedAffinity> affinities = new CopyOnWriteArrayList<>();
  /** Every dispatch published, in order: scope, group, requests, tokens. */
  final List<List<Object>> dispatched = new CopyOnWriteArrayList<>();

  @Override
  public Publisher join(String pool, Receiver receiver) {
    Member m = new Member(pool, receiver);
    members.add(m);
    return new Publisher() {
      @Override
      public void publish(SharedEviction e) {
        published.add(e);
        queue(m, e);
      }

      @Override
      public void publishQuota(SharedQuota q) {
        quotas.add(q);
        queue(m, q);
      }

      @Override
      public void publishAffinity(SharedAffinity a) {
        affinities.add(a);
        queue(m, a);
      }

      @Override
      public void publishDispatched(String scope, boolean group, long requests, long tokens) {
        dispatched.add(List.of(scope, group, requests, tokens));
      }
    };
  }

  private void queue(Member m, Object value) {
    synchronized (queue) {
      queue.add(new Queued(m, value));
    }
  }

  /** Delivers every queued value to the other members of its pool; returns how many were queued. */
  int deliver() {
    List<Queued> batch;
    synchronized (queue) {
      batch = new ArrayList<>(queue);
      queue.clear();
    }
    for (Queued q : batch) {
      for (Member m : members) {
        if (m != q.from() && m.pool().equals(q.pool())) {
          if (q.value() instanceof SharedEviction e) {
            m.receiver().onEviction(e);
          } else if (q.value() instanceof SharedQuota quota) {
            m.receiver().onQuota(quota);
          } else {
            m.receiver().onAffinity((SharedAffinity) q.value());
          }
        }
      }
    }
    return batch.size();
  }

  /** The receiver of the {@code i}th pool that joined. */
  Receiver receiver(int i) {
    return members.get(i).receiver();
  }
}
