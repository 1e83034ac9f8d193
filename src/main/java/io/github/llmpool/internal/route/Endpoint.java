package io.github.llmpool.internal.route;

import io.github.llmpool.Price;
import java.util.List;
import java.util.Map;

/**
 * A provider resolved for routing: where to send a request and how to sign it. Built by the pool
 * from a {@code Provider}; immutable. {@link #toString()} never shows the credential. It holds the
 * credential, so it never rides on a request (as a tag) or on anything else handed to a caller:
 * {@link #scope} is what may.
 */
public final class Endpoint {
  public final String name;
  public final String scheme;
  public final String host;
  public final int port;
  /** The encoded path prefix without a trailing slash, e.g. {@code /v1} or {@code ""}. */
  public final String pathPrefix;
  /** The credential header's name, or null when the provider has no key. */
  public final String credentialHeader;
  private final String credentialValue;
  /** The model override, or null. */
  public final String model;
  /** Extra headers as name/value pairs. */
  public final List<Map.Entry<String, String>> headers;
  public final boolean includeUsage;
  /** Requests the provider answers in parallel without slowing down (P2C cost), at least 1. */
  public final int concurrency;
  /** The configured requests-per-minute limit, or -1. */
  public final int requestsPerMinute;
  /** The configured tokens-per-minute limit, or -1. */
  public final long tokensPerMinute;
  /** The quota group (providers sharing one account's limits), or null. */
  public final String quotaGroup;
  /** What the provider charges, or null (unpriced). Read only where usage is reported, never by a pick. */
  public final Price price;
  /**
   * Host, port and the names of the headers that carry the credential and the extra headers,
   * without their values; null when the provider sets neither.
   */
  public final CredentialScope scope;
  /**
   * What the HTTP layer derives from this endpoint and keeps for the next request (the last URL it
   * built here, the quoted model): any immutable object, published whole, read and replaced
   * without a lock; never anything holding the credential.
   */
  private volatile Object memo;

  public Endpoint(String name, String scheme, String host, int port, String pathPrefix, String credentialHeader,
      String credentialValue, String model, List<Map.Entry<String, String>> headers, boolean includeUsage) {
    this(name, scheme, host, port, pathPrefix, credentialHeader, credentialValue, model, headers, includeUsage, 1);
  }

  public Endpoint(String name, String scheme, String host, int port, String pathPrefix, String credentialHeader,
      String credentialValue, String model, List<Map.Entry<String, String>> headers, boolean includeUsage,
      int concurrency) {
    this(name, scheme, host, port, pathPrefix, credentialHeader, credentialValue, model, headers, includeUsage,
        concurrency, -1, -1);
  }

  public Endpoint(String name, String scheme, String host, int port, String pathPrefix, String credentialHeader,
      String credentialValue, String model, List<Map.Entry<String, String>> headers, boolean includeUsage,
      int concurrency, int requestsPerMinute, long tokensPerMinute) {
    this(name, scheme, host, port, pathPrefix, credentialHeader, credentialValue, model, headers, includeUsage,
        concurrency, requestsPerMinute, tokensPerMinute, (String) null, (Price) null);
  }

  /** As above, in the quota group {@code quotaGroup} (null: none; see {@code Provider.Builder.quotaGroup}). */
  public Endpoint(String name, String scheme, String host, int port, String pathPrefix, String credentialHeader,
      String credentialValue, String model, List<Map.Entry<String, String>> headers, boolean includeUsage,
      int concurrency, int requestsPerMinute, long tokensPerMinute, String quotaGroup) {
    this(name, scheme, host, port, pathPrefix, credentialHeader, credentialValue, model, headers, includeUsage,
        concurrency, requestsPerMinute, tokensPerMinute, quotaGroup, (Price) null);
  }

  /** As above, at {@code price} (null: unpriced). */
  public Endpoint(String name, String scheme, String host, int port, String pathPrefix, String credentialHeader,
      String credentialValue, String model, List<Map.Entry<String, String>> headers, boolean includeUsage,
      int concurrency, int requestsPerMinute, long tokensPerMinute, Price price) {
    this(name, scheme, host, port, pathPrefix, credentialHeader, credentialValue, model, headers, includeUsage,
        concurrency, requestsPerMinute, tokensPerMinute, null, price);
  }

  /** As above, in a quota group and at a price (each null: none). */
  public Endpoint(String name, String scheme, String host, int port, String pathPrefix, String credentialHeader,
      String credentialValue, String model, List<Map.Entry<String, String>> headers, boolean includeUsage,
      int concurrency, int requestsPerMinute, long tokensPerMinute, String quotaGroup, Price price) {
    this.quotaGroup = quotaGroup;
    this.price = price;
    if (concurrency < 1) {
      throw new IllegalArgumentException("concurrency must be >= 1 but was " + concurrency + " (provider '" + name + "')");
    }
    this.concurrency = concurrency;
    this.requestsPerMinute = requestsPerMinute;
    this.tokensPerMinute = tokensPerMinute;
    this.name = name;
    this.scheme = scheme;
    this.host = host;
    this.port = port;
    this.pathPrefix = pathPrefix;
    this.credentialHeader = credentialValue == null ? null : credentialHeader;
    this.credentialValue = credentialValue;
    this.model = model;
    this.headers = List.copyOf(headers);
    this.includeUsage = includeUsage;
    this.scope = this.credentialHeader == null && this.headers.isEmpty()
        ? null : new CredentialScope(scheme, host, port, this.credentialHeader, this.headers);
  }

  /**
   * The exact header value to send (e.g. {@code Bearer sk-...}), for signing the provider's
   * request only; never log it, never put it on anything a caller gets back.
   */
  public String credentialValue() {
    return credentialValue;
  }

  /** See {@link #memo(Object)}; null until the HTTP layer set one. */
  public Object memo() {
    return memo;
  }

  /** Replaces the HTTP layer's memo of this endpoint (an immutable object). */
  public void memo(Object memo) {
    this.memo = memo;
  }

  @Override
  public String toString() {
    return "Endpoint{" + name + " " + scheme + "://" + host + ":" + port + pathPrefix
        + (credentialHeader == null ? "" : ", credential in " + credentialHeader + "=****") + "}";
  }
}
