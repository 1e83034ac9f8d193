package io.github.llmpool.bench.jmh;

import com.netflix.loadbalancer.AvailabilityFilteringRule;
import com.netflix.loadbalancer.BaseLoadBalancer;
import com.netflix.loadbalancer.BestAvailableRule;
import com.netflix.loadbalancer.IRule;
import com.netflix.loadbalancer.LoadBalancerStats;
import com.netflix.loadbalancer.RoundRobinRule;
import com.netflix.loadbalancer.Server;
import com.netflix.loadbalancer.WeightedResponseTimeRule;
import java.lang.reflect.Field;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/**
 * The peer: Netflix Ribbon 2.7.18's rules over the same {@link Fleet}, configured as a Ribbon
 * client would run them: one {@link BaseLoadBalancer} with every server alive (no {@code IPing},
 * so Ribbon marks all servers up, as with its {@code DummyPing}), one {@link LoadBalancerStats}
 * holding five response-time samples and the in-flight count ({@code activeRequestsCount}) of each
 * server, and each rule attached to that balancer.
 *
 * <p>Quirks: Ribbon 2.7.x needs no Archaius: rules built without an {@code IClientConfig} use their
 * built-in defaults (circuit-breaker filtering on, active-connections limit
 * {@code Integer.MAX_VALUE}), which is what a default client gets. {@code WeightedResponseTimeRule}
 * computes its weights on a timer (every 30 s) and once synchronously when attached to a balancer,
 * so it is attached after the stats are filled; the setup waits until its weights are in force
 * (its timer's first run and the synchronous one race for a flag, and the loser returns without
 * computing; without weights the rule silently falls back to round robin). Its timer thread and the per-server
 * {@code DataPublisher} of Ribbon's stats keep running in the background, as in production.
 */
final class RibbonFleet {
  final BaseLoadBalancer lb;
  final LoadBalancerStats stats;
  final RoundRobinRule roundRobin = new RoundRobinRule();
  final WeightedResponseTimeRule weightedResponseTime = new WeightedResponseTimeRule();
  final AvailabilityFilteringRule availabilityFiltering = new AvailabilityFilteringRule();
  final BestAvailableRule bestAvailable = new BestAvailableRule();

  RibbonFleet(Fleet fleet) {
    stats = new LoadBalancerStats("llmpool-bench");
    lb = new BaseLoadBalancer("llmpool-bench", new RoundRobinRule(), stats);
    List<Server> servers = new ArrayList<>();
    for (int i = 0; i < fleet.size; i++) {
      servers.add(new Server("p" + i + ".llm.example.com", 443));
    }
    lb.addServers(servers);
    for (int i = 0; i < fleet.size; i++) {
      Server s = servers.get(i);
      for (int k = 0; k < Fleet.SAMPLES; k++) {
        stats.noteResponseTime(s, fleet.sampleNanos[i][k] / 1e6); // Ribbon keeps milliseconds
        stats.incrementNumRequests(s);
      }
      for (int f = 0; f < fleet.inFlight[i]; f++) {
        stats.incrementActiveRequestsCount(s);
      }
    }
    for (IRule rule : rules()) {
      rule.setLoadBalancer(lb); // WeightedResponseTimeRule computes its weights here
    }
    check(fleet.size);
  }

  List<IRule> rules() {
    return List.of(roundRobin, weightedResponseTime, availabilityFiltering, bestAvailable);
  }

  private void check(int n) {
    if (lb.getReachableServers().size() != n || lb.getAllServers().size() != n) {
      throw new IllegalStateException("Ribbon sees " + lb.getReachableServers().size() + " of " + n + " servers up");
    }
    // The rule's timer task (scheduled with no delay) and its synchronous first run race for one
    // flag; the loser returns at once. Wait for whichever won to publish the weights.
    try {
      Field f = WeightedResponseTimeRule.class.getDeclaredField("accumulatedWeights");
      f.setAccessible(true);
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
      while (((List<?>) f.get(weightedResponseTime)).size() != n) {
        if (System.nanoTime() - deadline > 0) {
          throw new IllegalStateException("WeightedResponseTimeRule has " + ((List<?>) f.get(weightedResponseTime)).size()
              + " weights for " + n + " servers: it would fall back to round robin");
        }
        Thread.sleep(10);
      }
    } catch (ReflectiveOperationException e) {
      throw new IllegalStateException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
    for (IRule rule : rules()) {
      Set<Server> seen = new HashSet<>();
      for (int k = 0; k < 4 * n; k++) {
        Server s = rule.choose(null);
        if (s == null) {
          throw new IllegalStateException(rule.getClass().getSimpleName() + " chose no server");
        }
        seen.add(s);
      }
      if (seen.isEmpty()) {
        throw new IllegalStateException(rule.getClass().getSimpleName() + " never chose");
      }
    }
  }

  void close() {
    weightedResponseTime.shutdown();
    lb.shutdown();
  }
}
