package io.github.llmpool.internal.usage;

import java.util.List;

/**
 * Bounds and canonical instances for the response id and finish reasons: provider data, cut to a
 * fixed length, and the usual finish reasons shared as constants (with their one-element lists) so
 * that the common answer allocates nothing for them.
 */
final class Reasons {
  private Reasons() {}

  /** Longest response id kept, in chars; a longer one is cut. */
  static final int MAX_ID = 128;
  /** Longest finish reason kept, in chars; a longer one is cut. */
  static final int MAX_REASON = 64;
  /** Most finish reasons kept per response; later ones are dropped. */
  static final int MAX_REASONS = 16;

  private static final String[] KNOWN = {
      "stop", "length", "tool_calls", "content_filter", "function_call", "completed", "incomplete",
      "failed", "cancelled", "max_output_tokens", "insufficient_system_resource",
  };
  private static final byte[][] KNOWN_BYTES = new byte[KNOWN.length][];
  private static final List<?>[] SINGLE = new List<?>[KNOWN.length];

  static {
    for (int k = 0; k < KNOWN.length; k++) {
      KNOWN_BYTES[k] = KNOWN[k].getBytes(java.nio.charset.StandardCharsets.US_ASCII);
      SINGLE[k] = List.of(KNOWN[k]);
    }
  }

  /** {@code s} cut to {@code max} chars (not inside a surrogate pair). */
  static String cut(String s, int max) {
    if (s.length() <= max) {
      return s;
    }
    int n = Character.isHighSurrogate(s.charAt(max - 1)) ? max - 1 : max;
    return s.substring(0, n);
  }

  /** A finish reason as kept: the shared constant if it is a usual one, else cut. */
  static String reason(String s) {
    for (String k : KNOWN) {
      if (k.equals(s)) {
        return k;
      }
    }
    return cut(s, MAX_REASON);
  }

  /** The usual reason spelled by the ASCII bytes {@code d[from, to)}, or null. */
  static String known(byte[] d, int from, int to) {
    int n = to - from;
    for (byte[] k : KNOWN_BYTES) {
      if (k.length == n && java.util.Arrays.equals(d, from, to, k, 0, n)) {
        for (int x = 0; x < KNOWN.length; x++) {
          if (KNOWN_BYTES[x] == k) {
            return KNOWN[x];
          }
        }
      }
    }
    return null;
  }

  /** A one-element list of {@code r}, shared for the usual reasons. */
  @SuppressWarnings("unchecked")
  static List<String> single(String r) {
    for (int k = 0; k < KNOWN.length; k++) {
      if (KNOWN[k].equals(r)) {
        return (List<String>) SINGLE[k];
      }
    }
    return List.of(r);
  }

  /**
   * The finish reasons of a response: the choices' reasons when there are any ({@code count} of
   * them, the first in {@code first}, the rest in {@code more}); else, for a Responses API object,
   * {@code incomplete_details.reason} when the status is {@code incomplete} and it names one, else
   * the status unless it is {@code in_progress} or {@code queued} (not a finish); else none.
   */
  static List<String> of(String first, String[] more, int count, boolean responseObject, String status,
      String incompleteReason) {
    if (count == 1) {
      return single(first);
    }
    if (count > 1) {
      String[] a = new String[count];
      a[0] = first;
      System.arraycopy(more, 0, a, 1, count - 1);
      return List.of(a);
    }
    if (!responseObject || status == null) {
      return List.of();
    }
    if (status.equals("incomplete") && incompleteReason != null) {
      return single(incompleteReason);
    }
    if (status.equals("in_progress") || status.equals("queued")) {
      return List.of();
    }
    return single(status);
  }
}
