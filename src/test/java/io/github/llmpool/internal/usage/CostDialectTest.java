package io.github.llmpool.internal.usage;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.llmpool.Price;
import io.github.llmpool.TokenCounts;
import java.io.IOException;
import java.io.InputStream;
import java.math.BigDecimal;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;

/**
 * Which tokens are part of which, per dialect, as the usage parser reads real usage shapes
 * (src/test/resources/cost/README.md says where each comes from), and the exact price of each
 * without double counting. Every body is fed whole, byte by byte and in random chunks (the fast
 * JSON path and the Jackson path must agree).
 */
class CostDialectTest {

  static byte[] resource(String name) {
    try (InputStream in = CostDialectTest.class.getResourceAsStream("/cost/" + name)) {
      return in.readAllBytes();
    } catch (IOException | NullPointerException e) {
      throw new AssertionError("missing test resource cost/" + name, e);
    }
  }

  /** The counts as the pool makes them from a parse (AttemptLease does the same). */
  static TokenCounts counts(UsageResult r) {
    return TokenCounts.builder().prompt(r.promptTokens()).completion(r.completionTokens()).total(r.totalTokens())
        .cached(r.cachedTokens()).reasoning(r.reasoningTokens()).cacheWrite(r.cacheWriteTokens()).build();
  }

  /** Parses in every feeding mode, checks they agree, returns the counts. */
  static TokenCounts parse(String name) {
    Supplier<UsageParser> f = name.endsWith(".sse") ? UsageParser::sse : UsageParser::json;
    byte[] body = resource(name);
    UsageResult whole = Feed.run(f, body, Feed.Mode.WHOLE, 0);
    assertTrue(whole.reported(), name + " reported no usage");
    for (Feed.Mode m : Feed.Mode.values()) {
      for (long seed = 1; seed <= (m == Feed.Mode.RANDOM_CHUNKS ? 20 : 1); seed++) {
        assertEquals(whole, Feed.run(f, body, m, seed), name + " " + m + " seed " + seed);
      }
    }
    return counts(whole);
  }

  static TokenCounts tokens(long prompt, long cached, long cacheWrite, long completion, long reasoning, long total) {
    return TokenCounts.builder().prompt(prompt).cached(cached).cacheWrite(cacheWrite).completion(completion)
        .reasoning(reasoning).total(total).build();
  }

  static void assertAmount(String expected, BigDecimal actual) {
    assertEquals(0, new BigDecimal(expected).compareTo(actual), "expected " + expected + " but was "
        + actual.toPlainString());
  }

  // ------------------------------------------------------------------ OpenAI convention

  @Test
  void openAiCachedIsPartOfPromptAndReasoningOfCompletion() {
    TokenCounts t = parse("openai-chat.json");
    assertEquals(tokens(23, 12, 0, 57, 40, 80), t);
    // gpt-4o-mini-like rates: 0.15 input, 0.075 cached, 0.60 output; reasoning billed as output
    Price p = Price.builder("USD").input("0.15").cachedInput("0.075").output("0.60").build();
    // (23-12) x 0.15 + 12 x 0.075 + (57-40) x 0.60 + 40 x 0.60 = 1.65 + 0.9 + 10.2 + 24 = 36.75 per 1M
    assertAmount("0.00003675", p.amount(t));
    Price separate = Price.builder("USD").input("0.15").cachedInput("0.075").output("0.60").reasoning("2").build();
    // 1.65 + 0.9 + 10.2 + 80 = 92.75
    assertAmount("0.00009275", separate.amount(t));
  }

  @Test
  void azureHasTheOpenAiShape() {
    TokenCounts t = parse("azure-chat-cached.json");
    assertEquals(tokens(2006, 1920, 0, 300, 192, 2306), t);
    Price o3mini = Price.builder("USD").input("1.10").cachedInput("0.55").output("4.40").build();
    // 86 x 1.10 + 1920 x 0.55 + 300 x 4.40 = 94.6 + 1056 + 1320 = 2470.6
    assertAmount("0.0024706", o3mini.amount(t));
  }

  @Test
  void deepSeekCacheHitIsPartOfPrompt() {
    TokenCounts hitOnly = parse("deepseek-chat-cache-hit-only.json");
    assertEquals(tokens(1000, 640, 0, 50, 0, 1050), hitOnly);
    Price chat = Price.builder("USD").input("0.27").cachedInput("0.07").output("1.10").build();
    // 360 x 0.27 + 640 x 0.07 + 50 x 1.10 = 97.2 + 44.8 + 55 = 197
    assertAmount("0.000197", chat.amount(hitOnly));

    TokenCounts both = parse("deepseek-reasoner-cache-hit.json"); // details win; the same figure
    assertEquals(tokens(1000, 800, 0, 200, 150, 1200), both);
    Price reasoner = Price.builder("USD").input("0.55").cachedInput("0.14").output("2.19").build();
    // 200 x 0.55 + 800 x 0.14 + 200 x 2.19 = 110 + 112 + 438 = 660
    assertAmount("0.00066", reasoner.amount(both));

    TokenCounts stream = parse("deepseek-chat-stream.sse");
    assertEquals(tokens(10, 0, 0, 2, 0, 12), stream);
  }

  @Test
  void responsesApiStream() {
    assertEquals(tokens(37, 0, 0, 11, 0, 48), parse("responses-stream.sse"));
  }

  @Test
  void aGatewaysOpenAiShapeWithAnthropicCacheFieldsCountsTheCacheOnce() {
    // LiteLLM proxy output (#11364): prompt_tokens already holds the cache reads and writes.
    TokenCounts t = parse("litellm-proxy-anthropic.json");
    assertEquals(tokens(98805, 66360, 32435, 5120, 1710, 103925), t);
    Price opus45 = Price.builder("USD").input("5").cachedInput("0.50").cacheWrite("6.25").output("25").build();
    // 10 x 5 + 66360 x 0.5 + 32435 x 6.25 + 5120 x 25 = 50 + 33180 + 202718.75 + 128000 = 363948.75
    assertAmount("0.36394875", opus45.amount(t));
  }

  // ------------------------------------------------------------------ Anthropic

  /** LiteLLM #9812: billed $0.091311; Anthropic's console said $0.05439. */
  @Test
  void litellm9812AnthropicCacheWriteIsNotChargedTwice() {
    TokenCounts t = parse("anthropic-message-cache-write.json");
    // input_tokens (3) excludes cache_creation_input_tokens (12304): the prompt is their sum
    assertEquals(tokens(12307, 0, 12304, 550, 0, 0), t);
    Price sonnet37 = Price.builder("USD").input("3").cachedInput("0.30").cacheWrite("3.75").output("15").build();
    // 3 x 3 + 12304 x 3.75 + 550 x 15 = 9 + 46140 + 8250 = 54399 per 1M
    assertAmount("0.054399", sonnet37.amount(t));
  }

  /** LiteLLM #11789: a cached Anthropic stream billed $0.002059 instead of $0.000292. */
  @Test
  void litellm11789AnthropicStreamWithCacheReadIsPricedOnce() {
    TokenCounts t = parse("anthropic-stream-cache-read.sse");
    // message_start: input 4, cache read 2455; message_delta: output 23 (cumulative), input kept
    assertEquals(tokens(2459, 2455, 0, 23, 0, 0), t);
    Price haiku35 = Price.builder("USD").input("0.80").cachedInput("0.08").cacheWrite("1").output("4").build();
    // 4 x 0.80 + 2455 x 0.08 + 23 x 4 = 3.2 + 196.4 + 92 = 291.6 per 1M
    assertAmount("0.0002916", haiku35.amount(t));
    UsageResult r = Feed.run(UsageParser::sse, resource("anthropic-stream-cache-read.sse"), Feed.Mode.WHOLE, 0);
    assertTrue(r.terminated(), "message_stop ends an Anthropic stream");
    assertEquals("claude-3-5-haiku-20241022", r.servedModel());
  }

  @Test
  void anthropicStreamCutAfterMessageStartKeepsWhatWasReported() {
    String all = new String(resource("anthropic-stream-cache-read.sse"), java.nio.charset.StandardCharsets.UTF_8);
    byte[] cut = all.substring(0, all.indexOf("event: message_delta")).getBytes(java.nio.charset.StandardCharsets.UTF_8);
    UsageResult r = Feed.run(UsageParser::sse, cut, Feed.Mode.WHOLE, 0);
    assertEquals(false, r.terminated());
    assertEquals(tokens(2459, 2455, 0, 1, 0, 0), counts(r));
  }

  // ------------------------------------------------------------------ Gemini

  /** LiteLLM #14849: Gemini cache hits charged twice, $0.7642 instead of $0.1849. */
  @Test
  void litellm14849GeminiCachedTokensAreChargedOnce() {
    Price asInTheIssue = Price.builder("USD").input("1.25").cachedInput("0.625").output("10").build();
    // 5005 x 1.25 + 257955 x 0.625 + 1744 x 10 = 6256.25 + 161221.875 + 17440 = 184918.125 per 1M
    TokenCounts native_ = parse("gemini-cached.json"); // cachedContentTokenCount is part of promptTokenCount
    assertEquals(tokens(262960, 257955, 0, 1744, 0, 264704), native_);
    assertAmount("0.184918125", asInTheIssue.amount(native_));
    TokenCounts openAiShape = parse("gemini-openai-cached.json"); // the usage block of the issue
    assertEquals(native_, openAiShape);
    assertAmount("0.184918125", asInTheIssue.amount(openAiShape));
  }

  @Test
  void geminiThoughtsAreApartFromCandidatesAndJoinTheCompletion() {
    TokenCounts t = parse("gemini-thoughts.json");
    assertEquals(tokens(20, 0, 0, 533, 382, 553), t); // 151 candidates + 382 thoughts
    Price flash = Price.builder("USD").input("0.30").output("2.50").build();
    // 20 x 0.30 + 533 x 2.50 = 6 + 1332.5
    assertAmount("0.0013385", flash.amount(t));
    TokenCounts stream = parse("gemini-stream-thoughts.sse"); // cumulative: the last usageMetadata wins
    assertEquals(t, stream);
  }
}
