package io.github.llmpool.config;

import com.fasterxml.jackson.databind.JsonNode;
import java.time.Duration;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A JSON value of a configuration file and its JSONPath ({@code $.tiers[0].providers[1].weight}),
 * with typed reads whose errors name that path and the bad value. Immutable; package-private
 * helper of {@link PoolConfig}.
 */
final class ConfigNode {
  private static final Pattern IDENT = Pattern.compile("[A-Za-z_][A-Za-z0-9_]*");
  private static final Pattern SHORT_DURATION = Pattern.compile("(\\d{1,12})(ms|s|m|h|d)");
  private static final int MAX_SHOWN = 80;

  final JsonNode node;
  final String path;

  ConfigNode(JsonNode node, String path) {
    this.node = node;
    this.path = path;
  }

  /** The child {@code name} (absent when missing or JSON null). */
  ConfigNode get(String name) {
    JsonNode child = node.get(name);
    String p = IDENT.matcher(name).matches() ? path + "." + name : path + "['" + name.replace("'", "\\'") + "']";
    return new ConfigNode(child == null || child.isNull() ? null : child, p);
  }

  boolean present() {
    return node != null;
  }

  /** Refuses any field not in {@code known}, naming its path and the known ones. */
  ConfigNode only(List<String> known) {
    Set<String> set = Set.copyOf(known);
    for (Map.Entry<String, JsonNode> e : node.properties()) {
      String f = e.getKey();
      if (!set.contains(f)) {
        throw new IllegalArgumentException(get(f).path + " is not a known setting; known: " + String.join(", ", known));
      }
    }
    return this;
  }

  ConfigNode object() {
    if (!node.isObject()) {
      throw bad("an object");
    }
    return this;
  }

  /** The elements of an array, each with its path. */
  List<ConfigNode> array() {
    if (!node.isArray()) {
      throw bad("an array");
    }
    List<ConfigNode> out = new ArrayList<>();
    for (int i = 0; i < node.size(); i++) {
      out.add(new ConfigNode(node.get(i), path + "[" + i + "]"));
    }
    return out;
  }

  ConfigNode required() {
    if (node == null) {
      throw new IllegalArgumentException(path + " is required");
    }
    return this;
  }

  String text() {
    if (!node.isTextual()) {
      throw bad("a string");
    }
    return node.textValue();
  }

  int integer() {
    if (!node.isIntegralNumber() || !node.canConvertToInt()) {
      throw bad("an integer");
    }
    return node.intValue();
  }

  long longInteger() {
    if (!node.isIntegralNumber() || !node.canConvertToLong()) {
      throw bad("an integer");
    }
    return node.longValue();
  }

  double number() {
    if (!node.isNumber()) {
      throw bad("a number");
    }
    return node.doubleValue();
  }

  boolean bool() {
    if (!node.isBoolean()) {
      throw bad("true or false");
    }
    return node.booleanValue();
  }

  /** An enum constant named case-insensitively. */
  <E extends Enum<E>> E enumValue(Class<E> type) {
    String s = text();
    for (E e : type.getEnumConstants()) {
      if (e.name().equalsIgnoreCase(s)) {
        return e;
      }
    }
    List<String> names = new ArrayList<>();
    for (E e : type.getEnumConstants()) {
      names.add(e.name());
    }
    throw bad("one of " + String.join(", ", names));
  }

  /**
   * A duration: ISO-8601 ({@code "PT5S"}, {@code "PT1M30S"}, {@code "P1D"}) or a sequence of
   * integer + unit ({@code ms}, {@code s}, {@code m}, {@code h}, {@code d}): {@code "500ms"},
   * {@code "5s"}, {@code "1m30s"}. A bare number is refused: its unit would be a guess.
   */
  Duration duration() {
    if (!node.isTextual()) {
      throw bad("a duration string such as \"5s\", \"500ms\", \"1m30s\" or \"PT5S\"");
    }
    Duration d = parseDuration(node.textValue());
    if (d == null) {
      throw bad("a duration such as \"5s\", \"500ms\", \"1m30s\" or \"PT5S\"");
    }
    return d;
  }

  static Duration parseDuration(String s) {
    String t = s.trim();
    if (t.isEmpty()) {
      return null;
    }
    char c0 = Character.toUpperCase(t.charAt(0));
    if (c0 == 'P' || ((c0 == '-' || c0 == '+') && t.length() > 1 && Character.toUpperCase(t.charAt(1)) == 'P')) {
      try {
        return Duration.parse(t.toUpperCase(Locale.ROOT));
      } catch (DateTimeParseException e) {
        return null;
      }
    }
    Matcher m = SHORT_DURATION.matcher(t);
    Duration total = Duration.ZERO;
    int pos = 0;
    try {
      while (pos < t.length()) {
        if (!m.find(pos) || m.start() != pos) {
          return null;
        }
        long n = Long.parseLong(m.group(1));
        Duration part = switch (m.group(2)) {
          case "ms" -> Duration.ofMillis(n);
          case "s" -> Duration.ofSeconds(n);
          case "m" -> Duration.ofMinutes(n);
          case "h" -> Duration.ofHours(n);
          default -> Duration.ofDays(n);
        };
        total = total.plus(part);
        pos = m.end();
      }
    } catch (ArithmeticException e) {
      return null;
    }
    return total;
  }

  /** "{@code <path> must be <what> but was <value>}". */
  IllegalArgumentException bad(String what) {
    return new IllegalArgumentException(path + " must be " + what + " but was " + shown());
  }

  /** "{@code <path> <message>}". */
  IllegalArgumentException error(String message) {
    return new IllegalArgumentException(path + " " + message);
  }

  /** The value as JSON, cut to a readable length. */
  String shown() {
    String s = node == null ? "null" : node.toString();
    return s.length() <= MAX_SHOWN ? s : s.substring(0, MAX_SHOWN) + "...";
  }
}
