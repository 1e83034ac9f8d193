package io.github.llmpool;

import io.github.llmpool.spi.SharedEviction;
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

  private record Queued(Member from, SharedEviction eviction) {}

  private final List<Member> members = new CopyOnWriteArrayList<>();
  private final Deque<Queued> queue = new ArrayDeque<>();
  /** Everything published, in order. */
  final List<SharedEviction> published = new CopyOnWriteArrayList<>();

  @Override
  public Publisher join(String pool, Receiver receiver) {
    Member m = new Member(pool, receiver);
    members.add(m);
    return e -> {
      published.add(e);
      synchronized (queue) {
        queue.add(new Queued(m, e));
      }
    };
  }

  /** Delivers every queued eviction to the other members of its pool; returns how many were queued. */
  int deliver() {
    List<Queued> batch;
    synchronized (queue) {
      batch = new ArrayList<>(queue);
      queue.clear();
    }
    for (Queued q : batch) {
      for (Member m : members) {
        if (m != q.from() && m.pool().equals(q.eviction().pool())) {
          m.receiver().onEviction(q.eviction());
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
