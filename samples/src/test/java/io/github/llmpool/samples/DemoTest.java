package io.github.llmpool.samples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.Random;
import io.github.llmpool.spi.RandomSource;
import org.junit.jupiter.api.Test;

class DemoTest {

  @Test
  void observedSharesFollowTheWeightsAndOnUsageSeesEveryToken() {
    Demo.Report report;
    try (FakeProviders fakes = FakeProviders.start("primary", "secondary", "canary")) {
      // A seeded source makes the draw repeatable (the demo itself uses the pool's default);
      // with unseeded randomness a 5-point band over 500 draws would still fail about 1 run in 150.
      Random seeded = new Random(20240501L);
      RandomSource random = new RandomSource() {
        @Override
        public int nextInt(int bound) {
          return seeded.nextInt(bound);
        }

        @Override
        public double nextDouble() {
          return seeded.nextDouble();
        }
      };
      report = Demo.run(fakes, 500, random);

      // Ground truth: what each fake provider itself received.
      assertEquals(500, fakes.totalRequests(), "one upstream request per call: nothing failed, nothing retried");
      for (Demo.Row row : report.rows()) {
        assertEquals(fakes.get(row.provider()).requestCount(), row.requests());
        assertTrue(Math.abs(row.observedShare() - row.configuredShare()) <= 5.0,
            row.provider() + ": observed " + row.observedShare() + "% vs configured " + row.configuredShare() + "%");
        assertEquals((long) row.requests(), report.poolAttempts().get(row.provider()),
            "pool.snapshot() agrees with the provider's own count");
        assertTrue(row.requests() == 0 || row.tokens() > 0, row.provider() + " answered but onUsage saw no tokens");
      }
    }
    assertEquals(80.0, report.row("primary").configuredShare(), 1e-9);
    assertEquals(15.0, report.row("secondary").configuredShare(), 1e-9);
    assertEquals(5.0, report.row("canary").configuredShare(), 1e-9);
    assertEquals(report.tokensInAnswers(), report.tokensFromOnUsage(),
        "onUsage reported exactly the tokens the answers carried");

    ByteArrayOutputStream buf = new ByteArrayOutputStream();
    Demo.print(report, new PrintStream(buf, true, StandardCharsets.UTF_8));
    String table = buf.toString(StandardCharsets.UTF_8);
    assertTrue(table.contains("primary") && table.contains("80.0%"), table);
  }
}
