package io.github.llmpool.internal.usage;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;

/**
 * Allocation-free byte scans, eight bytes at a time where it pays. The main one decides whether
 * an SSE chunk can carry anything we extract, so that ordinary content deltas are not parsed;
 * it is conservative: when unsure, it answers {@code true}.
 */
final class ChunkScan {
  private ChunkScan() {}

  private static final VarHandle LONGS =
      MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);
  private static final long ONES = 0x0101010101010101L;
  private static final long HIGHS = 0x8080808080808080L;
  private static final long LFS = 0x0A0A0A0A0A0A0A0AL;
  private static final long CRS = 0x0D0D0D0D0D0D0D0DL;

  private static final long COLONS = 0x3A3A3A3A3A3A3A3AL;
  private static final long QUOTES = 0x2222222222222222L;
  private static final long BACKSLASHES = 0x5C5C5C5C5C5C5C5CL;

  // Member names, with their opening quote, as they end just before the closing quote.
  private static final byte[] USAGE = ascii("\"usage");
  private static final byte[] USAGE_META = ascii("\"usageMetadata");
  private static final byte[] MESSAGE_STOP = ascii("\"message_stop\"");
  private static final byte[] ERROR = ascii("\"error");
  private static final byte[] FINISH = ascii("\"finish_reason");
  private static final byte[] MODEL = ascii("\"model");
  private static final byte[] TYPE = ascii("\"type");
  // Values of "type" that matter, with both quotes.
  private static final byte[] ERROR_VALUE = ascii("\"error\"");
  private static final byte[] RESPONSE_DOT = ascii("\"response.");
  private static final byte[] COMPLETED = ascii("completed\"");
  private static final byte[] INCOMPLETE = ascii("incomplete\"");
  private static final byte[] FAILED = ascii("failed\"");
  private static final byte[] NULL = ascii("null");

  private static byte[] ascii(String s) {
    return s.getBytes(java.nio.charset.StandardCharsets.US_ASCII);
  }

  /**
   * True if {@code b[from, to)} may hold a member we extract: {@code "usage"}, {@code "error"} or
   * {@code "finish_reason"} or {@code "usageMetadata"} with a value other than {@code null};
   * {@code "type"} with value {@code "error"}, {@code "message_stop"}, {@code "response.completed"},
   * {@code "response.incomplete"} or {@code "response.failed"}; or, when {@code wantModel}, {@code "model"}. Works from the
   * colons (far fewer than quotes), looking back at the name and ahead at the value; escaped
   * quotes inside strings never match.
   */
  static boolean interesting(byte[] b, int from, int to, boolean wantModel) {
    for (int c = indexOfColon(b, from, to); c >= 0; c = indexOfColon(b, c + 1, to)) {
      int q = c - 1;
      while (q > from && isWs(b[q])) {
        q--;
      }
      if (q <= from || b[q] != '"') {
        continue;
      }
      switch (b[q - 1]) {
        case 'e': // "usage", "type"
          if (endsAt(b, from, q, USAGE)) {
            if (notNull(b, c + 1, to)) {
              return true;
            }
          } else if (endsAt(b, from, q, TYPE) && significantType(b, skipWs(b, c + 1, to), to)) {
            return true;
          }
          break;
        case 'r': // "error"
          if (endsAt(b, from, q, ERROR) && notNull(b, c + 1, to)) {
            return true;
          }
          break;
        case 'n': // "finish_reason"
          if (endsAt(b, from, q, FINISH) && notNull(b, c + 1, to)) {
            return true;
          }
          break;
        case 'l': // "model"
          if (wantModel && endsAt(b, from, q, MODEL)) {
            return true;
          }
          break;
        case 'a': // "usageMetadata" (Gemini)
          if (endsAt(b, from, q, USAGE_META) && notNull(b, c + 1, to)) {
            return true;
          }
          break;
        default:
          break;
      }
    }
    return false;
  }

  private static boolean significantType(byte[] b, int v, int to) {
    if (at(b, v, to, ERROR_VALUE) || at(b, v, to, MESSAGE_STOP)) {
      return true;
    }
    if (!at(b, v, to, RESPONSE_DOT)) {
      return false;
    }
    int k = v + RESPONSE_DOT.length;
    return at(b, k, to, COMPLETED) || at(b, k, to, INCOMPLETE) || at(b, k, to, FAILED);
  }

  /** Index of the first {@code ':'} in {@code b[from, to)}, or -1; eight bytes at a time. */
  static int indexOfColon(byte[] b, int from, int to) {
    int i = from;
    while (i <= to - 8) {
      long v = (long) LONGS.get(b, i) ^ COLONS;
      long z = (v - ONES) & ~v & HIGHS;
      if (z != 0) {
        // The lowest flagged byte is always a true match (borrows only flag bytes above one).
        return i + (Long.numberOfTrailingZeros(z) >>> 3);
      }
      i += 8;
    }
    for (; i < to; i++) {
      if (b[i] == ':') {
        return i;
      }
    }
    return -1;
  }

  /** Index of the first {@code '"'} in {@code b[from, to)}, or {@code to}; eight bytes at a time. */
  static int indexOfQuote(byte[] b, int from, int to) {
    int i = from;
    while (i <= to - 8) {
      long v = (long) LONGS.get(b, i) ^ QUOTES;
      long z = (v - ONES) & ~v & HIGHS;
      if (z != 0) {
        return i + (Long.numberOfTrailingZeros(z) >>> 3);
      }
      i += 8;
    }
    for (; i < to; i++) {
      if (b[i] == '"') {
        return i;
      }
    }
    return to;
  }

  /**
   * Index of the first {@code '"'} or {@code '\'} in {@code b[from, to)}, or {@code to}; eight
   * bytes at a time.
   */
  static int indexOfQuoteOrBackslash(byte[] b, int from, int to) {
    int i = from;
    while (i <= to - 8) {
      long w = (long) LONGS.get(b, i);
      long q = w ^ QUOTES;
      long s = w ^ BACKSLASHES;
      long z = ((q - ONES) & ~q | (s - ONES) & ~s) & HIGHS;
      if (z != 0) {
        return i + (Long.numberOfTrailingZeros(z) >>> 3);
      }
      i += 8;
    }
    for (; i < to; i++) {
      byte c = b[i];
      if (c == '"' || c == '\\') {
        return i;
      }
    }
    return to;
  }

  /** Index of the first LF or CR in {@code b[from, to)}, or {@code to}; eight bytes at a time. */
  static int indexOfEol(byte[] b, int from, int to) {
    int i = from;
    while (i <= to - 8) {
      long w = (long) LONGS.get(b, i);
      long lf = w ^ LFS;
      long cr = w ^ CRS;
      long z = ((lf - ONES) & ~lf | (cr - ONES) & ~cr) & HIGHS;
      if (z != 0) {
        // The lowest flagged byte is always a true match (borrows only flag bytes above one).
        return i + (Long.numberOfTrailingZeros(z) >>> 3);
      }
      i += 8;
    }
    for (; i < to; i++) {
      byte c = b[i];
      if (c == '\n' || c == '\r') {
        return i;
      }
    }
    return to;
  }

  /** True if {@code b[from, to)} is exactly {@code pattern}. */
  static boolean equalsAscii(byte[] b, int from, int to, byte[] pattern) {
    return to - from == pattern.length && at(b, from, to, pattern);
  }

  /** True if {@code b[from, to)} equals the first {@code n} bytes of {@code pattern}. */
  static boolean equalsAscii(byte[] b, int from, int to, byte[] pattern, int n) {
    if (to - from != n || n > pattern.length) {
      return false;
    }
    for (int x = 0; x < n; x++) {
      if (b[from + x] != pattern[x]) {
        return false;
      }
    }
    return true;
  }

  private static boolean at(byte[] b, int k, int to, byte[] pattern) {
    int n = pattern.length;
    if (to - k < n) {
      return false;
    }
    for (int x = 0; x < n; x++) {
      if (b[k + x] != pattern[x]) {
        return false;
      }
    }
    return true;
  }

  /** True if {@code pattern} occupies {@code b[end - pattern.length, end)}, within from. */
  private static boolean endsAt(byte[] b, int from, int end, byte[] pattern) {
    int k = end - pattern.length;
    return k >= from && at(b, k, end, pattern);
  }

  /** The value starting at or after {@code k} (after whitespace) is not {@code null}. */
  private static boolean notNull(byte[] b, int k, int to) {
    return !at(b, skipWs(b, k, to), to, NULL);
  }

  private static boolean isWs(byte c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
  }

  private static int skipWs(byte[] b, int k, int to) {
    while (k < to && isWs(b[k])) {
      k++;
    }
    return k;
  }
}
