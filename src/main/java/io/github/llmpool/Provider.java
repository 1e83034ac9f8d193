package io.github.llmpool;

import java.net.InetAddress;
import java.net.URI;
import java.net.URISyntaxException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.OptionalLong;

/**
 * An immutable description of one OpenAI-compatible endpoint: a unique name, a base URL with its
 * path prefix, an optional credential, an optional model override, a weight and extra headers.
 *
 * <pre>{@code
 * Provider mini = Provider.builder("mini")
 *     .baseUrl("https://api.openai.com/v1")
 *     .apiKey(System.getenv("OPENAI_API_KEY"))
 *     .model("gpt-4o-mini")
 *     .weight(80)
 *     .build();
 * }</pre>
 *
 * <p>Thread-safe (immutable). {@link #toString()} never shows the API key.
 */
public final class Provider {

  /** Default weight: 1. */
  public static final int DEFAULT_WEIGHT = 1;

  /** Default concurrency: 1 (every request in flight counts as one more latency to wait for). */
  public static final int DEFAULT_CONCURRENCY = 1;

  /** Default credential header: {@code Authorization}, sent as {@code Bearer <key>}. */
  public static final String DEFAULT_API_KEY_HEADER = "Authorization";

  private final String name;
  private final URI baseUrl;
  private final String apiKey; // never printed
  private final String apiKeyHeader;
  private final String model;
  private final int weight;
  private final int concurrency;
  private final Map<String, String> headers;
  private final boolean includeUsage;
  private final boolean allowPlaintextKey;
  private final int requestsPerMinute; // -1: not configured
  private final long tokensPerMinute; // -1: not configured
  private final String quotaGroup; // null: none
  private final Price price; // null: unpriced

  private Provider(Builder b, URI baseUrl) {
    this.price = b.price;
    this.name = b.name;
    this.baseUrl = baseUrl;
    this.apiKey = b.apiKey;
    this.apiKeyHeader = b.apiKeyHeader;
    this.model = b.model;
    this.weight = b.weight;
    this.concurrency = b.concurrency;
    this.headers = Collections.unmodifiableMap(new LinkedHashMap<>(b.headers));
    this.includeUsage = b.includeUsage;
    this.allowPlaintextKey = b.allowPlaintextKey;
    this.requestsPerMinute = b.requestsPerMinute;
    this.tokensPerMinute = b.tokensPerMinute;
    this.quotaGroup = b.quotaGroup;
  }

  /** Starts a builder for a provider with this unique, non-blank name. */
  public static Builder builder(String name) {
    Objects.requireNonNull(name, "name");
    if (name.isBlank()) {
      throw new IllegalArgumentException("name must not be blank but was '" + name + "'");
    }
    return new Builder(name);
  }

  /** The provider's unique name within its pool. */
  public String name() {
    return name;
  }

  /** The base URL, e.g. {@code https://api.openai.com/v1}, without a trailing slash. */
  public URI baseUrl() {
    return baseUrl;
  }

  /** Whether a credential is configured (the key itself is not exposed). */
  public boolean hasApiKey() {
    return apiKey != null;
  }

  /** The header that carries the credential: {@code Authorization} (Bearer) or e.g. {@code api-key}. */
  public String apiKeyHeader() {
    return apiKeyHeader;
  }

  /** The model that replaces the request body's top-level {@code model}, if any. */
  public Optional<String> model() {
    return Optional.ofNullable(model);
  }

  /** The weight within its tier; 0 takes no traffic. */
  public int weight() {
    return weight;
  }

  /** How many requests the provider answers in parallel without slowing down (P2C's load term). */
  public int concurrency() {
    return concurrency;
  }

  /** The configured requests-per-minute limit, if any (enforced when the pool routes on quota, shown in snapshots). */
  public OptionalInt requestsPerMinute() {
    return requestsPerMinute < 0 ? OptionalInt.empty() : OptionalInt.of(requestsPerMinute);
  }

  /** The configured tokens-per-minute limit, if any (enforced when the pool routes on quota, shown in snapshots). */
  public OptionalLong tokensPerMinute() {
    return tokensPerMinute < 0 ? OptionalLong.empty() : OptionalLong.of(tokensPerMinute);
  }

  /**
   * The quota group: providers that share one account's limits (the same key behind several models
   * or deployments), if any. See {@link Builder#quotaGroup(String)}.
   */
  public java.util.Optional<String> quotaGroup() {
    return java.util.Optional.ofNullable(quotaGroup);
  }

  /** What the provider charges; empty when it has no price (its usage is {@link Cost#UNPRICED}). */
  public Optional<Price> price() {
    return Optional.ofNullable(price);
  }

  /** Extra headers set on every request to this provider (values are not secret-checked). */
  public Map<String, String> headers() {
    return headers;
  }

  /** Whether streaming requests get {@code stream_options.include_usage} added (default true). */
  public boolean includeUsage() {
    return includeUsage;
  }

  /** The credential as it is sent; package-private so it never leaves the library. */
  String credentialValue() {
    if (apiKey == null) {
      return null;
    }
    return apiKeyHeader.equalsIgnoreCase(DEFAULT_API_KEY_HEADER) ? "Bearer " + apiKey : apiKey;
  }

  /** A copy of this provider with another weight (used by runtime reconfiguration). */
  public Provider withWeight(int newWeight) {
    Builder b = toBuilder();
    b.weight(newWeight);
    return b.build();
  }

  /** A builder initialised with this provider's settings, the key included. */
  public Builder toBuilder() {
    Builder b = new Builder(name);
    b.baseUrl = baseUrl.toString();
    b.apiKey = apiKey;
    b.apiKeyHeader = apiKeyHeader;
    b.model = model;
    b.weight = weight;
    b.concurrency = concurrency;
    b.headers.putAll(headers);
    b.includeUsage = includeUsage;
    b.allowPlaintextKey = allowPlaintextKey;
    b.requestsPerMinute = requestsPerMinute;
    b.tokensPerMinute = tokensPerMinute;
    b.quotaGroup = quotaGroup;
    b.price = price;
    return b;
  }

  @Override
  public String toString() {
    return "Provider{name=" + name + ", baseUrl=" + baseUrl
        + ", apiKey=" + (apiKey == null ? "none" : "****") + (apiKey == null ? "" : " in " + apiKeyHeader)
        + ", model=" + (model == null ? "as requested" : model)
        + ", weight=" + weight
        + (concurrency == DEFAULT_CONCURRENCY ? "" : ", concurrency=" + concurrency)
        + (requestsPerMinute < 0 ? "" : ", requestsPerMinute=" + requestsPerMinute)
        + (tokensPerMinute < 0 ? "" : ", tokensPerMinute=" + tokensPerMinute)
        + (quotaGroup == null ? "" : ", quotaGroup=" + quotaGroup)
        + (price == null ? "" : ", price=" + price)
        + (headers.isEmpty() ? "" : ", headers=" + new ArrayList<>(headers.keySet()))
        + (includeUsage ? "" : ", includeUsage=false") + "}";
  }

  /**
   * A mutable, not thread-safe builder. {@link #build()} validates and returns an immutable
   * {@link Provider}.
   */
  public static final class Builder {
    private final String name;
    private String baseUrl;
    private String apiKey;
    private String apiKeyHeader = DEFAULT_API_KEY_HEADER;
    private String model;
    private int weight = DEFAULT_WEIGHT;
    private int concurrency = DEFAULT_CONCURRENCY;
    private final Map<String, String> headers = new LinkedHashMap<>();
    private boolean includeUsage = true;
    private boolean allowPlaintextKey;
    private int requestsPerMinute = -1;
    private long tokensPerMinute = -1;
    private String quotaGroup;
    private Price price;

    private Builder(String name) {
      this.name = name;
    }

    /**
     * Required. The endpoint's base URL, http or https, with its path prefix:
     * {@code https://api.openai.com/v1}, {@code https://generativelanguage.googleapis.com/v1beta/openai},
     * {@code http://localhost:8090/v1}. A query or fragment is not allowed.
     */
    public Builder baseUrl(String baseUrl) {
      this.baseUrl = Objects.requireNonNull(baseUrl, "baseUrl");
      return this;
    }

    /**
     * The API key. Default: none (no credential header is sent). Sent as
     * {@code Authorization: Bearer <key>} unless {@link #apiKeyHeader(String)} names another
     * header, where the raw key is sent. Must not be blank. Never printed.
     */
    public Builder apiKey(String apiKey) {
      Objects.requireNonNull(apiKey, "apiKey");
      if (apiKey.isBlank()) {
        throw new IllegalArgumentException("apiKey of provider '" + name + "' must not be blank");
      }
      requireHeaderSafe("apiKey", apiKey);
      this.apiKey = apiKey;
      return this;
    }

    /**
     * The header that carries the key. Default {@value #DEFAULT_API_KEY_HEADER_NAME} (as a Bearer
     * token); Azure OpenAI uses {@code api-key}, which gets the raw key.
     */
    public Builder apiKeyHeader(String headerName) {
      Objects.requireNonNull(headerName, "apiKeyHeader");
      if (!isToken(headerName)) {
        throw new IllegalArgumentException("apiKeyHeader must be a header name but was '" + headerName + "'");
      }
      this.apiKeyHeader = headerName;
      return this;
    }

    private static final String DEFAULT_API_KEY_HEADER_NAME = DEFAULT_API_KEY_HEADER;

    /** The model that replaces the request's top-level {@code model}. Default: none (sent as requested). */
    public Builder model(String model) {
      Objects.requireNonNull(model, "model");
      if (model.isBlank()) {
        throw new IllegalArgumentException("model of provider '" + name + "' must not be blank");
      }
      this.model = model;
      return this;
    }

    /** Weight within the tier, {@code >= 0}. Default {@value Provider#DEFAULT_WEIGHT}; 0 takes no traffic. */
    public Builder weight(int weight) {
      if (weight < 0) {
        throw new IllegalArgumentException("weight must be >= 0 but was " + weight + " (provider '" + name + "')");
      }
      this.weight = weight;
      return this;
    }

    /**
     * How many requests this provider answers in parallel without slowing down, {@code >= 1}.
     * Default {@value Provider#DEFAULT_CONCURRENCY}. Power of two choices costs a provider as
     * {@code latency estimate x (1 + in-flight / concurrency)}: with 1, every request the pool has in
     * flight with it counts as one more latency to wait for (right for a self-hosted server that
     * queues); a hosted API that serves your requests in parallel is better described by a larger
     * value (e.g. 8 to 32), which stops a few requests in flight from making a fast provider look as
     * expensive as a slow idle one. Only {@link Strategy#POWER_OF_TWO_CHOICES} uses it.
     */
    public Builder concurrency(int concurrency) {
      if (concurrency < 1) {
        throw new IllegalArgumentException("concurrency must be >= 1 but was " + concurrency + " (provider '" + name
            + "')");
      }
      this.concurrency = concurrency;
      return this;
    }

    /**
     * The provider's known requests-per-minute limit, {@code >= 1}, for a server that sends no
     * rate-limit headers (self-hosted, some OpenAI-compatible APIs). Default: none. Shown in
     * {@code pool.snapshot()} ({@link Quota.Source#CONFIGURATION}) until a response's headers say
     * more. With quota routing on (the default, {@code ProviderPool.Builder.quotaRouting}) the pool
     * enforces it: a request goes to the provider only while a minute's worth of requests is not
     * used up (a bucket that refills one request per {@code 60 s / limit}).
     */
    public Builder requestsPerMinute(int requestsPerMinute) {
      if (requestsPerMinute < 1) {
        throw new IllegalArgumentException("requestsPerMinute must be >= 1 but was " + requestsPerMinute
            + " (provider '" + name + "')");
      }
      this.requestsPerMinute = requestsPerMinute;
      return this;
    }

    /**
     * The provider's known tokens-per-minute limit, {@code >= 1}; as for {@link
     * #requestsPerMinute(int)}. Default: none.
     */
    public Builder tokensPerMinute(long tokensPerMinute) {
      if (tokensPerMinute < 1) {
        throw new IllegalArgumentException("tokensPerMinute must be >= 1 but was " + tokensPerMinute
            + " (provider '" + name + "')");
      }
      this.tokensPerMinute = tokensPerMinute;
      return this;
    }

    /**
     * Puts the provider in a quota group: providers that share one account (the same key behind
     * several models or deployments). The group's headroom is shared: what any member's rate-limit
     * headers say, and the group's configured limits, hold for all of them; an account-wide signal
     * ({@code insufficient_quota}, a billing limit: {@link Outcome#QUOTA_EXHAUSTED}) takes every
     * member out of rotation together. Members that configure per-minute limits must configure the
     * same ones. Default: none (the provider's quota is its own).
     *
     * @param group a non-blank name, unique to the account
     */
    public Builder quotaGroup(String group) {
      if (group == null || group.isBlank()) {
        throw new IllegalArgumentException("quotaGroup must be a non-blank name but was "
            + (group == null ? "null" : "'" + group + "'") + " (provider '" + name + "')");
      }
      this.quotaGroup = group;
      return this;
    }

    /**
     * What the provider charges per 1M tokens; every attempt's usage then carries its
     * {@link Cost}, and {@code pool.snapshot()} the provider's spend. Default: none (usage is
     * {@link Cost#UNPRICED}; there is no built-in price list). See {@link io.github.llmpool.config.PriceCatalog} to take
     * prices from a catalog file.
     *
     * @throws NullPointerException if {@code price} is null
     */
    public Builder price(Price price) {
      this.price = Objects.requireNonNull(price, "price");
      return this;
    }

    /**
     * An extra header set on every request to this provider, replacing an inbound one. Default: none.
     * Like the key, it is removed from the requests handed back to the caller and from redirects
     * to another host (with {@code pool.redirectGuard()}), and a value of 8 characters or more is
     * masked in any text the pool hands back (exception messages, an upstream's echo).
     */
    public Builder header(String headerName, String value) {
      Objects.requireNonNull(headerName, "headerName");
      Objects.requireNonNull(value, "value");
      if (!isToken(headerName)) {
        throw new IllegalArgumentException("header name must be a token but was '" + headerName + "'");
      }
      requireHeaderSafe("value of header '" + headerName + "'", value);
      headers.put(headerName, value);
      return this;
    }

    /**
     * Whether a streaming request without {@code stream_options} gets
     * {@code "stream_options":{"include_usage":true}} added. Default true; turn it off for servers
     * that reject the field. A caller's own {@code stream_options} is never changed.
     */
    public Builder includeUsage(boolean includeUsage) {
      this.includeUsage = includeUsage;
      return this;
    }

    /**
     * Allow sending the API key over plain http to a host that is not loopback. Default false:
     * {@link #build()} refuses such a provider, because the key would cross the network in clear
     * text.
     */
    public Builder allowPlaintextKey(boolean allow) {
      this.allowPlaintextKey = allow;
      return this;
    }

    /** Validates and returns the immutable provider. */
    public Provider build() {
      if (baseUrl == null) {
        throw new IllegalArgumentException("baseUrl of provider '" + name + "' is required");
      }
      URI uri = parseBaseUrl(name, baseUrl);
      if (apiKey != null && "http".equals(uri.getScheme()) && !allowPlaintextKey && !isLoopback(uri.getHost())) {
        throw new IllegalArgumentException("baseUrl of provider '" + name + "' is plain http to a non-loopback host ("
            + uri.getHost() + ") and would send the API key in clear text; use https or allowPlaintextKey(true)");
      }
      return new Provider(this, uri);
    }

    private static URI parseBaseUrl(String name, String raw) {
      URI uri;
      try {
        uri = new URI(raw.trim());
      } catch (URISyntaxException e) {
        throw new IllegalArgumentException("baseUrl of provider '" + name + "' is malformed: '" + raw + "'", e);
      }
      String scheme = uri.getScheme() == null ? null : uri.getScheme().toLowerCase(Locale.ROOT);
      if (!"http".equals(scheme) && !"https".equals(scheme)) {
        throw new IllegalArgumentException("baseUrl of provider '" + name + "' must be http or https but was '" + raw + "'");
      }
      if (uri.getHost() == null || uri.getHost().isEmpty()) {
        throw new IllegalArgumentException("baseUrl of provider '" + name + "' has no host: '" + raw + "'");
      }
      if (uri.getRawQuery() != null || uri.getRawFragment() != null || uri.getRawUserInfo() != null) {
        throw new IllegalArgumentException("baseUrl of provider '" + name
            + "' must not have a query, fragment or user info but was '" + raw + "'");
      }
      String path = uri.getRawPath() == null ? "" : uri.getRawPath();
      while (path.endsWith("/")) {
        path = path.substring(0, path.length() - 1);
      }
      try {
        return new URI(scheme + "://" + uri.getRawAuthority() + path);
      } catch (URISyntaxException e) {
        throw new IllegalArgumentException("baseUrl of provider '" + name + "' is malformed: '" + raw + "'", e);
      }
    }

    private static boolean isLoopback(String host) {
      String h = host.startsWith("[") ? host.substring(1, host.length() - 1) : host;
      if (h.equalsIgnoreCase("localhost")) {
        return true;
      }
      // Only literals are resolved, so this never performs a DNS lookup.
      if (h.matches("\\d{1,3}(\\.\\d{1,3}){3}") || (h.indexOf(':') >= 0 && h.matches("[0-9a-fA-F:.]+"))) {
        try {
          return InetAddress.getByName(h).isLoopbackAddress();
        } catch (java.net.UnknownHostException e) {
          return false;
        }
      }
      return false;
    }

    /** OkHttp sends only tab and visible ASCII in a header value; the value itself is never shown. */
    private void requireHeaderSafe(String what, String value) {
      for (int i = 0; i < value.length(); i++) {
        char c = value.charAt(i);
        if (c != '\t' && (c < 0x20 || c > 0x7e)) {
          throw new IllegalArgumentException(what + " of provider '" + name + "' contains a character not allowed in"
              + " an HTTP header (0x" + Integer.toHexString(c) + " at index " + i + "); the value is not shown");
        }
      }
    }

    private static boolean isToken(String s) {
      if (s.isEmpty()) {
        return false;
      }
      for (int i = 0; i < s.length(); i++) {
        char c = s.charAt(i);
        if (c <= ' ' || c >= 127 || "()<>@,;:\\\"/[]?={}".indexOf(c) >= 0) {
          return false;
        }
      }
      return true;
    }
  }
}
