package io.github.llmpool;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.llmpool.spi.SharedState;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;
import mockwebserver3.MockWebServer;
import okhttp3.OkHttpClient;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Configured limits shared by instances of a pool through leases ({@code SharedLimits}), with an
 * in-memory fleet window and pools on loopback under one fake ticker: a limit of N per minute on
 * 4 instances admits N across them (not 4N), per-minute windows in steady state stay within N plus
 * instances x lease, a quota group's window is shared by group name, an unreachable store falls
 * back to limit / fleet size per instance, and a reconfiguration closes the windows it drops.
 */
class SharedLimitsTest {
  private static final int N = 120;
  private static final int INSTANCES = 4;
  private final Upstreams up = new Upstreams();
  private final FakeTicker ticker = new FakeTicker();
  /** Lease = 120 x 0.025 = 3 units. */
  private final InMemorySharedLimits fleet = new InMemorySharedLimits(ticker, 0.025, 2_000);

  @AfterEach
  void close() {
    up.close();
  }

  private List<Inst> instances(Function<ProviderPool.Builder, ProviderPool.Builder> tiers, boolean shared) {
    List<Inst> out = new ArrayList<>();
    for (int i = 0; i < INSTANCES; i++) {
      SharedState s = shared ? fleet.instance() : SharedState.LOCAL_ONLY;
      ProviderPool pool = tiers.apply(ProviderPool.builder().name("chat").ticker(ticker).sharedState(s)
          .whenAllEvicted(AllEvictedPolicy.FAIL_FAST)).build();
      out.add(new Inst(pool, up.client(pool)));
    }
    return out;
  }

  private record Inst(ProviderPool pool, OkHttpClient client) {
    /** One call: true when admitted (200), false when refused for want of headroom. */
    boolean call() throws IOException {
      try {
        return "200".equals(Upstreams.call(client, Upstreams.chat(pool))[0]);
      } catch (NoProviderAvailableException refused) {
        return false;
      }
    }
  }

  /**
   * Every instance calls until refused, the store's round runs, again, until a whole pass admits
   * nothing: all the demand the fleet window lets through now. Returns the calls admitted.
   */
  private int drain(List<Inst> insts) throws IOException {
    int admitted = 0;
    boolean progress = true;
    while (progress) {
      progress = false;
      fleet.pump();
      for (Inst i : insts) {
        while (i.call()) {
          admitted++;
          progress = true;
        }
      }
    }
    return admitted;
  }

  @Test
  void aLimitOfNConfiguredOnFourInstancesAdmitsNAcrossThemNot4N() throws Exception {
    MockWebServer a = up.startChat();
    List<Inst> shared = instances(p -> p.tier(Provider.builder("a").baseUrl(Upstreams.baseUrl(a))
        .requestsPerMinute(N).build()), true);
    int credit = 0;
    while (shared.get(0).call()) {
      credit++;
    }
    assertEquals(3, credit, "before its first lease an instance admits one lease on credit, then nothing");
    int admitted = credit + drain(shared);
    assertEquals(N, admitted, "time stands: the fleet window's burst, exactly (the credit was paid from it)");
    assertEquals(N, up.count(a));

    up.close();
    MockWebServer b = up.startChat();
    List<Inst> local = instances(p -> p.tier(Provider.builder("a").baseUrl(Upstreams.baseUrl(b))
        .requestsPerMinute(N).build()), false);
    assertEquals(INSTANCES * N, drain(local), "local buckets: each instance admits the whole limit");
    System.out.println("[shared limits] " + INSTANCES + " instances, " + N + "/min: shared " + admitted
        + ", local-only " + INSTANCES * N);
  }

  @Test
  void inSteadyStateEveryMinuteAdmitsAtMostNPlusInstancesTimesLease() throws Exception {
    MockWebServer a = up.startChat();
    List<Inst> insts = instances(p -> p.tier(Provider.builder("a").baseUrl(Upstreams.baseUrl(a))
        .requestsPerMinute(N).build()), true);
    int credit = 0;
    for (Inst i : insts) { // every instance spends its start credit before its first lease
      while (i.call()) {
        credit++;
      }
    }
    assertEquals(INSTANCES * 3, credit);
    int burst = credit + drain(insts);
    int seconds = 150;
    int[] perSecond = new int[seconds + 1];
    perSecond[0] = burst;
    for (int s = 1; s <= seconds; s++) {
      ticker.advance(Duration.ofSeconds(1));
      perSecond[s] = drain(insts);
    }
    long lease = 3;
    long bound = N + INSTANCES * lease;
    int worst = 0;
    for (int start = 1; start + 60 <= seconds + 1; start++) { // every minute after the burst
      int sum = 0;
      for (int s = start; s < start + 60; s++) {
        sum += perSecond[s];
      }
      worst = Math.max(worst, sum);
    }
    int first = 0;
    for (int s = 0; s < 60; s++) {
      first += perSecond[s];
    }
    System.out.println("[shared limits] " + INSTANCES + " instances, " + N + "/min, lease " + lease + ": burst " + burst
        + ", first minute " + first + ", worst later minute " + worst + " (bound " + bound + ")");
    assertEquals(N, burst);
    assertTrue(worst <= bound, "worst minute " + worst + " > " + bound);
    assertTrue(worst >= N - INSTANCES * lease, "the fleet still uses its limit: " + worst);
    assertTrue(first <= 2 * N + INSTANCES * lease, "burst + refill: " + first);
  }

  @Test
  void anInstanceJoiningAnEmptyWindowSpendsItsCreditOnceAndTheWindowIsPaidBack() throws Exception {
    MockWebServer a = up.startChat();
    Function<ProviderPool.Builder, ProviderPool.Builder> tiers = p -> p.tier(Provider.builder("a")
        .baseUrl(Upstreams.baseUrl(a)).requestsPerMinute(N).build());
    List<Inst> insts = new ArrayList<>(instances(tiers, true));
    assertEquals(N, drain(insts), "the window's burst");
    // A fifth instance (a scale-out, a restart) joins the empty window: its credit is the overshoot
    // the bound's I x L allows, and is a debt of the window, not a gift.
    ProviderPool p5 = tiers.apply(ProviderPool.builder().name("chat").ticker(ticker).sharedState(fleet.instance())
        .whenAllEvicted(AllEvictedPolicy.FAIL_FAST)).build();
    Inst i5 = new Inst(p5, up.client(p5));
    int credit = 0;
    while (i5.call()) {
      credit++;
    }
    assertEquals(3, credit);
    assertEquals(0, drain(insts), "the first grant (none: the window is empty) ended the credit");
    insts.add(i5);
    assertEquals(0, drain(insts));
    assertEquals(-credit, fleet.heldOf("r:p:a"), "the fifth instance owes its credit; the others hold nothing");
    // Only the fifth instance calls now: the window's refill goes to whoever asks (the idle four
    // take a lease each first), and the fifth admits again once its grants paid the debt.
    int seconds = 0;
    int fifth = 0;
    while (seconds < 60 && fifth == 0) {
      ticker.advance(Duration.ofSeconds(1));
      seconds++;
      fleet.pump();
      while (i5.call()) {
        fifth++;
      }
      long granted = N + N * seconds / 60 - fleet.windowLeft("r:p:a", N); // the window's burst and refill, leased
      assertEquals(granted - fleet.heldOf("r:p:a"), up.count(a),
          "after " + seconds + " s: admitted = what the window granted - what is held (+ the debt not yet paid)");
    }
    assertTrue(fifth > 0, "the fifth instance admits again once its debt is paid");
    System.out.println("[shared limits] a fifth instance joining an empty window: credit " + credit
        + ", debt paid and admitting again after " + seconds + " s");
  }

  @Test
  void aQuotaGroupExhaustedOnOneInstanceIsOutOnAll() throws Exception {
    MockWebServer acct = up.startChat();
    MockWebServer z = up.startChat();
    // Instance 1 has members a and b of group acct; instance 2 only c of it, and a fallback tier z.
    ProviderPool p1 = ProviderPool.builder().name("chat").ticker(ticker).sharedState(fleet.instance())
        .whenAllEvicted(AllEvictedPolicy.FAIL_FAST)
        .tier(Provider.builder("a").baseUrl(Upstreams.baseUrl(acct)).quotaGroup("acct").requestsPerMinute(10).build(),
            Provider.builder("b").baseUrl(Upstreams.baseUrl(acct)).quotaGroup("acct").requestsPerMinute(10).build())
        .build();
    Inst i1 = new Inst(p1, up.client(p1));
    assertEquals(10, drain(List.of(i1)), "instance 1 takes the group's whole window");
    assertEquals(0, fleet.windowLeft("r:g:acct", 10));
    ProviderPool p2 = ProviderPool.builder().name("chat").ticker(ticker).sharedState(fleet.instance())
        .tier(Provider.builder("c").baseUrl(Upstreams.baseUrl(acct)).quotaGroup("acct").requestsPerMinute(10).build())
        .tier(Provider.builder("z").baseUrl(Upstreams.baseUrl(z)).build()).build();
    Inst i2 = new Inst(p2, up.client(p2));
    fleet.pump(); // instance 2 asks the group's window for a lease: none left
    assertTrue(i2.call());
    assertEquals(10, up.count(acct), "instance 2's member c is out too: its call went to the fallback tier");
    assertEquals(1, up.count(z));
    ticker.advance(Duration.ofSeconds(6)); // one unit per 6 s comes back, for the group, for whoever asks first
    fleet.pump();
    assertTrue(i2.call()); // c if instance 2's line got the unit, else z
    i1.call(); // a or b if instance 1's line got it, else refused
    assertEquals(11, up.count(acct), "the group's one new unit, on one instance");
  }

  @Test
  void anUnreachableStoreFallsBackToTheLimitOverTheFleetSizePerInstance() throws Exception {
    MockWebServer a = up.startChat();
    List<Inst> insts = instances(p -> p.tier(Provider.builder("a").baseUrl(Upstreams.baseUrl(a))
        .requestsPerMinute(N).build()), true);
    assertEquals(N, drain(insts)); // leases granted: each instance knows the fleet is 4
    fleet.down(true);
    int during = 0;
    for (Inst i : insts) {
      while (i.call()) {
        during++;
      }
    }
    assertEquals(0, during, "the fallback buckets start empty: the fleet was using the window");
    ticker.advance(Duration.ofSeconds(60));
    for (Inst i : insts) {
      while (i.call()) {
        during++;
      }
    }
    assertEquals(N, during, "a minute later each instance admitted 120 / 4 = 30: the fleet N");
    fleet.down(false);
    assertEquals(N, drain(insts), "back on leases: the fleet window refilled meanwhile");
  }

  @Test
  void aStoreDownBeforeAnyLeaseFallsBackToTheWholeLimit() throws Exception {
    MockWebServer a = up.startChat();
    fleet.down(true);
    List<Inst> insts = instances(p -> p.tier(Provider.builder("a").baseUrl(Upstreams.baseUrl(a))
        .requestsPerMinute(N).build()), true);
    int admitted = 0;
    while (insts.get(0).call()) {
      admitted++;
    }
    assertEquals(N, admitted, "no fleet size was ever granted: the instance acts as a local-only pool");
  }

  @Test
  void aReconfigurationClosesTheWindowsItDropsAndGivesTheirUnitsBack() throws Exception {
    MockWebServer a = up.startChat();
    List<Inst> insts = instances(p -> p.tier(Provider.builder("a").baseUrl(Upstreams.baseUrl(a))
        .requestsPerMinute(N).build()), true);
    fleet.pump();
    assertEquals(INSTANCES, fleet.openLines());
    assertEquals(INSTANCES * 3, fleet.heldOf("r:p:a"));
    assertEquals(N - INSTANCES * 3, fleet.windowLeft("r:p:a", N));
    for (Inst i : insts) {
      i.pool().update(List.of(List.of(Provider.builder("a").baseUrl(Upstreams.baseUrl(a)).build())));
    }
    assertEquals(0, fleet.openLines());
    fleet.pump();
    assertEquals(N, fleet.windowLeft("r:p:a", N), "every held unit went back");
  }
}
