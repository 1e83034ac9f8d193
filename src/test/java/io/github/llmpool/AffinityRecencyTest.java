package io.github.llmpool;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import mockwebserver3.MockResponse;
import mockwebserver3.MockWebServer;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import okhttp3.Response;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The affinity bound keeps the most recent sessions (least recently used go first). Loopback servers. */
class AffinityRecencyTest {
  private static final String SESSION = "X-Session-Id";

  private final Upstreams up = new Upstreams();
  private final FakeTicker ticker = new FakeTicker();

  @AfterEach
  void close() {
    up.close();
  }

  private MockWebServer server(String name) {
    MockResponse ok = Fixtures.json("openai-chat.json").newBuilder().addHeader("x-upstream", name).build();
    return up.start(r -> ok);
  }

  private static Provider p(String name, MockWebServer s) {
    return Provider.builder(name).baseUrl(Upstreams.baseUrl(s)).build();
  }

  private static String served(OkHttpClient client, ProviderPool pool, String session) throws IOException {
    Request r = Upstreams.chat(pool).newBuilder().header(SESSION, session).build();
    try (Response response = client.newCall(r).execute()) {
      response.body().string();
      assertEquals(200, response.code());
      return response.header("x-upstream");
    }
  }

  @Test
  void theMostRecentSessionsReturnToTheirProviderAfterManyOneOffSessions() throws Exception {
    MockWebServer a = server("a");
    MockWebServer b = server("b");
    MockWebServer c = server("c");
    Provider pa = p("a", a);
    Provider pb = p("b", b);
    ProviderPool pool = ProviderPool.builder().strategy(Strategy.ROUND_ROBIN).ticker(ticker)
        .affinity(Affinity.header(SESSION).maxSize(100)).tier(pa, pb).build();
    OkHttpClient client = up.client(pool);
    Map<String, String> home = new HashMap<>();
    for (int i = 0; i < 300; i++) {
      home.put("s" + i, served(client, pool, "s" + i)); // 300 one-off sessions
    }
    assertEquals(150, up.count(a));
    assertEquals(150, up.count(b));
    // From now on a session the pool has forgotten is routed afresh, and almost surely to c.
    pool.update(List.of(List.of(pa, pb, p("c", c).withWeight(1_000))));
    List<String> moved = new ArrayList<>();
    for (int i = 250; i < 300; i++) { // the 50 most recent sessions
      String s = "s" + i;
      if (!home.get(s).equals(served(client, pool, s))) {
        moved.add(s);
      }
    }
    assertEquals(List.of(), moved, "recent sessions re-routed");
    assertEquals(0, up.count(c));
    // the 100 most recent are all remembered; the 200 before them are forgotten
    for (int i = 200; i < 250; i++) {
      assertEquals(home.get("s" + i), served(client, pool, "s" + i), "s" + i);
    }
    assertEquals(0, up.count(c));
    int toC = 0;
    for (int i = 0; i < 200; i++) {
      if (served(client, pool, "s" + i).equals("c")) {
        toC++;
      }
    }
    assertTrue(toC >= 190, "forgotten sessions routed to c: " + toC); // round robin 1000:1:1
    assertEquals(100, pool.core().affinity().size());
  }
}
