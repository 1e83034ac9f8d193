package io.github.llmpool.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.github.llmpool.Price;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The {@code price} of a provider in the configuration file: read exactly; errors name the path and value. */
class PriceConfigTest {

  static String file(String price) {
    return "{\"tiers\":[{\"providers\":[{\"name\":\"a\",\"baseUrl\":\"https://api.example.com/v1\",\"price\":" + price
        + "}]}]}";
  }

  static PoolConfig read(String json) throws Exception {
    return PoolConfig.read(new ByteArrayInputStream(json.getBytes(StandardCharsets.UTF_8)), Map.<String, String>of()::get);
  }

  static String error(String price) {
    return assertThrows(IllegalArgumentException.class, () -> read(file(price))).getMessage();
  }

  @Test
  void numbersAndStringsAreReadExactlyWithTiers() throws Exception {
    PoolConfig c = read(file("{\"currency\":\"USD\",\"input\":0.1,\"cachedInput\":\"0.025\",\"cacheWrite\":0.125,"
        + "\"output\":0.4,\"reasoning\":1.6,\"tiers\":[{\"above\":200000,\"input\":0.2,\"output\":0.8}]}"));
    Price p = c.tiers().get(0).get(0).price().orElseThrow();
    Price expected = Price.builder("USD").input("0.1").cachedInput("0.025").cacheWrite("0.125").output("0.4")
        .reasoning("1.6").above(200_000, Price.builder("USD").input("0.2").output("0.8").build()).build();
    assertEquals(expected, p);
    assertEquals("0.1", p.input().toPlainString()); // not 0.1000000000000000055511151231257827
  }

  @Test
  void badPricesNameThePathAndTheValue() {
    String at = "$.tiers[0].providers[0].price";
    assertEquals(at + ".input must not be negative but was -1",
        error("{\"currency\":\"USD\",\"input\":-1,\"output\":1}"));
    assertEquals(at + ".currency must be an ISO 4217 currency code such as USD but was 'dollars'",
        error("{\"currency\":\"dollars\",\"input\":1,\"output\":1}"));
    assertEquals(at + ".output must be a decimal number (per 1M tokens) but was 'cheap'",
        error("{\"currency\":\"USD\",\"input\":1,\"output\":\"cheap\"}"));
    assertEquals(at + ".tiers[1].above: price tier thresholds must ascend: above 100000 follows above 200000",
        error("{\"currency\":\"USD\",\"input\":1,\"output\":1,\"tiers\":[{\"above\":200000,\"input\":2,\"output\":2},"
            + "{\"above\":100000,\"input\":3,\"output\":3}]}"));
    assertEquals(at + ": price.output is required (per 1M tokens, in USD)",
        error("{\"currency\":\"USD\",\"input\":1}"));
  }
}
