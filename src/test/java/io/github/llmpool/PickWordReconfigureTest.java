package io.github.llmpool;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.llmpool.internal.health.ProviderState;
import java.util.List;
import mockwebserver3.MockWebServer;
import okhttp3.OkHttpClient;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The weighted pick's copy of a headroom's word in each provider state ({@link ProviderState#roomQuick})
 * through a pool on loopback: the members of a quota group hold the group's word, a reconfiguration
 * that drops a member stops its copy from admitting anything (a snapshot still in use then checks
 * exactly), and dispatches through the member left move its copy with the group's buckets.
 */
class PickWordReconfigureTest {
  private final Upstreams up = new Upstreams();
  private final FakeTicker ticker = new FakeTicker();

  @AfterEach
  void close() {
    up.close();
  }

  private static Provider member(String name, MockWebServer s) {
    return Provider.builder(name).baseUrl(Upstreams.baseUrl(s)).quotaGroup("acct").requestsPerMinute(2).build();
  }

  private static ProviderState state(ProviderPool pool, String name) {
    return pool.core().router().slot(name).state;
  }

  @Test
  void aDroppedMembersCopyNeverAdmitsAndTheMemberLeftFollowsTheGroupsBuckets() throws Exception {
    MockWebServer a = up.startChat();
    MockWebServer b = up.startChat();
    MockWebServer other = up.startChat();
    Provider otherProvider = Provider.builder("other").baseUrl(Upstreams.baseUrl(other)).build();
    ProviderPool pool = ProviderPool.builder().ticker(ticker).random(new ScriptedRandom(0)).strategy(Strategy.WEIGHTED)
        .tier(member("a", a), member("b", b), otherProvider).build();
    ProviderState stateA = state(pool, "a");
    ProviderState stateB = state(pool, "b");
    long now = ticker.read();
    assertSame(stateA.headroom(), stateB.headroom(), "one headroom for the group");
    assertTrue(stateA.roomQuick(now, 0) && stateB.roomQuick(now, 0), "a full bucket: both copies admit");

    pool.update(List.of(List.of(member("a", a), otherProvider)));
    assertSame(stateA, state(pool, "a"), "a keeps its state");
    assertFalse(stateB.roomQuick(now, 0), "b was dropped: its copy sends a pick to the exact checks");
    assertTrue(stateA.roomQuick(now, 0), "a still holds the group's word");

    OkHttpClient client = up.client(pool);
    while (up.count(a) == 0) {
      assertEquals("200", Upstreams.call(client, Upstreams.chat(pool))[0]);
    }
    assertTrue(stateA.roomQuick(ticker.read(), 0), "1 of 2 per minute taken: half left is still ample");
    while (up.count(a) == 1) {
      assertEquals("200", Upstreams.call(client, Upstreams.chat(pool))[0]);
    }
    long later = ticker.read();
    assertFalse(stateA.roomQuick(later, 0), "2 of 2 taken: a's copy follows the group's bucket");
    assertFalse(stateA.headroom().admits(later, 0), "and the exact check agrees: no room");
    assertFalse(stateB.roomQuick(later, 0), "the group's writes never reach the dropped member");
    int toOther = up.count(other);
    assertEquals("200", Upstreams.call(client, Upstreams.chat(pool))[0]);
    assertEquals(toOther + 1, up.count(other), "the group is out: the pick goes to the other provider");
    assertEquals(2, up.count(a));
  }
}
