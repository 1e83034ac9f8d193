package io.github.llmpool.health;

import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Reads the delay a rate-limited or overloaded provider asks for, in this order: {@code
 * retry-after-ms} (Azure), {@code Retry-After} as delta seconds or an HTTP date, then the later of
 * {@code x-ratelimit-reset-requests} / {@code x-ratelimit-reset-tokens} ({@code 1s}, {@code 6m0s},
 * {@code 20ms}) whose matching {@code x-ratelimit-remaining-*} is 0. A delay in the past or
 * unparseable counts as absent. Stateless; thread-safe; knows headers only as a lookup function.
 */
public final class RetryHints {

  private static final Pattern GO_DURATION = Pattern.compile("(\\d+(?:\\.\\d+)?)(ms|us|µs|ns|h|m|s)");

  private RetryHints() {}

  /** The suggested delay in nanoseconds, or -1 when the response suggests none. */
  public static long delayNanos(Function<String, String> header, long wallMillis) {
    long ms = parseMillis(header.apply("retry-after-ms"));
    if (ms > 0) {
      return TimeUnit.MILLISECONDS.toNanos(ms);
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

  static long parseMillis(String v) {
    v = trim(v);
    if (v == null) {
      return -1;
    }
    try {
      double d = Double.parseDouble(v);
      return d > 0 && d < 1e12 ? (long) Math.ceil(d) : -1;
    } catch (NumberFormatException e) {
      return -1;
    }
  }

  /** {@code Retry-After}: delta seconds (integer or decimal) or an IMF-fixdate / RFC 1123 date. */
  static long parseRetryAfter(String v, long wallMillis) {
    v = trim(v);
    if (v == null) {
      return -1;
    }
    if (Character.isDigit(v.charAt(0))) {
      try {
        double seconds = Double.parseDouble(v);
        return seconds > 0 && seconds < 1e9 ? (long) (seconds * 1e9) : -1;
      } catch (NumberFormatException e) {
        return -1;
      }
    }
    try {
      long at = ZonedDateTime.parse(v, DateTimeFormatter.RFC_1123_DATE_TIME).toInstant().toEpochMilli();
      long delta = at - wallMillis;
      return delta > 0 ? TimeUnit.MILLISECONDS.toNanos(delta) : -1;
    } catch (DateTimeParseException e) {
      return -1;
    }
  }

  /** A Go duration such as {@code 6m0s}, {@code 1.5s}, {@code 20ms}, {@code 1h2m}; -1 if malformed. */
  static long parseGoDuration(String v) {
    v = trim(v);
    if (v == null) {
      return -1;
    }
    v = v.toLowerCase(Locale.ROOT);
    Matcher m = GO_DURATION.matcher(v);
    int pos = 0;
    double nanos = 0;
    while (m.find()) {
      if (m.start() != pos) {
        return -1;
      }
      double n = Double.parseDouble(m.group(1));
      switch (m.group(2)) {
        case "h" -> nanos += n * 3600e9;
        case "m" -> nanos += n * 60e9;
        case "s" -> nanos += n * 1e9;
        case "ms" -> nanos += n * 1e6;
        case "us", "µs" -> nanos += n * 1e3;
        default -> nanos += n;
      }
      pos = m.end();
    }
    if (pos != v.length() || pos == 0 || nanos <= 0 || nanos > 1e18) {
      return -1;
    }
    return (long) nanos;
  }

  private static String trim(String v) {
    if (v == null) {
      return null;
    }
    v = v.trim();
    return v.isEmpty() ? null : v;
  }
}
