package io.github.llmpool;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.llmpool.config.PriceCatalog;
import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** Exact arithmetic of every price component, tiers, defaults, bad input, and the catalog file. */
class PriceTest {

  static TokenCounts t(long prompt, long cached, long cacheWrite, long completion, long reasoning) {
    return TokenCounts.builder().prompt(prompt).cached(cached).cacheWrite(cacheWrite).completion(completion)
        .reasoning(reasoning).build();
  }

  static void same(String expected, BigDecimal actual) {
    assertEquals(new BigDecimal(expected), actual, "exact amount, smallest scale");
  }

  @Test
  void eachComponentAloneIsItsTokensTimesItsRate() {
    Price p = Price.builder("EUR").input("2").cachedInput("0.5").cacheWrite("2.5").output("8").reasoning("12")
        .build();
    same("0.000002", p.amount(t(1, 0, 0, 0, 0)));           // input
    same("0.0000005", p.amount(t(1, 1, 0, 0, 0)));          // cached input (part of the prompt)
    same("0.0000025", p.amount(t(1, 0, 1, 0, 0)));          // cache write (part of the prompt)
    same("0.000008", p.amount(t(0, 0, 0, 1, 0)));           // output
    same("0.000012", p.amount(t(0, 0, 0, 1, 1)));           // reasoning (part of the completion)
    // all at once: 1,000,000 of each kind -> the rates themselves
    same("25", p.amount(t(3_000_000, 1_000_000, 1_000_000, 2_000_000, 1_000_000)));
    assertEquals(Cost.of(new BigDecimal("25.000"), "EUR", Cost.Status.EXACT),
        p.cost(t(3_000_000, 1_000_000, 1_000_000, 2_000_000, 1_000_000), Cost.Status.EXACT));
  }

  @Test
  void arithmeticIsExactWithoutRounding() {
    Price p = Price.builder("USD").input("0.000000000000000001").output("999999999.999999999999999999").build();
    same("0.000000000000000000000001", p.amount(t(1, 0, 0, 0, 0)));
    same("999.999999999999999999999999", p.amount(t(0, 0, 0, 1, 0)));
    // a long count times a rate never overflows
    same("9223372036854.775807", Price.builder("USD").input("1").output("1").build()
        .amount(t(Long.MAX_VALUE, 0, 0, 0, 0)));
  }

  @Test
  void defaultsBillCacheAsInputAndReasoningAsOutput() {
    Price p = Price.builder("USD").input("3").output("15").build();
    assertEquals(new BigDecimal("3"), p.cachedInput());
    assertEquals(new BigDecimal("3"), p.cacheWrite());
    assertEquals(new BigDecimal("15"), p.reasoning());
    same("0.000036", p.amount(t(2, 1, 1, 2, 1))); // 2 x 3 + 2 x 15
  }

  @Test
  void contextTiersApplyAboveTheirThresholdToEveryComponent() {
    Price p = Price.builder("USD").input("3").cachedInput("0.30").cacheWrite("3.75").output("15")
        .above(200_000, Price.builder("USD").input("6").cachedInput("0.60").cacheWrite("7.50").output("22.50").build())
        .above(1_000_000, Price.builder("USD").input("9").output("30").build())
        .build();
    assertSame(p, p.forPrompt(200_000));
    assertEquals(new BigDecimal("6"), p.forPrompt(200_001).input());
    assertEquals(new BigDecimal("9"), p.forPrompt(1_000_001).input());
    // 200,000 prompt (all uncached), 1,000 output: base rates
    same("0.615", p.amount(t(200_000, 0, 0, 1_000, 0)));
    // 200,001 prompt of which 100,000 cached and 50,000 written: tier rates for every component
    // 50,001 x 6 + 100,000 x 0.60 + 50,000 x 7.50 + 1,000 x 22.50 = 300006 + 60000 + 375000 + 22500
    same("0.757506", p.amount(t(200_001, 100_000, 50_000, 1_000, 0)));
    assertEquals(2, p.tiers().size());
  }

  @Test
  void inconsistentCountsArePricedAsReportedAndFlagged() {
    Price p = Price.builder("USD").input("1").cachedInput("0.5").output("2").build();
    TokenCounts odd = t(10, 20, 0, 1, 5);
    assertFalse(Price.consistent(odd));
    assertTrue(Price.consistent(t(10, 5, 5, 5, 5)));
    same("0.00002", p.amount(odd)); // 0 uncached, 20 x 0.5, 0 text, 5 x 2
  }

  @Test
  void badInputNamesTheSettingAndTheValue() {
    assertMessage("price.input must not be negative but was -0.01",
        () -> Price.builder("USD").input("-0.01"));
    assertMessage("price.cachedInput must not be negative but was -1", () -> Price.builder("USD").cachedInput("-1"));
    assertMessage("price.cacheWrite must not be negative but was -1",
        () -> Price.builder("USD").cacheWrite(BigDecimal.ONE.negate()));
    assertMessage("price.output must be a decimal number (per 1M tokens) but was 'ten'",
        () -> Price.builder("USD").output("ten"));
    assertMessage("price.reasoning must be below 1000000000 per 1M tokens with at most 18 decimal places but was 10000000000",
        () -> Price.builder("USD").reasoning("1e10"));
    assertMessage("currency must be an ISO 4217 currency code such as USD but was 'usd'", () -> Price.builder("usd"));
    assertMessage("currency must be an ISO 4217 currency code such as USD but was 'ABC'", () -> Price.builder("ABC"));
    assertMessage("price.input is required (per 1M tokens, in USD)", () -> Price.builder("USD").output("1").build());
    assertMessage("price.output is required (per 1M tokens, in USD)", () -> Price.builder("USD").input("1").build());
    Price tier = Price.builder("USD").input("2").output("2").build();
    assertMessage("price tier thresholds must ascend: above 100000 follows above 200000",
        () -> Price.builder("USD").above(200_000, tier).above(100_000, tier));
    assertMessage("price tier thresholds must ascend: above 200000 follows above 200000",
        () -> Price.builder("USD").above(200_000, tier).above(200_000, tier));
    assertMessage("price tier threshold (above) must be >= 1 but was 0", () -> Price.builder("USD").above(0, tier));
    assertMessage("price tier above 5 must be in EUR but was in USD", () -> Price.builder("EUR").above(5, tier));
    Price tiered = Price.builder("USD").input("1").output("1").above(10, tier).build();
    assertMessage("price tier above 20 must not have tiers of its own", () -> Price.builder("USD").above(20, tiered));
    assertMessage("cacheWrite must be >= 0 but was -1", () -> TokenCounts.builder().cacheWrite(-1));
    assertMessage("amount must not be negative but was -1", () -> Cost.of(BigDecimal.ONE.negate(), "USD",
        Cost.Status.EXACT));
    assertMessage("status must be EXACT or ESTIMATED but was UNPRICED (use Cost.UNPRICED)",
        () -> Cost.of(BigDecimal.ONE, "USD", Cost.Status.UNPRICED));
  }

  static void assertMessage(String expected, Runnable r) {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, r::run);
    assertEquals(expected, e.getMessage());
  }

  @Test
  void valuesAndText() {
    Price a = Price.builder("USD").input("1.50").output("2").build();
    Price b = Price.builder("USD").input("1.5").output("2.0").build();
    assertEquals(a, b);
    assertEquals(a.hashCode(), b.hashCode());
    assertEquals("Price{USD per 1M: input=1.50, cachedInput=1.50, cacheWrite=1.50, output=2, reasoning=2}",
        a.toString());
    assertEquals("UNPRICED", Cost.UNPRICED.toString());
    assertEquals("0.054399 USD EXACT", Cost.of(new BigDecimal("0.0543990"), "USD", Cost.Status.EXACT).toString());
    assertTrue(Provider.builder("p").baseUrl("https://x.example/v1").price(a).build().toString().contains("price=Price{USD"));
    assertTrue(Provider.builder("p").baseUrl("https://x.example/v1").price(a).build().toBuilder().build().price()
        .isPresent());
  }

  @Test
  void catalogInLiteLlmShapeIsReadExactly() throws Exception {
    PriceCatalog c;
    try (InputStream in = PriceTest.class.getResourceAsStream("/cost/litellm-catalog.json")) {
      c = PriceCatalog.read(in);
    }
    assertEquals(4, c.size()); // dall-e-3 has no per-token rates
    Price mini = c.price("gpt-4o-mini").orElseThrow();
    assertEquals(Price.builder("USD").input("0.15").cachedInput("0.075").output("0.6").build(), mini);
    assertEquals(mini, c.price("openai/gpt-4o-mini").orElseThrow());
    assertFalse(c.price("gpt-5").isPresent());
    Price sonnet = c.price("claude-sonnet-4-5").orElseThrow();
    assertEquals(new BigDecimal("3.75"), sonnet.cacheWrite());
    Price above = sonnet.forPrompt(200_001);
    assertEquals(Price.builder("USD").input("6").cachedInput("0.6").cacheWrite("7.5").output("22.5").build(), above);
    Price pro = c.price("gemini-2.5-pro").orElseThrow();
    assertEquals(new BigDecimal("10"), pro.forPrompt(300_000).reasoning()); // the tier does not name it: the base's
    assertEquals(new BigDecimal("15"), pro.forPrompt(300_000).output());
  }

  @Test
  void aBadCatalogNamesTheModelAndTheField() {
    assertMessage("price catalog entry 'm': input_cost_per_token must not be negative but was -0.000001",
        () -> PriceCatalog.read(in("{\"m\":{\"input_cost_per_token\":-1e-6,\"output_cost_per_token\":1e-6}}")));
    assertMessage("price catalog entry 'm': output_cost_per_token must be a number but was STRING",
        () -> PriceCatalog.read(in("{\"m\":{\"input_cost_per_token\":1e-6,\"output_cost_per_token\":\"x\"}}")));
    assertMessage("price catalog must be a JSON object of model entries but was ARRAY", () -> PriceCatalog.read(in("[]")));
  }

  static InputStream in(String s) {
    return new ByteArrayInputStream(s.getBytes(StandardCharsets.UTF_8));
  }
}
