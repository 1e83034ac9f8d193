package io.github.llmpool.redis;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.llmpool.spi.SharedQuota;
import org.junit.jupiter.api.Test;

/** The quota window's wire form: what the hash and the channel carry (no Redis needed). */
class WireTest {
  @Test
  void aWindowRoundTripsWithItsDatedFlag() {
    SharedQuota.Window dated = SharedQuota.Window.of(34, 31, 1_700_000_000_250L, 1_700_000_000_000L, true);
    assertEquals("34|31|1700000000250|1700000000000|1", Wire.windowValue(dated));
    assertEquals(dated, Wire.window(Wire.windowValue(dated)));
    SharedQuota.Window plain = SharedQuota.Window.of(100, 7, -1, 5);
    assertEquals(plain, Wire.window(Wire.windowValue(plain)));
    assertFalse(Wire.window(Wire.windowValue(plain)).dated());
  }

  @Test
  void aValueWrittenByAnOlderVersionReadsAsNotDatedAndAMalformedOneAsNothing() {
    SharedQuota.Window old = Wire.window("100|7|-1|5");
    assertEquals(SharedQuota.Window.of(100, 7, -1, 5), old);
    assertFalse(old.dated());
    assertTrue(Wire.window("100|7|-1|5|1").dated());
    assertNull(Wire.window("100|7|-1"));
    assertNull(Wire.window("100|7|-1|5|1|9"));
    assertNull(Wire.window("100|x|-1|5"));
  }
}
