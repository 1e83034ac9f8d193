package io.github.llmpool.testing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import mockwebserver3.MockResponse;
import org.junit.jupiter.api.Test;

class WireFixturesTest {

  @Test
  void everyListedFixtureShipsAndParses() {
    for (String name : WireFixtures.NAMES) {
      assertFalse(WireFixtures.text(name).isBlank(), name);
      MockResponse r = WireFixtures.response(name).build();
      assertTrue(r.getCode() >= 200 && r.getCode() < 600, name + ": " + r.getCode());
    }
    MockResponse rateLimited = WireFixtures.response("openai-429-rate-limit.http").build();
    assertEquals(429, rateLimited.getCode());
    assertEquals("2", rateLimited.getHeaders().get("retry-after"));
    assertEquals(529, WireFixtures.response("anthropic-529.http").build().getCode());
    assertEquals("text/event-stream", WireFixtures.response("openai-chat-stream-usage.sse").build().getHeaders().get("content-type"));
  }

  @Test
  void anUnknownNameListsTheKnownOnes() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> WireFixtures.text("nope.json"));
    assertTrue(e.getMessage().startsWith("no wire fixture named 'nope.json'; have [openai-chat.json"), e.getMessage());
  }
}
