package io.github.llmpool.internal.usage;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import org.junit.jupiter.api.Test;

/** The allocation-free scans behind the SSE fast path. */
class ChunkScanTest {

  private static boolean interesting(String json, boolean wantModel) {
    byte[] b = Feed.utf8("xx" + json + "yy");
    return ChunkScan.interesting(b, 2, b.length - 2, wantModel);
  }

  @Test
  void flagsWhatCanMatter() {
    String[] yes = {
        "{\"usage\":{\"total_tokens\":1}}",
        "{\"usage\" : \n {}}",
        "{\"choices\":[{\"finish_reason\":\"stop\"}]}",
        "{\"choices\":[{\"finish_reason\": \"length\"}]}",
        "{\"error\":{\"message\":\"x\"}}",
        "{\"error\":\"x\"}",
        "{\"type\":\"error\",\"message\":\"x\"}",
        "{\"type\" : \"response.completed\"}",
        "{\"type\":\"response.incomplete\"}",
        "{\"type\":\"response.failed\"}",
        "{\"usage\":",          // value not visible: conservative
        "{\"usage\":nul}",       // not null: parse (and fail)
    };
    for (String s : yes) {
      assertTrue(interesting(s, false), s);
    }
    assertTrue(interesting("{\"model\":\"m\"}", true));
  }

  @Test
  void skipsOrdinaryChunks() {
    String[] no = {
        "{\"id\":\"c\",\"model\":\"m\",\"choices\":[{\"delta\":{\"content\":\"hi\"},"
            + "\"finish_reason\":null}],\"usage\":null}",
        "{\"usage\" :  null, \"error\":null}",
        "{\"type\":\"response.output_text.delta\",\"delta\":\"usage error\"}",
        "{\"type\":\"response.created\"}",
        "{\"content\":\"\\\"usage\\\": {\\\"total_tokens\\\": 1}, \\\"error\\\": 1\"}",
        "{\"my_usage\":{},\"terror\":1,\"prefinish_reason\":\"x\",\"subtype\":\"error\"}",
        "{\"content\":\"a: b :: c\"}",
        ":::::",
        "",
    };
    for (String s : no) {
      assertFalse(interesting(s, false), s);
    }
    assertFalse(interesting("{\"model\":\"m\"}", false));
    // bytes outside [from, to) are not looked at
    byte[] b = Feed.utf8("\"usage\":{}");
    assertFalse(ChunkScan.interesting(b, 1, b.length, false));
    assertFalse(ChunkScan.interesting(b, 0, 7, false));
  }

  @Test
  void wordAtATimeSearchesMatchTheNaiveOnes() {
    Random r = new Random(11);
    byte[] alphabet = {'\n', '\r', ':', 0x0B, 0x0C, 0x09, 0x3B, 0x39, 0x0A - 1, 0x01, 0x00,
        (byte) 0x80, (byte) 0x8A, (byte) 0x8D, (byte) 0xBA, (byte) 0xFF, 'a', '"'};
    for (int round = 0; round < 3000; round++) {
      byte[] b = new byte[r.nextInt(40)];
      int density = 1 + r.nextInt(20);
      for (int i = 0; i < b.length; i++) {
        b[i] = r.nextInt(density) == 0 ? alphabet[r.nextInt(3)]
            : alphabet[3 + r.nextInt(alphabet.length - 3)];
      }
      for (int from = 0; from <= b.length; from++) {
        for (int to = from; to <= b.length; to += 1 + r.nextInt(3)) {
          assertEquals(naiveEol(b, from, to), ChunkScan.indexOfEol(b, from, to));
          assertEquals(naiveColon(b, from, to), ChunkScan.indexOfColon(b, from, to));
        }
      }
    }
  }

  private static int naiveEol(byte[] b, int from, int to) {
    for (int i = from; i < to; i++) {
      if (b[i] == '\n' || b[i] == '\r') {
        return i;
      }
    }
    return to;
  }

  private static int naiveColon(byte[] b, int from, int to) {
    for (int i = from; i < to; i++) {
      if (b[i] == ':') {
        return i;
      }
    }
    return -1;
  }
}
