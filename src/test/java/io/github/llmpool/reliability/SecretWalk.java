package io.github.llmpool.reliability;

import java.lang.reflect.Field;
import java.lang.reflect.InaccessibleObjectException;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.lang.reflect.RecordComponent;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Predicate;

/**
 * Walks every object reachable from a root, by reflection over its fields (the whole class
 * hierarchy, private ones included), and reports each place where one of the given secrets
 * appears as a substring. Bounded: at most {@link #maxDepth} references from the root, each object
 * once (an identity set guards against cycles).
 *
 * <p>Inspected as text: {@code String} and any {@code CharSequence}, {@code byte[]} and
 * {@code char[]} (as UTF-8 / UTF-16 text), okio {@code ByteString}, the readable bytes of an okio
 * {@code Buffer} or {@code Segment} (never the stale tail of a pooled segment), OkHttp
 * {@code Headers} (every name and value), a {@code Throwable}'s message, localized message and
 * {@code toString} (its cause, suppressed exceptions and stack trace are walked too), and the
 * {@code toString} of every object walked. JDK collections, maps, arrays and {@code Optional}s are
 * walked element by element. A JDK type whose fields cannot be opened
 * ({@link InaccessibleObjectException}) falls back to its public accessors: records' components,
 * public no-argument {@code get*}/{@code is*} methods, {@code toString}.
 *
 * <p>Not walked (the live machinery a response points to, which is not data handed back): the
 * response body (read it and check its bytes instead), OkHttp's call, client, interceptors and
 * exchange, okio sources and sinks, sockets, threads, class loaders, classes and Kotlin class
 * references (tag keys). {@link #skipped()} counts them so a test can see that the boundary was
 * met and not something else.
 *
 * <p>Findings name the path ({@code response.networkResponse.request.headers[api-key]}) and the
 * secret's index, never the secret. Not thread-safe; one walk per instance.
 */
public final class SecretWalk {
  public static final int DEFAULT_MAX_DEPTH = 32;

  private static final List<String> MACHINERY = List.of(
      "okhttp3.ResponseBody", "okhttp3.Call", "okhttp3.OkHttpClient", "okhttp3.Interceptor",
      "okhttp3.internal.connection.Exchange", "okhttp3.internal.connection.RealCall",
      "okhttp3.internal.connection.RealConnection", "okhttp3.EventListener", "okhttp3.Dispatcher",
      "okhttp3.ConnectionPool", "okio.Source", "okio.Sink", "java.net.Socket", "java.lang.Thread",
      "java.lang.ClassLoader", "java.lang.Class", "kotlin.reflect.KClass", "kotlin.jvm.internal.ClassReference");

  private final List<String> secrets;
  private final int maxDepth;
  private final Set<Object> seen = Collections.newSetFromMap(new IdentityHashMap<>());
  private final List<String> findings = new ArrayList<>();
  private int visited;
  private int skipped;
  private int cut;

  private SecretWalk(Collection<String> secrets, int maxDepth) {
    this.secrets = List.copyOf(secrets);
    this.maxDepth = maxDepth;
    for (String s : this.secrets) {
      if (s.isEmpty()) {
        throw new IllegalArgumentException("an empty secret matches everything");
      }
    }
  }

  /** A walk looking for these secrets, {@link #DEFAULT_MAX_DEPTH} references deep. */
  public static SecretWalk lookingFor(Collection<String> secrets) {
    return new SecretWalk(secrets, DEFAULT_MAX_DEPTH);
  }

  public static SecretWalk lookingFor(Collection<String> secrets, int maxDepth) {
    return new SecretWalk(secrets, maxDepth);
  }

  /** Walks everything reachable from {@code root}, naming it {@code name} in findings. */
  public SecretWalk walk(String name, Object root) {
    visit(name, root, 0);
    return this;
  }

  /** Checks a piece of text the caller saw (a body, a log). */
  public SecretWalk text(String name, String text) {
    check(name, text);
    return this;
  }

  /** Where a secret was found: path and secret index. */
  public List<String> findings() {
    return List.copyOf(findings);
  }

  /** Objects walked (not counting strings and other leaves). */
  public int visited() {
    return visited;
  }

  /** References not followed because they point at live machinery (see the class comment). */
  public int skipped() {
    return skipped;
  }

  /** References not followed because the depth bound was reached. */
  public int cut() {
    return cut;
  }

  /** Fails, naming every finding, when a secret was found. */
  public void assertClean(String what) {
    if (!findings.isEmpty()) {
      throw new AssertionError(what + ": a secret is reachable at " + findings.size() + " place(s):\n  "
          + String.join("\n  ", findings));
    }
  }

  // ------------------------------------------------------------------ the walk

  private void check(String path, String text) {
    if (text == null) {
      return;
    }
    List<Integer> which = new ArrayList<>();
    for (int i = 0; i < secrets.size(); i++) {
      if (text.contains(secrets.get(i))) {
        which.add(i);
      }
    }
    if (!which.isEmpty()) {
      findings.add(path + " (secret #" + which + ": \"" + masked(text) + "\")");
    }
  }

  /** The text with every secret replaced, cut to 200 characters, for a finding. */
  private String masked(String text) {
    String t = text;
    for (int i = 0; i < secrets.size(); i++) {
      t = t.replace(secrets.get(i), "<secret #" + i + ">");
    }
    return t.length() <= 200 ? t : t.substring(0, 200) + "...";
  }

  private static boolean isMachinery(Class<?> c) {
    for (String name : MACHINERY) {
      if (isA(c, name)) {
        return true;
      }
    }
    return false;
  }

  private static boolean isA(Class<?> c, String name) {
    for (Class<?> k = c; k != null; k = k.getSuperclass()) {
      if (k.getName().equals(name)) {
        return true;
      }
      for (Class<?> i : k.getInterfaces()) {
        if (isA(i, name)) {
          return true;
        }
      }
    }
    return false;
  }

  private static boolean isJdk(Class<?> c) {
    Module m = c.getModule();
    String name = m.isNamed() ? m.getName() : "";
    return name.startsWith("java.") || name.startsWith("jdk.") || c.getName().startsWith("java.")
        || c.getName().startsWith("javax.") || c.getName().startsWith("sun.") || c.getName().startsWith("jdk.");
  }

  private void visit(String path, Object o, int depth) {
    if (o == null) {
      return;
    }
    if (o instanceof CharSequence s) {
      check(path, s.toString());
      return;
    }
    if (o instanceof byte[] b) {
      check(path, new String(b, StandardCharsets.UTF_8));
      return;
    }
    if (o instanceof char[] c) {
      check(path, new String(c));
      return;
    }
    Class<?> c = o.getClass();
    if (o instanceof Number || o instanceof Boolean || o instanceof Character || c.isPrimitive()) {
      return;
    }
    if (c.isEnum() || (c.getSuperclass() != null && c.getSuperclass().isEnum())) {
      check(path, ((Enum<?>) o).name());
      return;
    }
    if (depth > maxDepth) {
      cut++;
      return;
    }
    if (!seen.add(o)) {
      return;
    }
    visited++;
    String name = c.getName();
    try {
      if (name.equals("okio.ByteString") || isA(c, "okio.ByteString")) {
        check(path, (String) c.getMethod("utf8").invoke(o));
        return;
      }
      if (name.equals("okio.Buffer")) {
        Object copy = c.getMethod("copy").invoke(o);
        check(path, new String((byte[]) c.getMethod("readByteArray").invoke(copy), StandardCharsets.UTF_8));
        return;
      }
      if (name.equals("okio.Segment")) {
        byte[] data = (byte[]) field(o, "data");
        int pos = (Integer) field(o, "pos");
        int limit = (Integer) field(o, "limit");
        check(path, new String(data, pos, limit - pos, StandardCharsets.UTF_8));
        visit(path + ".next", field(o, "next"), depth + 1);
        return;
      }
      if (name.equals("okhttp3.Headers")) {
        okhttp3.Headers h = (okhttp3.Headers) o;
        for (int i = 0; i < h.size(); i++) {
          check(path + "[" + h.name(i) + "]", h.name(i) + ": " + h.value(i));
        }
        return;
      }
    } catch (ReflectiveOperationException | RuntimeException e) {
      throw new AssertionError("cannot read " + path + " (" + name + ")", e);
    }
    if (isMachinery(c)) { // after the okio buffers above: a Buffer is a Source too
      visited--;
      skipped++;
      return;
    }
    safeToString(path, o);
    if (o instanceof Throwable t) {
      throwable(path, t, depth);
      return;
    }
    if (c.isArray()) {
      if (c.getComponentType().isPrimitive()) {
        return; // numbers and booleans; byte[] and char[] were read as text above
      }
      Object[] a = (Object[]) o;
      for (int i = 0; i < a.length; i++) {
        visit(path + "[" + i + "]", a[i], depth + 1);
      }
      return;
    }
    if (isJdk(c)) {
      if (o instanceof Map<?, ?> m) {
        int i = 0;
        for (Map.Entry<?, ?> e : m.entrySet()) {
          visit(path + "{key " + i + "}", e.getKey(), depth + 1);
          visit(path + "{" + e.getKey() + "}", e.getValue(), depth + 1);
          i++;
        }
        return;
      }
      if (o instanceof Iterable<?> it) {
        int i = 0;
        for (Object e : it) {
          visit(path + "[" + i++ + "]", e, depth + 1);
        }
        return;
      }
      if (o instanceof Optional<?> opt) {
        visit(path + ".get()", opt.orElse(null), depth + 1);
        return;
      }
    }
    fields(path, o, c, depth);
  }

  private void safeToString(String path, Object o) {
    try {
      check(path + ".toString()", String.valueOf(o));
    } catch (RuntimeException e) {
      // A toString that throws shows nothing.
    }
  }

  private void throwable(String path, Throwable t, int depth) {
    check(path + ".getMessage()", t.getMessage());
    check(path + ".getLocalizedMessage()", t.getLocalizedMessage());
    StackTraceElement[] trace = t.getStackTrace();
    for (int i = 0; i < trace.length; i++) {
      check(path + ".stackTrace[" + i + "]", trace[i].toString());
    }
    visit(path + ".getCause()", t.getCause(), depth + 1);
    Throwable[] suppressed = t.getSuppressed();
    for (int i = 0; i < suppressed.length; i++) {
      visit(path + ".getSuppressed()[" + i + "]", suppressed[i], depth + 1);
    }
    // The fields a library's exception adds (e.g. the attempts of an LlmPoolException).
    for (Class<?> k = t.getClass(); k != null && k != Throwable.class; k = k.getSuperclass()) {
      if (!isJdk(k)) {
        declaredFields(path, t, k, depth);
      }
    }
  }

  private void fields(String path, Object o, Class<?> c, int depth) {
    for (Class<?> k = c; k != null && k != Object.class; k = k.getSuperclass()) {
      if (!declaredFields(path, o, k, depth)) {
        accessors(path, o, c, depth);
        return;
      }
    }
  }

  /** False when the class's fields cannot be opened. */
  private boolean declaredFields(String path, Object o, Class<?> k, int depth) {
    for (Field f : k.getDeclaredFields()) {
      if (Modifier.isStatic(f.getModifiers()) || f.getType().isPrimitive()) {
        continue;
      }
      Object v;
      try {
        f.setAccessible(true);
        v = f.get(o);
      } catch (InaccessibleObjectException | IllegalAccessException | SecurityException e) {
        return false;
      }
      visit(path + "." + f.getName(), v, depth + 1);
    }
    return true;
  }

  /** The public view of an object whose fields are closed: record components, getters. */
  private void accessors(String path, Object o, Class<?> c, int depth) {
    if (c.isRecord()) {
      for (RecordComponent rc : c.getRecordComponents()) {
        invoke(path + "." + rc.getName() + "()", o, rc.getAccessor(), depth);
      }
      return;
    }
    if (!Modifier.isPublic(c.getModifiers())) {
      return; // only toString, already checked
    }
    for (Method m : c.getMethods()) {
      String n = m.getName();
      if (m.getParameterCount() == 0 && m.getReturnType() != void.class && !Modifier.isStatic(m.getModifiers())
          && !n.equals("getClass") && ((n.startsWith("get") && n.length() > 3) || (n.startsWith("is") && n.length() > 2))) {
        invoke(path + "." + n + "()", o, m, depth);
      }
    }
  }

  private void invoke(String path, Object o, Method m, int depth) {
    try {
      visit(path, m.invoke(o), depth + 1);
    } catch (ReflectiveOperationException | RuntimeException e) {
      // An accessor that cannot be called shows nothing.
    }
  }

  private static Object field(Object o, String name) throws ReflectiveOperationException {
    Field f = o.getClass().getDeclaredField(name);
    f.setAccessible(true);
    return f.get(o);
  }

  /** Every walk of a predicate-selected subset: for tests that want to see a path was reached. */
  public static boolean anyFinding(SecretWalk w, Predicate<String> p) {
    return w.findings.stream().anyMatch(p);
  }
}
