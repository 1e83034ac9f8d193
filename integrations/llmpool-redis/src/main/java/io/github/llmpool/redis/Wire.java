package io.github.llmpool.redis;

import io.github.llmpool.Outcome;
import io.github.llmpool.spi.SharedAffinity;
import io.github.llmpool.spi.SharedEviction;
import io.github.llmpool.spi.SharedQuota;
import java.net.URLDecoder;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;

/**
 * The text forms of what travels through Redis: hash values and pub/sub lines. Names and keys are
 * URL-encoded, so no separator can occur inside a field. Stateless.
 *
 * <ul>
 *   <li>eviction hash value: {@code deadline|cause|hint} (hint 0 or 1);</li>
 *   <li>quota hash field {@code r:provider}, {@code t:provider}, or a quota group's {@code r:g:group},
 *       {@code t:g:group}; value {@code limit|remaining|reset|seen} (-1: not announced);</li>
 *   <li>affinity hash value: {@code provider|expires};</li>
 *   <li>pub/sub lines (one message per flush, lines separated by {@code \n}):
 *       {@code E origin provider deadline cause hint}, {@code Q origin field limit remaining reset seen},
 *       {@code A origin key provider expires}, {@code D origin p:provider|g:group requests tokens from to}
 *       (dispatches against a header window since the origin's last batch; only on the channel).</li>
 * </ul>
 */
final class Wire {
  private Wire() {}

  /** The key of one budget's count in the window starting at {@code startMillis}: {@code <base>budget:<name>:<start>}. */
  static String budgetKey(String base, String budget, long startMillis) {
    return base + "budget:" + enc(budget) + ":" + startMillis;
  }

  static String enc(String s) {
    return URLEncoder.encode(s, StandardCharsets.UTF_8);
  }

  static String dec(String s) {
    return URLDecoder.decode(s, StandardCharsets.UTF_8);
  }

  static String evictionValue(SharedEviction e) {
    return e.deadlineEpochMillis() + "|" + e.cause().name() + "|" + (e.serverHint() ? 1 : 0);
  }

  /** The eviction a hash value stands for, or null when malformed. */
  static SharedEviction eviction(String pool, String provider, String value) {
    try {
      String[] f = value.split("\\|", -1);
      return SharedEviction.builder().pool(pool).provider(provider).deadlineEpochMillis(Long.parseLong(f[0]))
          .cause(Outcome.valueOf(f[1])).serverHint("1".equals(f[2])).build();
    } catch (RuntimeException malformed) {
      return null;
    }
  }

  /** Quota field name: {@code r:provider} or {@code t:provider}. */
  static String quotaField(boolean requests, String provider) {
    return (requests ? "r:" : "t:") + enc(provider);
  }

  /**
   * Quota field name of a quota group's window: {@code r:g:group} or {@code t:g:group} (an encoded
   * provider name never holds a {@code ':'}, so no provider's field looks like a group's).
   */
  static String groupQuotaField(boolean requests, String group) {
    return (requests ? "r:g:" : "t:g:") + enc(group);
  }

  /** The field of {@code q}'s request or token window: a provider's or a group's. */
  static String quotaField(boolean requests, SharedQuota q) {
    return q.group() ? groupQuotaField(requests, q.provider()) : quotaField(requests, q.provider());
  }

  /** A dispatch counter's name in a pub/sub line: {@code p:provider} or {@code g:group}, encoded. */
  static String dispatchField(String scope, boolean group) {
    return (group ? "g:" : "p:") + enc(scope);
  }

  static String windowValue(SharedQuota.Window w) {
    return w.limit() + "|" + w.remaining() + "|" + w.resetEpochMillis() + "|" + w.seenEpochMillis() + "|"
        + (w.dated() ? 1 : 0);
  }

  /** The window of a hash value, or null when malformed. */
  static SharedQuota.Window window(String value) {
    try {
      String[] f = value.split("\\|", -1);
      if (f.length != 4 && f.length != 5) {
        return null;
      }
      // A fifth field, 1 when the window is dated (older versions write four: not dated).
      return SharedQuota.Window.of(Long.parseLong(f[0]), Long.parseLong(f[1]), Long.parseLong(f[2]),
          Long.parseLong(f[3]), f.length == 5 && f[4].equals("1"));
    } catch (RuntimeException malformed) {
      return null;
    }
  }

  /** The quota of one field and value, or null when malformed. */
  static SharedQuota quota(String pool, String field, String value) {
    SharedQuota.Window w = window(value);
    if (w == null || field.length() < 3 || field.charAt(1) != ':') {
      return null;
    }
    String rest = field.substring(2);
    boolean group = rest.startsWith("g:");
    String name = dec(group ? rest.substring(2) : rest);
    return switch (field.charAt(0)) {
      case 'r' -> group ? SharedQuota.ofGroup(pool, name, w, null) : SharedQuota.of(pool, name, w, null);
      case 't' -> group ? SharedQuota.ofGroup(pool, name, null, w) : SharedQuota.of(pool, name, null, w);
      default -> null;
    };
  }

  static String affinityValue(SharedAffinity a) {
    return enc(a.provider()) + "|" + a.expiresEpochMillis();
  }

  /** The affinity entry of a hash field and value, or null when malformed. */
  static SharedAffinity affinity(String pool, String encodedKey, String value) {
    try {
      String[] f = value.split("\\|", -1);
      return SharedAffinity.of(pool, dec(encodedKey), dec(f[0]), Long.parseLong(f[1]));
    } catch (RuntimeException malformed) {
      return null;
    }
  }

  /** A configured limit's field in the pool's limits hash: {@code r:p:provider}, {@code t:g:group}, names encoded. */
  static String limitField(io.github.llmpool.spi.SharedLimit l) {
    return (l.dimension() == io.github.llmpool.spi.SharedLimit.Dimension.REQUESTS ? "r:" : "t:")
        + (l.group() ? "g:" : "p:") + enc(l.scope());
  }
}
