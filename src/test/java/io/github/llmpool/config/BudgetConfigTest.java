package io.github.llmpool.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.llmpool.Budget;
import io.github.llmpool.ProviderPool;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.time.ZoneId;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The root {@code budgets} of the configuration file: read into {@link Budget}s; errors name the path and value. */
class BudgetConfigTest {

  static String file(String budgets) {
    return "{\"tiers\":[{\"providers\":[{\"name\":\"a\",\"baseUrl\":\"https://api.example.com/v1\",\"quotaGroup\":\"g\","
        + "\"price\":{\"currency\":\"USD\",\"input\":1,\"output\":2}}]}],\"budgets\":" + budgets + "}";
  }

  static PoolConfig read(String json) throws Exception {
    return PoolConfig.read(new ByteArrayInputStream(json.getBytes(StandardCharsets.UTF_8)), Map.<String, String>of()::get);
  }

  static String error(String budgets) {
    return assertThrows(IllegalArgumentException.class, () -> read(file(budgets))).getMessage();
  }

  @Test
  void budgetsAreReadAndReachThePool() throws Exception {
    PoolConfig c = read(file("[{\"name\":\"daily\",\"amount\":\"20.00\",\"currency\":\"USD\",\"window\":\"day\","
        + "\"zone\":\"Europe/Berlin\",\"provider\":\"a\"},"
        + "{\"name\":\"tpm\",\"tokens\":100000,\"window\":\"MINUTE\",\"quotaGroup\":\"g\",\"reservationCap\":256},"
        + "{\"name\":\"monthly\",\"amount\":0.1,\"currency\":\"USD\",\"window\":\"month\"}]"));
    List<Budget> expected = List.of(
        Budget.builder("daily").amount("20", "USD").window(Budget.Window.DAY).zone(ZoneId.of("Europe/Berlin"))
            .provider("a").build(),
        Budget.builder("tpm").tokens(100_000).window(Budget.Window.MINUTE).quotaGroup("g").reservationCap(256).build(),
        Budget.builder("monthly").amount("0.1", "USD").window(Budget.Window.MONTH).build());
    assertEquals(expected, c.budgets());
    ProviderPool pool = c.toPoolBuilder().build();
    assertEquals(expected, pool.budgets());
    assertEquals(3, pool.snapshot().budgets().size());
    c.applyTo(pool); // the same budgets: accepted
    PoolConfig other = read(file("[{\"name\":\"daily\",\"amount\":\"30\",\"currency\":\"USD\",\"window\":\"day\"}]"));
    String m = assertThrows(IllegalArgumentException.class, () -> other.applyTo(pool)).getMessage();
    assertTrue(m.contains("$.budgets is [Budget{daily, 30 USD per DAY (UTC), pool, reservationCap=1024}] in the file"), m);
  }

  @Test
  void badBudgetsNameThePathAndTheValue() {
    String at = "$.budgets[0]";
    assertEquals(at + ".amount must be > 0 but was -5",
        error("[{\"name\":\"x\",\"amount\":-5,\"currency\":\"USD\",\"window\":\"day\"}]"));
    assertEquals(at + ".provider must be one of [a] but was 'b' (budget 'x')",
        error("[{\"name\":\"x\",\"tokens\":5,\"window\":\"day\",\"provider\":\"b\"}]"));
    assertEquals(at + ".currency must be the currency of every priced provider in its scope but budget 'x' is in EUR"
        + " and provider 'a' is priced in USD",
        error("[{\"name\":\"x\",\"amount\":5,\"currency\":\"EUR\",\"window\":\"day\"}]"));
    assertEquals(at + " must state exactly one of amount (with currency) or tokens",
        error("[{\"name\":\"x\",\"amount\":5,\"currency\":\"USD\",\"tokens\":5,\"window\":\"day\"}]"));
    assertEquals(at + ".zone must be a time zone id such as UTC or Europe/Berlin but was 'Mars/Olympus'",
        error("[{\"name\":\"x\",\"tokens\":5,\"window\":\"day\",\"zone\":\"Mars/Olympus\"}]"));
    assertTrue(error("[{\"name\":\"x\",\"tokens\":5,\"window\":\"week\"}]").startsWith(at + ".window"));
    assertTrue(error("[{\"name\":\"x\",\"tokens\":5}]").startsWith(at + ".window"));
    assertEquals("$.budgets[1].name must be unique but 'x' appears twice",
        error("[{\"name\":\"x\",\"tokens\":5,\"window\":\"day\"},{\"name\":\"x\",\"tokens\":6,\"window\":\"day\"}]"));
  }
}
