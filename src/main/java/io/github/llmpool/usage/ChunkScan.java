package io.github.llmpool.usage;

/**
 * Allocation-free byte scan deciding whether an SSE chunk can carry anything we extract, so that
 * ordinary content deltas are not parsed. Conservative: when unsure, it answers {@code true}.
 */
final class ChunkScan {
  private ChunkScan() {}

  private static final byte[] USAGE = ascii("usage\"");
  private static final byte[] ERROR = ascii("error\"");
  private static final byte[] FINISH = ascii("finish_reason\"");
  private static final byte[] MODEL = ascii("model\"");
  private static final byte[] RESPONSE_DOT = ascii("response.");
  private static final byte[] COMPLETED = ascii("completed\"");
  private static final byte[] INCOMPLETE = ascii("incomplete\"");
  private static final byte[] FAILED = ascii("failed\"");
  private static final byte[] NULL = ascii("null");

  private static byte[] ascii(String s) {
    return s.getBytes(java.nio.charset.StandardCharsets.US_ASCII);
  }

  /**
   * True if {@code b[from, to)} contains a non-null {@code "usage"} / {@code "error"} /
   * {@code "finish_reason"} member, the string {@code "error"} as a value, one of the terminal
   * Responses event types, or (when {@code wantModel}) a {@code "model"} member.
   */
  static boolean interesting(byte[] b, int from, int to, boolean wantModel) {
    for (int i = from; i < to; i++) {
      if (b[i] != '"') {
        continue;
      }
      int j = i + 1;
      if (j >= to) {
        return false;
      }
      switch (b[j]) {
        case 'u':
          if (at(b, j, to, USAGE) && memberNotNull(b, j + USAGE.length, to, false)) {
            return true;
          }
          break;
        case 'e':
          if (at(b, j, to, ERROR) && memberNotNull(b, j + ERROR.length, to, true)) {
            return true;
          }
          break;
        case 'f':
          if (at(b, j, to, FINISH) && memberNotNull(b, j + FINISH.length, to, false)) {
            return true;
          }
          break;
        case 'r':
          if (at(b, j, to, RESPONSE_DOT)) {
            int k = j + RESPONSE_DOT.length;
            if (at(b, k, to, COMPLETED) || at(b, k, to, INCOMPLETE) || at(b, k, to, FAILED)) {
              return true;
            }
          }
          break;
        case 'm':
          if (wantModel && at(b, j, to, MODEL)) {
            return true;
          }
          break;
        default:
          break;
      }
    }
    return false;
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

  /**
   * After a quoted name ending just before {@code k}: if a colon follows, true unless the value
   * is {@code null}; if no colon follows (the string was a value), {@code valueCounts}.
   */
  private static boolean memberNotNull(byte[] b, int k, int to, boolean valueCounts) {
    k = skipWs(b, k, to);
    if (k >= to) {
      return true;
    }
    if (b[k] != ':') {
      return valueCounts;
    }
    k = skipWs(b, k + 1, to);
    return !at(b, k, to, NULL);
  }

  private static int skipWs(byte[] b, int k, int to) {
    while (k < to) {
      byte c = b[k];
      if (c != ' ' && c != '\t' && c != '\n' && c != '\r') {
        break;
      }
      k++;
    }
    return k;
  }
}
