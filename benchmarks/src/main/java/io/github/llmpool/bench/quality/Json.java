package io.github.llmpool.bench.quality;

import java.io.IOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * A minimal JSON writer for the raw results: maps (insertion order kept), collections, arrays of
 * long/int/double, strings, numbers, booleans and null. Non-finite doubles are written as null.
 */
final class Json {
  private Json() {}

  /** An ordered map, the usual container of a result object. */
  static Map<String, Object> obj() {
    return new LinkedHashMap<>();
  }

  static void write(Path file, Object value) throws IOException {
    Files.createDirectories(file.toAbsolutePath().getParent());
    try (Writer w = Files.newBufferedWriter(file, StandardCharsets.UTF_8)) {
      StringBuilder sb = new StringBuilder(1 << 16);
      append(sb, value, 0);
      sb.append('\n');
      w.write(sb.toString());
    }
  }

  static String toString(Object value) {
    StringBuilder sb = new StringBuilder();
    append(sb, value, 0);
    return sb.toString();
  }

  private static void append(StringBuilder sb, Object v, int depth) {
    if (v == null) {
      sb.append("null");
    } else if (v instanceof String s) {
      string(sb, s);
    } else if (v instanceof Boolean || v instanceof Integer || v instanceof Long) {
      sb.append(v);
    } else if (v instanceof Double || v instanceof Float) {
      number(sb, ((Number) v).doubleValue());
    } else if (v instanceof Map<?, ?> m) {
      sb.append('{');
      boolean first = true;
      for (Map.Entry<?, ?> e : m.entrySet()) {
        if (!first) {
          sb.append(',');
        }
        first = false;
        newline(sb, depth + 1);
        string(sb, String.valueOf(e.getKey()));
        sb.append(": ");
        append(sb, e.getValue(), depth + 1);
      }
      if (!first) {
        newline(sb, depth);
      }
      sb.append('}');
    } else if (v instanceof Collection<?> c) {
      sb.append('[');
      boolean first = true;
      boolean flat = c.stream().allMatch(x -> !(x instanceof Map) && !(x instanceof Collection));
      for (Object x : c) {
        if (!first) {
          sb.append(flat ? ", " : ",");
        }
        first = false;
        if (!flat) {
          newline(sb, depth + 1);
        }
        append(sb, x, depth + 1);
      }
      if (!flat && !first) {
        newline(sb, depth);
      }
      sb.append(']');
    } else if (v instanceof long[] a) {
      sb.append('[');
      for (int i = 0; i < a.length; i++) {
        sb.append(i == 0 ? "" : ", ").append(a[i]);
      }
      sb.append(']');
    } else if (v instanceof int[] a) {
      sb.append('[');
      for (int i = 0; i < a.length; i++) {
        sb.append(i == 0 ? "" : ", ").append(a[i]);
      }
      sb.append(']');
    } else if (v instanceof double[] a) {
      sb.append('[');
      for (int i = 0; i < a.length; i++) {
        sb.append(i == 0 ? "" : ", ");
        number(sb, a[i]);
      }
      sb.append(']');
    } else if (v instanceof Number n) {
      number(sb, n.doubleValue());
    } else {
      string(sb, v.toString());
    }
  }

  private static void newline(StringBuilder sb, int depth) {
    sb.append('\n');
    for (int i = 0; i < depth; i++) {
      sb.append("  ");
    }
  }

  private static void number(StringBuilder sb, double d) {
    if (!Double.isFinite(d)) {
      sb.append("null");
    } else if (d == Math.rint(d) && Math.abs(d) < 1e15) {
      sb.append((long) d);
    } else {
      sb.append(Double.toString(d)); // shortest round-trip form; "1.0E-5" is valid JSON
    }
  }

  private static void string(StringBuilder sb, String s) {
    sb.append('"');
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      switch (c) {
        case '"' -> sb.append("\\\"");
        case '\\' -> sb.append("\\\\");
        case '\n' -> sb.append("\\n");
        case '\r' -> sb.append("\\r");
        case '\t' -> sb.append("\\t");
        default -> {
          if (c < 0x20) {
            sb.append(String.format(Locale.ROOT, "\\u%04x", (int) c));
          } else {
            sb.append(c);
          }
        }
      }
    }
    sb.append('"');
  }
}
