package io.github.llmpool.internal.engine;

import io.github.llmpool.internal.route.Endpoint;

import java.io.IOException;
import java.lang.reflect.Constructor;
import java.lang.reflect.Modifier;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;

/**
 * The credential values a pool has been configured with, current and past, and the redaction of
 * them from text the pool did not write: OkHttp's exception messages (which quote a malformed
 * status line or chunk header as the upstream sent it), an upstream's reason phrase and header
 * values. The values covered, for each provider: the full credential header value
 * ({@code Bearer sk-...}), the raw key, and each extra header value of at least
 * {@value #MIN_EXTRA_HEADER_LENGTH} characters (a shorter one is no secret worth the name, and
 * masking it would garble messages).
 *
 * <p>Only fingerprints are kept: for each value its length and a 64-bit polynomial hash, so that
 * a rolling hash finds every occurrence in a text (Rabin-Karp), and this object never becomes one
 * more copy of every key the pool ever had. A fingerprint match is masked without comparing the
 * characters; a false match (about one in 2^64 per position) only masks text that was not a key.
 *
 * <p>Immutable and thread-safe; {@link #plus} makes the union. {@link #toString()} shows a count.
 */
public final class Secrets {
  /** What replaces each occurrence of a value. */
  public static final String MASK = "****";
  /** Extra header values shorter than this are not treated as secrets. */
  public static final int MIN_EXTRA_HEADER_LENGTH = 8;
  /** No value: redaction returns its input. */
  public static final Secrets NONE = new Secrets(new TreeMap<>());

  private static final long BASE = 0x9E3779B97F4A7C15L; // odd, so multiplication is a bijection mod 2^64

  /** Distinct lengths, longest first, and for each the sorted fingerprints of that length. */
  private final int[] lengths;
  private final long[][] prints;
  private final long[] topPowers; // BASE^(length-1) per length
  private final int count;
  private final int shortest;

  private Secrets(TreeMap<Integer, long[]> byLength) {
    int n = byLength.size();
    lengths = new int[n];
    prints = new long[n][];
    topPowers = new long[n];
    int i = 0;
    int c = 0;
    for (Map.Entry<Integer, long[]> e : byLength.descendingMap().entrySet()) {
      lengths[i] = e.getKey();
      prints[i] = e.getValue();
      topPowers[i] = power(e.getKey() - 1);
      c += e.getValue().length;
      i++;
    }
    count = c;
    shortest = n == 0 ? Integer.MAX_VALUE : lengths[n - 1];
  }

  /** The values of these endpoints' credentials and extra headers. */
  public static Secrets of(Collection<Endpoint> endpoints) {
    List<String> values = new ArrayList<>();
    for (Endpoint e : endpoints) {
      String v = e.credentialValue();
      if (v != null) {
        values.add(v);
        if (v.startsWith("Bearer ")) {
          values.add(v.substring("Bearer ".length()));
        }
      }
      for (Map.Entry<String, String> h : e.headers) {
        if (h.getValue().length() >= MIN_EXTRA_HEADER_LENGTH) {
          values.add(h.getValue());
        }
      }
    }
    return ofValues(values);
  }

  /** For tests: these values. */
  static Secrets ofValues(Collection<String> values) {
    TreeMap<Integer, List<Long>> raw = new TreeMap<>();
    for (String v : values) {
      if (!v.isEmpty()) {
        raw.computeIfAbsent(v.length(), k -> new ArrayList<>()).add(fingerprint(v, 0, v.length()));
      }
    }
    TreeMap<Integer, long[]> byLength = new TreeMap<>();
    raw.forEach((len, list) -> byLength.put(len, sortedDistinct(list.stream().mapToLong(Long::longValue).toArray())));
    return byLength.isEmpty() ? NONE : new Secrets(byLength);
  }

  /** Every value of this and of {@code other}. */
  public Secrets plus(Secrets other) {
    if (other.count == 0) {
      return this;
    }
    if (count == 0) {
      return other;
    }
    TreeMap<Integer, long[]> byLength = new TreeMap<>();
    for (Secrets s : List.of(this, other)) {
      for (int i = 0; i < s.lengths.length; i++) {
        long[] mine = byLength.get(s.lengths[i]);
        long[] merged = mine == null ? s.prints[i] : concat(mine, s.prints[i]);
        byLength.put(s.lengths[i], sortedDistinct(merged));
      }
    }
    return new Secrets(byLength);
  }

  public boolean isEmpty() {
    return count == 0;
  }

  /** Whether some value occurs in {@code text} (null: no). */
  public boolean appearsIn(String text) {
    if (text == null || text.length() < shortest) {
      return false;
    }
    for (int i = 0; i < lengths.length; i++) {
      if (lengths[i] <= text.length() && firstMatch(text, i, 0) >= 0) {
        return true;
      }
    }
    return false;
  }

  /** {@code text} with every occurrence of every value replaced by {@link #MASK}; itself when none occurs. */
  public String redact(String text) {
    if (text == null || text.length() < shortest) {
      return text;
    }
    boolean[] masked = null;
    for (int i = 0; i < lengths.length; i++) {
      int len = lengths[i];
      for (int at = len <= text.length() ? firstMatch(text, i, 0) : -1; at >= 0; at = firstMatch(text, i, at + 1)) {
        if (masked == null) {
          masked = new boolean[text.length()];
        }
        Arrays.fill(masked, at, at + len, true);
      }
    }
    if (masked == null) {
      return text;
    }
    StringBuilder sb = new StringBuilder(text.length());
    for (int j = 0; j < text.length(); j++) {
      if (!masked[j]) {
        sb.append(text.charAt(j));
      } else if (j == 0 || !masked[j - 1]) {
        sb.append(MASK);
      }
    }
    return sb.toString();
  }

  /**
   * {@code e} itself when no text of it (message, {@code toString}) or of its causes and
   * suppressed exceptions holds a value; otherwise a copy of the whole chain with every such text
   * redacted. A copy keeps each exception's class when it has a public {@code (String)}
   * constructor that yields the redacted text (ProtocolException, SocketTimeoutException, ...),
   * else it is a {@link RedactedIOException} (or {@link RedactedException}) whose message starts
   * with the original class name; stack traces are kept, clean parts of the chain are reused.
   */
  public IOException redact(IOException e) {
    if (e == null || count == 0 || !dirty(e)) {
      return e;
    }
    return (IOException) copy(e, new IdentityHashMap<>());
  }

  private boolean dirty(Throwable t) {
    return dirty(t, Collections.newSetFromMap(new IdentityHashMap<>()));
  }

  private boolean dirty(Throwable t, Set<Throwable> seen) {
    if (t == null || !seen.add(t)) {
      return false;
    }
    if (appearsIn(t.getMessage()) || appearsIn(t.getLocalizedMessage()) || appearsIn(safeToString(t))) {
      return true;
    }
    if (dirty(t.getCause(), seen)) {
      return true;
    }
    for (Throwable s : t.getSuppressed()) {
      if (dirty(s, seen)) {
        return true;
      }
    }
    return false;
  }

  private Throwable copy(Throwable t, Map<Throwable, Throwable> done) {
    Throwable already = done.get(t);
    if (already != null) {
      return already;
    }
    if (!dirty(t)) {
      done.put(t, t);
      return t;
    }
    String message = redact(t.getMessage());
    Throwable c = sameClass(t, message);
    if (c == null) {
      String text = t.getClass().getName() + (message == null ? "" : ": " + message);
      c = t instanceof IOException ? new RedactedIOException(text) : new RedactedException(text);
    }
    done.put(t, c);
    c.setStackTrace(t.getStackTrace());
    Throwable cause = t.getCause();
    if (cause != null && cause != t) {
      try {
        c.initCause(copy(cause, done));
      } catch (IllegalStateException | IllegalArgumentException alreadySet) {
        // A constructor that set a cause of its own: the copy's text was checked clean.
      }
    }
    for (Throwable s : t.getSuppressed()) {
      Throwable sc = copy(s, done);
      if (sc != c) {
        c.addSuppressed(sc);
      }
    }
    return c;
  }

  /** A new exception of {@code t}'s class with {@code message}, or null when that cannot be done cleanly. */
  private Throwable sameClass(Throwable t, String message) {
    Class<? extends Throwable> type = t.getClass();
    if (!Modifier.isPublic(type.getModifiers()) || Modifier.isAbstract(type.getModifiers())) {
      return null;
    }
    try {
      Constructor<? extends Throwable> ctor = type.getConstructor(String.class);
      Throwable c = ctor.newInstance(message);
      if (!Objects.equals(c.getMessage(), message) || c.getCause() != null || appearsIn(safeToString(c))
          || appearsIn(c.getLocalizedMessage())) {
        return null;
      }
      return c;
    } catch (ReflectiveOperationException | RuntimeException | LinkageError e) {
      return null;
    }
  }

  private static String safeToString(Throwable t) {
    try {
      return t.toString();
    } catch (RuntimeException e) {
      return null;
    }
  }

  // ------------------------------------------------------------------ fingerprints

  /** The start of the first occurrence at or after {@code from} of a value of {@code lengths[i]}, or -1. */
  private int firstMatch(String text, int i, int from) {
    int len = lengths[i];
    if (from + len > text.length()) {
      return -1;
    }
    long[] set = prints[i];
    long top = topPowers[i];
    long h = fingerprint(text, from, from + len);
    for (int at = from; ; at++) {
      if (Arrays.binarySearch(set, h) >= 0) {
        return at;
      }
      if (at + len >= text.length()) {
        return -1;
      }
      h = (h - text.charAt(at) * top) * BASE + text.charAt(at + len);
    }
  }

  private static long fingerprint(CharSequence s, int from, int to) {
    long h = 0;
    for (int i = from; i < to; i++) {
      h = h * BASE + s.charAt(i);
    }
    return h;
  }

  private static long power(int n) {
    long p = 1;
    for (int i = 0; i < n; i++) {
      p *= BASE;
    }
    return p;
  }

  private static long[] concat(long[] a, long[] b) {
    long[] c = Arrays.copyOf(a, a.length + b.length);
    System.arraycopy(b, 0, c, a.length, b.length);
    return c;
  }

  private static long[] sortedDistinct(long[] a) {
    return Arrays.stream(a).sorted().distinct().toArray();
  }

  @Override
  public String toString() {
    return "Secrets{" + count + " values, fingerprints only}";
  }

  /** An {@link IOException} whose original class has no usable {@code (String)} constructor. */
  public static final class RedactedIOException extends IOException {
    private static final long serialVersionUID = 1L;

    RedactedIOException(String message) {
      super(message);
    }
  }

  /** Any other {@link Throwable} of a chain, redacted the same way. */
  public static final class RedactedException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    RedactedException(String message) {
      super(message);
    }
  }
}
