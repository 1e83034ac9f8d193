package io.github.llmpool.internal.health;

import java.time.DateTimeException;
import java.time.OffsetDateTime;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.regex.Pattern;

/**
 * Reads the delay a rate-limited or overloaded provider asks for, in this order: {@code
 * retry-after-ms} (Azure), {@code Retry-After} as delta seconds or an HTTP date, then the later of
 * {@code x-ratelimit-reset-requests} / {@code x-ratelimit-reset-tokens} ({@code 1s}, {@code 6m0s},
 * {@code 20ms}) whose matching {@code x-ratelimit-remaining-*} is 0.
 *
 * <p>Numbers are plain decimals ({@code 3}, {@code 1.5}, {@code 1e13}): no sign, no
 * {@code NaN}/{@code Infinity}, no hex, no Java type suffix. A delay that is zero, in the past,
 * negative or unparseable counts as absent. A well-formed delay too large for a {@code long} of
 * nanoseconds (about 292 years) is not absent: it saturates to {@link #SATURATED}, and the caller
 * caps it ({@code EvictionPolicy.maxDuration}). Stateless; thread-safe; knows headers only as a
 * lookup function.
 */
public final class RetryHints {

  /** The delay returned for a well-formed delay that does not fit a {@code long} of nanoseconds. */
  public static final long SATURATED = Long.MAX_VALUE;

  /** A non-negative decimal: digits, optional fraction, optional exponent. */
  private static final Pattern DECIMAL = Pattern.compile("\\d+(?:\\.\\d+)?(?:[eE][+-]?\\d+)?");

  private RetryHints() {}

  /**
   * The suggested delay in nanoseconds ({@link #SATURATED} when too large to represent), or -1
   * when the response suggests none.
   */
  public static long delayNanos(Function<String, String> header, long wallMillis) {
    long ms = parseMillis(header.apply("retry-after-ms"));
    if (ms > 0) {
      return TimeUnit.MILLISECONDS.toNanos(ms); // saturates
    }
    long ra = parseRetryAfter(header.apply("retry-after"), wallMillis);
    if (ra > 0) {
      return ra;
    }
    long reset = -1;
    if ("0".equals(trim(header.apply("x-ratelimit-remaining-requests")))) {
      reset = Math.max(reset, parseGoDuration(header.apply("x-ratelimit-reset-requests")));
    }
    if ("0".equals(trim(header.apply("x-ratelimit-remaining-tokens")))) {
      reset = Math.max(reset, parseGoDuration(header.apply("x-ratelimit-reset-tokens")));
    }
    return reset > 0 ? reset : -1;
  }

  /** Milliseconds, rounded up; {@code Long.MAX_VALUE} when too large; -1 if malformed or not positive. */
  static long parseMillis(String v) {
    double d = parseDecimal(v);
    return d > 0 ? saturate(Math.ceil(d)) : -1;
  }

  /** {@code Retry-After}: delta seconds (integer or decimal) or an IMF-fixdate / RFC 1123 date. */
  static long parseRetryAfter(String v, long wallMillis) {
    v = trim(v);
    if (v == null) {
      return -1;
    }
    if (v.charAt(0) >= '0' && v.charAt(0) <= '9') {
      double seconds = parseDecimal(v);
      return seconds > 0 ? saturate(seconds * 1e9) : -1;
    }
    try {
      long at = ZonedDateTime.parse(v, DateTimeFormatter.RFC_1123_DATE_TIME).toInstant().toEpochMilli();
      // A four-digit year keeps both operands far from overflow; subtractExact guards a wild wall clock.
      long delta = Math.subtractExact(at, wallMillis);
      return delta > 0 ? TimeUnit.MILLISECONDS.toNanos(delta) : -1; // saturates
    } catch (DateTimeParseException | ArithmeticException e) {
      return -1;
    }
  }

  /**
   * A Go duration such as {@code 6m0s}, {@code 1.5s}, {@code 20ms}, {@code 1h2m}; {@code
   * Long.MAX_VALUE} when too large; -1 if malformed or zero.
   */
  static long parseGoDuration(String v) {
    long nanos = goDurationNanos(trim(v));
    return nanos > 0 ? nanos : -1;
  }

  /**
   * A Go duration ({@code 6m0s}, {@code 1.5s}, {@code 20ms}, {@code 1m30.5s}, {@code 0s}): one or
   * more of digits, an optional fraction, and a unit {@code h m s ms us µs ns} (letters in any
   * case), nothing else, no sign. Returns nanoseconds, zero included, saturating at {@code
   * Long.MAX_VALUE}; -1 when {@code v} is null or not such a duration. Allocates nothing.
   */
  public static long goDurationNanos(String v) {
    if (v == null) {
      return -1;
    }
    int n = v.length();
    int i = 0;
    double total = 0;
    if (n == 0) {
      return -1;
    }
    while (i < n) {
      double mantissa = 0;
      int digits = 0;
      int fraction = 0;
      while (i < n && isDigit(v.charAt(i))) {
        mantissa = mantissa * 10 + (v.charAt(i++) - '0');
        digits++;
      }
      if (digits == 0) {
        return -1;
      }
      if (i < n && v.charAt(i) == '.') {
        i++;
        while (i < n && isDigit(v.charAt(i))) {
          mantissa = mantissa * 10 + (v.charAt(i++) - '0');
          fraction++;
        }
        if (fraction == 0) {
          return -1;
        }
      }
      if (i == n) {
        return -1; // a number without a unit
      }
      char c = Character.toLowerCase(v.charAt(i++));
      boolean sNext = i < n && Character.toLowerCase(v.charAt(i)) == 's';
      double unit;
      if (c == 'h') {
        unit = 3600e9;
      } else if (c == 'm' && sNext) {
        unit = 1e6;
        i++;
      } else if (c == 'm') {
        unit = 60e9;
      } else if (c == 's') {
        unit = 1e9;
      } else if ((c == 'u' || c == '\u00b5') && sNext) {
        unit = 1e3;
        i++;
      } else if (c == 'n' && sNext) {
        unit = 1;
        i++;
      } else {
        return -1;
      }
      double value = fraction == 0 ? mantissa : mantissa / Math.pow(10, fraction);
      total += value * unit; // finite or +Infinity, never NaN
    }
    return saturate(total);
  }

  /**
   * An RFC 3339 instant ({@code 2026-12-01T08:00:01Z}, {@code 2026-12-01T08:00:00.6+00:00}) as a
   * delay from the wall clock {@code wallMillis} in nanoseconds: 0 when it has passed (a reset
   * already over, or clocks that disagree), saturating at {@code Long.MAX_VALUE}; -1 when null or
   * malformed. The same clock as the HTTP dates of {@code Retry-After}.
   */
  public static long untilInstantNanos(String v, long wallMillis) {
    if (v == null) {
      return -1;
    }
    try {
      long at = OffsetDateTime.parse(v, DateTimeFormatter.ISO_OFFSET_DATE_TIME).toInstant().toEpochMilli();
      long delta = Math.subtractExact(at, wallMillis);
      return delta > 0 ? TimeUnit.MILLISECONDS.toNanos(delta) : 0; // saturates
    } catch (DateTimeException | ArithmeticException e) {
      return -1;
    }
  }

  private static boolean isDigit(char c) {
    return c >= '0' && c <= '9';
  }

  /** A non-negative decimal (possibly +Infinity for a huge one), or NaN if {@code v} is not one. */
  private static double parseDecimal(String v) {
    v = trim(v);
    if (v == null || !DECIMAL.matcher(v).matches()) {
      return Double.NaN;
    }
    return Double.parseDouble(v); // the pattern admits no NaN, sign, hex or suffix
  }

  /** A non-negative double (possibly +Infinity) as a long (truncated), saturating at {@code Long.MAX_VALUE}. */
  private static long saturate(double positive) {
    return positive >= 0x1p63 ? SATURATED : (long) positive;
  }

  private static String trim(String v) {
    if (v == null) {
      return null;
    }
    v = v.trim();
    return v.isEmpty() ? null : v;
  }
}
