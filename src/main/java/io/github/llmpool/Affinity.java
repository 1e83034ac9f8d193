package io.github.llmpool;

import java.time.Duration;
import java.util.Objects;
import java.util.Optional;
import java.util.function.Function;

/**
 * Session affinity: requests that carry the same key go to the same provider while it is
 * available, so a conversation keeps hitting one provider's prompt cache (and one model's voice).
 *
 * <pre>{@code
 * ProviderPool pool = ProviderPool.builder()
 *     .tier(a, b, c)
 *     .affinity(Affinity.header("X-Session-Id").maxSize(10_000).idleExpiry(Duration.ofMinutes(30)))
 *     .build();
 * // Every request with "X-Session-Id: 42" goes to the provider the first one went to.
 * }</pre>
 *
 * <p>The key comes from one source: a request header ({@link #header}), the JSON body's
 * {@code user} ({@link #user()}) or {@code prompt_cache_key} ({@link #promptCacheKey()}), or a
 * function of a small view of the request ({@link #key}). A request without a key (source absent
 * or empty) is routed as usual and remembers nothing.
 *
 * <p>How keys move:
 * <ul>
 *   <li>A key's first request is routed by the pool's strategy; the chosen provider is remembered.</li>
 *   <li>Later requests go to that provider while it is eligible: weight above 0, not evicted
 *       (or past its eviction and free to take the single probe), and in the tier that serves
 *       now. Affinity never overrides tier priority: a key that spilled to a fallback tier moves
 *       back as soon as its primary tier has an available provider again.</li>
 *   <li>When the remembered provider is not eligible (evicted, weighted 0, removed by
 *       {@link ProviderPool#update}), or an attempt on it fails and the request fails over, the
 *       key moves to the newly chosen provider and stays there.</li>
 *   <li>The table is bounded: at most {@link #maxSize()} keys, by recency (least recently used go
 *       first: the {@code maxSize} keys whose requests came last are always kept, however often
 *       older keys were used), and a key idle for {@link #idleExpiry()} is forgotten. It runs on
 *       the pool's {@link Ticker}.</li>
 *   <li>Two concurrent first requests of a brand-new key may pick different providers; the last
 *       one wins and later requests agree.</li>
 * </ul>
 *
 * <p>Immutable and thread-safe: {@link #maxSize(long)} and {@link #idleExpiry(Duration)} return a
 * validated copy, like {@code java.time} values. Keys are never logged.
 */
public final class Affinity {

  /** Default bound on remembered keys: {@value}. */
  public static final long DEFAULT_MAX_SIZE = 10_000;
  /** Default idle expiry of a remembered key: 30 minutes. */
  public static final Duration DEFAULT_IDLE_EXPIRY = Duration.ofMinutes(30);

  /** Where the key of a request comes from. */
  public enum Source {
    /** A request header. */
    HEADER,
    /** The JSON body's top-level {@code user}. */
    USER,
    /** The JSON body's top-level {@code prompt_cache_key}. */
    PROMPT_CACHE_KEY,
    /** A caller's function of {@link RequestView}. */
    FUNCTION
  }

  /**
   * What a key function sees of a request: no OkHttp types, nothing of the body but the fields
   * the pool already parsed. Implementations are created by the interceptor, one per request.
   */
  public interface RequestView {
    /** The HTTP method, e.g. {@code POST}. */
    String method();

    /** The path after the pool's virtual prefix, e.g. {@code /chat/completions}. */
    String path();

    /** The first value of request header {@code name}; empty when the request has none. */
    Optional<String> header(String name);

    /** The JSON body's top-level {@code model} string; empty when absent or not a string. */
    Optional<String> model();

    /** The JSON body's top-level {@code user} string; empty when absent or not a string. */
    Optional<String> user();

    /** The JSON body's top-level {@code prompt_cache_key} string; empty when absent or not a string. */
    Optional<String> promptCacheKey();
  }

  private final Source source;
  private final String headerName; // for HEADER
  private final Function<RequestView, String> function; // for FUNCTION
  private final long maxSize;
  private final Duration idleExpiry;

  private Affinity(Source source, String headerName, Function<RequestView, String> function, long maxSize,
      Duration idleExpiry) {
    this.source = source;
    this.headerName = headerName;
    this.function = function;
    this.maxSize = maxSize;
    this.idleExpiry = idleExpiry;
  }

  /** Keys from the request header {@code name} (e.g. {@code X-Session-Id}). */
  public static Affinity header(String name) {
    Objects.requireNonNull(name, "header");
    if (!isToken(name)) {
      throw new IllegalArgumentException("header must be a header name but was '" + name + "'");
    }
    return new Affinity(Source.HEADER, name, null, DEFAULT_MAX_SIZE, DEFAULT_IDLE_EXPIRY);
  }

  /** Keys from the JSON body's top-level {@code user} (OpenAI's end-user id). */
  public static Affinity user() {
    return new Affinity(Source.USER, null, null, DEFAULT_MAX_SIZE, DEFAULT_IDLE_EXPIRY);
  }

  /** Keys from the JSON body's top-level {@code prompt_cache_key} (OpenAI's prompt-cache routing hint). */
  public static Affinity promptCacheKey() {
    return new Affinity(Source.PROMPT_CACHE_KEY, null, null, DEFAULT_MAX_SIZE, DEFAULT_IDLE_EXPIRY);
  }

  /**
   * Keys from a function of the request; it returns null (or an empty string) for "no key" (a
   * callback's answer, not an accessor: null is the cheap way to say none on every request). It
   * runs on the caller's thread for every request, so keep it cheap; if it throws (anything but a
   * {@link VirtualMachineError}, which reaches the caller), the request is routed without affinity
   * and the failure is logged by its class and where it was thrown from, never by its message,
   * which may quote the request.
   *
   * <pre>{@code
   * Affinity.key(r -> r.header("X-Tenant").orElse("-") + "/" + r.user().orElse("-"))
   * }</pre>
   */
  public static Affinity key(Function<RequestView, String> function) {
    Objects.requireNonNull(function, "key");
    return new Affinity(Source.FUNCTION, null, function, DEFAULT_MAX_SIZE, DEFAULT_IDLE_EXPIRY);
  }

  /**
   * A copy that remembers at most {@code maxSize} keys, {@code >= 1}; beyond it the least recently
   * used are forgotten (a key is used by each request that carries it). Default
   * {@value #DEFAULT_MAX_SIZE}.
   */
  public Affinity maxSize(long maxSize) {
    if (maxSize < 1) {
      throw new IllegalArgumentException("maxSize must be >= 1 but was " + maxSize);
    }
    return new Affinity(source, headerName, function, maxSize, idleExpiry);
  }

  /** A copy that forgets a key unused for {@code idle}, which must be positive. Default 30 minutes. */
  public Affinity idleExpiry(Duration idle) {
    Objects.requireNonNull(idle, "idleExpiry");
    if (idle.isNegative() || idle.isZero()) {
      throw new IllegalArgumentException("idleExpiry must be positive but was " + idle);
    }
    return new Affinity(source, headerName, function, maxSize, idle);
  }

  /** The key source. */
  public Source source() {
    return source;
  }

  /** The header name for {@link Source#HEADER}; empty for the other sources. */
  public Optional<String> headerName() {
    return Optional.ofNullable(headerName);
  }

  /** The bound on remembered keys. */
  public long maxSize() {
    return maxSize;
  }

  /** How long an unused key is remembered. */
  public Duration idleExpiry() {
    return idleExpiry;
  }

  /**
   * The key of a request; empty when it has none (its source is absent or empty, or the key
   * function returned null or an empty string). Whatever the key function throws propagates.
   *
   * @throws NullPointerException if {@code request} is null
   */
  public Optional<String> keyOf(RequestView request) {
    Objects.requireNonNull(request, "request");
    Optional<String> k = switch (source) {
      case HEADER -> request.header(headerName);
      case USER -> request.user();
      case PROMPT_CACHE_KEY -> request.promptCacheKey();
      case FUNCTION -> Optional.ofNullable(function.apply(request));
    };
    return k.filter(v -> !v.isEmpty());
  }

  /** Equal when source, header, function (by identity), size and expiry are equal. */
  @Override
  public boolean equals(Object o) {
    return o instanceof Affinity a && source == a.source && Objects.equals(headerName, a.headerName)
        && function == a.function && maxSize == a.maxSize && idleExpiry.equals(a.idleExpiry);
  }

  @Override
  public int hashCode() {
    return Objects.hash(source, headerName, System.identityHashCode(function), maxSize, idleExpiry);
  }

  @Override
  public String toString() {
    String from = switch (source) {
      case HEADER -> "header " + headerName;
      case USER -> "body user";
      case PROMPT_CACHE_KEY -> "body prompt_cache_key";
      case FUNCTION -> "function";
    };
    return "Affinity{" + from + ", maxSize=" + maxSize + ", idleExpiry=" + idleExpiry + "}";
  }

  static boolean isToken(String s) {
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
