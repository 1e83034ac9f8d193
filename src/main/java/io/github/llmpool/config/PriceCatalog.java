package io.github.llmpool.config;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.json.JsonMapper;
import io.github.llmpool.Price;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.math.BigDecimal;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collections;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Prices by model name, read from a file you supply in the shape of LiteLLM's
 * {@code model_prices_and_context_window.json}
 * (<a href="https://github.com/BerriAI/litellm/blob/main/model_prices_and_context_window.json">BerriAI/litellm</a>):
 * an object whose keys are model names and whose values hold per-token rates in US dollars. The
 * library ships no such file and fetches nothing: a catalog is what you give it, as fresh as you
 * keep it.
 *
 * <pre>{@code
 * PriceCatalog catalog = PriceCatalog.read(Path.of("model_prices_and_context_window.json"));
 * Provider mini = Provider.builder("mini").baseUrl("https://api.openai.com/v1").model("gpt-4o-mini")
 *     .price(catalog.price("gpt-4o-mini").orElseThrow())
 *     .build();
 * }</pre>
 *
 * <p>Fields read (per token, converted exactly to the per-1M rates of {@link Price}; every other
 * field is ignored):
 * <ul>
 *   <li>{@code input_cost_per_token} and {@code output_cost_per_token}: required for an entry to be
 *       a price (entries without both, such as image or audio models, are left out);</li>
 *   <li>{@code cache_read_input_token_cost} ({@link Price#cachedInput()}),
 *       {@code cache_creation_input_token_cost} ({@link Price#cacheWrite()}),
 *       {@code output_cost_per_reasoning_token} ({@link Price#reasoning()});</li>
 *   <li>context tiers: any of those five names followed by {@code _above_<N>k_tokens} (e.g.
 *       {@code input_cost_per_token_above_200k_tokens}) makes a tier above {@code N x 1000} prompt
 *       tokens; a rate the tier does not name is the base entry's.</li>
 * </ul>
 * Numbers are read from their decimal text, so {@code 2.5e-06} is exactly 2.5 per 1M. The currency
 * is USD (LiteLLM's). Immutable and thread-safe.
 */
public final class PriceCatalog {
  private static final JsonMapper MAPPER = JsonMapper.builder()
      .enable(DeserializationFeature.USE_BIG_DECIMAL_FOR_FLOATS)
      .enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION)
      .build();
  private static final String[] BASE = {"input_cost_per_token", "cache_read_input_token_cost",
      "cache_creation_input_token_cost", "output_cost_per_token", "output_cost_per_reasoning_token"};
  private static final Pattern TIER = Pattern.compile(
      "(input_cost_per_token|cache_read_input_token_cost|cache_creation_input_token_cost|output_cost_per_token"
          + "|output_cost_per_reasoning_token)_above_(\\d{1,9})k_tokens");

  private final Map<String, Price> prices;

  private PriceCatalog(Map<String, Price> prices) {
    this.prices = Collections.unmodifiableMap(prices);
  }

  /**
   * Reads a catalog file.
   *
   * @throws UncheckedIOException if the file cannot be read
   * @throws IllegalArgumentException if it is not a JSON object of entries, or a rate is not a
   *     non-negative number (the message names the model and the field)
   */
  public static PriceCatalog read(Path file) {
    Objects.requireNonNull(file, "file");
    try (InputStream in = Files.newInputStream(file)) {
      return read(in);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read price catalog " + file, e);
    }
  }

  /**
   * Reads a catalog from a stream (not closed).
   *
   * @throws UncheckedIOException if the stream cannot be read
   * @throws IllegalArgumentException as for {@link #read(Path)}
   */
  public static PriceCatalog read(InputStream in) {
    Objects.requireNonNull(in, "in");
    JsonNode root;
    try {
      root = MAPPER.readTree(new java.io.FilterInputStream(in) {
        @Override
        public void close() {
          // the caller's stream stays open
        }
      });
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      throw new IllegalArgumentException("price catalog is not valid JSON: " + e.getOriginalMessage());
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read price catalog", e);
    }
    if (root == null || !root.isObject()) {
      throw new IllegalArgumentException("price catalog must be a JSON object of model entries but was "
          + (root == null ? "empty" : root.getNodeType()));
    }
    Map<String, Price> out = new TreeMap<>();
    for (Map.Entry<String, JsonNode> e : root.properties()) {
      if (!e.getValue().isObject()) {
        continue;
      }
      Price p;
      try {
        p = entry(e.getKey(), e.getValue());
      } catch (IllegalArgumentException x) {
        if (x.getMessage() != null && x.getMessage().startsWith("price catalog")) {
          throw x;
        }
        throw new IllegalArgumentException("price catalog entry '" + e.getKey() + "': " + x.getMessage());
      }
      if (p != null) {
        out.put(e.getKey(), p);
      }
    }
    return new PriceCatalog(out);
  }

  private static Price entry(String model, JsonNode n) {
    BigDecimal[] base = new BigDecimal[BASE.length];
    for (int i = 0; i < BASE.length; i++) {
      base[i] = rate(model, BASE[i], n.get(BASE[i]));
    }
    if (base[0] == null || base[3] == null) {
      return null; // not priced per token
    }
    TreeMap<Long, BigDecimal[]> tiers = new TreeMap<>();
    for (Map.Entry<String, JsonNode> field : n.properties()) {
      String f = field.getKey();
      Matcher m = TIER.matcher(f);
      if (!m.matches()) {
        continue;
      }
      BigDecimal v = rate(model, f, n.get(f));
      if (v == null) {
        continue;
      }
      long above = Long.parseLong(m.group(2)) * 1000;
      int k = indexOf(m.group(1));
      tiers.computeIfAbsent(above, x -> new BigDecimal[BASE.length])[k] = v;
    }
    Price.Builder b = rates(Price.builder("USD"), base, base);
    for (Map.Entry<Long, BigDecimal[]> t : tiers.entrySet()) {
      if (t.getKey() < 1) {
        continue;
      }
      b.above(t.getKey(), rates(Price.builder("USD"), t.getValue(), base).build());
    }
    return b.build();
  }

  private static Price.Builder rates(Price.Builder b, BigDecimal[] r, BigDecimal[] base) {
    b.input(perMillion(r[0] != null ? r[0] : base[0]));
    BigDecimal cacheRead = r[1] != null ? r[1] : base[1];
    if (cacheRead != null) {
      b.cachedInput(perMillion(cacheRead));
    }
    BigDecimal cacheWrite = r[2] != null ? r[2] : base[2];
    if (cacheWrite != null) {
      b.cacheWrite(perMillion(cacheWrite));
    }
    b.output(perMillion(r[3] != null ? r[3] : base[3]));
    BigDecimal reasoning = r[4] != null ? r[4] : base[4];
    if (reasoning != null) {
      b.reasoning(perMillion(reasoning));
    }
    return b;
  }

  private static int indexOf(String base) {
    for (int i = 0; i < BASE.length; i++) {
      if (BASE[i].equals(base)) {
        return i;
      }
    }
    throw new IllegalStateException(base);
  }

  private static BigDecimal perMillion(BigDecimal perToken) {
    BigDecimal v = perToken.movePointRight(6).stripTrailingZeros();
    return v.scale() < 0 ? v.setScale(0) : v;
  }

  private static BigDecimal rate(String model, String field, JsonNode v) {
    if (v == null || v.isNull()) {
      return null;
    }
    if (!v.isNumber()) {
      throw new IllegalArgumentException("price catalog entry '" + model + "': " + field + " must be a number but was "
          + v.getNodeType());
    }
    BigDecimal d = v.decimalValue();
    if (d.signum() < 0) {
      throw new IllegalArgumentException("price catalog entry '" + model + "': " + field
          + " must not be negative but was " + d.toPlainString());
    }
    if (d.compareTo(BigDecimal.valueOf(1000)) >= 0) {
      throw new IllegalArgumentException("price catalog entry '" + model + "': " + field
          + " must be below 1000 per token but was " + d.toPlainString());
    }
    return d;
  }

  /**
   * The price of {@code model}: the entry of that exact name; else, for a name with a provider
   * prefix such as {@code openai/gpt-4o}, the entry named without it ({@code gpt-4o}).
   */
  public Optional<Price> price(String model) {
    Objects.requireNonNull(model, "model");
    Price p = prices.get(model);
    if (p == null) {
      int slash = model.indexOf('/');
      if (slash > 0 && slash < model.length() - 1) {
        p = prices.get(model.substring(slash + 1));
      }
    }
    return Optional.ofNullable(p);
  }

  /** The model names that have a price, sorted. */
  public java.util.Set<String> models() {
    return Collections.unmodifiableSet(new TreeSet<>(prices.keySet()));
  }

  /** How many entries have a price. */
  public int size() {
    return prices.size();
  }

  @Override
  public String toString() {
    return "PriceCatalog{" + prices.size() + " models}";
  }
}
