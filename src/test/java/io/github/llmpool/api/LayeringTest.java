package io.github.llmpool.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The arrows of {@code docs/architecture.md} go one way, checked on the compiled classes (what the
 * code really references, read from each class file's constant pool), not on import lines:
 *
 * <pre>
 *   API entry points (ProviderPool, ModelRouter, Provider) and config
 *     └─> internal.okhttp ─> internal.engine ─> internal.route ─> internal.health ─> spi ─> API values
 *                 └──────────────┴──> internal.usage (a leaf: knows nothing of pools)
 * </pre>
 *
 * The extension points ({@code spi}: attempt listeners, shared state, the randomness seam) name
 * only API values and the JDK, so any layer may name them and they name none.
 *
 * The root package plays two parts: its <em>values</em> (policies, events, usage records,
 * snapshots, listeners, exceptions, {@code Ticker}) are what every layer may name, and they name
 * nothing internal; its <em>entry points</em> build the engine. Seen that way the graph must have
 * no cycle at all; the test fails with the cycle and one class reference for each of its arrows.
 */
class LayeringTest {
  private static final String P = "io.github.llmpool";
  /** The root package's entry points: the only root classes that may reach into internal packages. */
  private static final Set<String> ENTRY = Set.of(P + ".ProviderPool", P + ".ModelRouter", P + ".Provider");
  private static Map<String, Set<String>> deps;
  private static Map<String, Set<String>> everything;

  @BeforeAll
  static void read() throws IOException {
    deps = ClassDeps.read(Path.of("target/classes"), P);
    everything = ClassDeps.read(Path.of("target/classes"), "");
    assertTrue(deps.size() > 60, "classes read: " + deps.size());
  }

  /** The layer a class belongs to: its package, with the root split into entry points and values. */
  static String layer(String cls) {
    String pkg = ClassDeps.packageOf(cls);
    if (pkg.equals(P)) {
      return ENTRY.contains(ClassDeps.topLevel(cls)) ? P + " (entry points)" : P + " (values)";
    }
    return pkg;
  }

  /** Layer to layer, with one class-level example per arrow. */
  static Map<String, Map<String, String>> arrows() {
    Map<String, Map<String, String>> out = new TreeMap<>();
    deps.forEach((from, tos) -> {
      for (String to : tos) {
        String a = layer(from);
        String b = layer(to);
        if (!a.equals(b)) {
          out.computeIfAbsent(a, k -> new TreeMap<>()).putIfAbsent(b, from + " -> " + to);
        }
      }
    });
    return out;
  }

  @Test
  void thePackageGraphHasNoCycle() {
    Map<String, Map<String, String>> g = arrows();
    List<String> cycle = findCycle(g);
    if (!cycle.isEmpty()) {
      List<String> why = new ArrayList<>();
      for (int i = 0; i + 1 < cycle.size(); i++) {
        why.add(g.get(cycle.get(i)).get(cycle.get(i + 1)));
      }
      throw new AssertionError("cycle " + String.join(" -> ", cycle) + " because " + why);
    }
  }

  private static List<String> findCycle(Map<String, Map<String, String>> g) {
    Map<String, Integer> state = new HashMap<>(); // 1 on the path, 2 done
    for (String start : g.keySet()) {
      LinkedHashMap<String, Boolean> path = new LinkedHashMap<>();
      List<String> c = dfs(start, g, state, path);
      if (!c.isEmpty()) {
        return c;
      }
    }
    return List.of();
  }

  private static List<String> dfs(String n, Map<String, Map<String, String>> g, Map<String, Integer> state,
      LinkedHashMap<String, Boolean> path) {
    Integer s = state.get(n);
    if (s != null && s == 2) {
      return List.of();
    }
    if (s != null && s == 1) {
      List<String> onPath = new ArrayList<>(path.keySet());
      List<String> c = new ArrayList<>(onPath.subList(onPath.indexOf(n), onPath.size()));
      c.add(n);
      return c;
    }
    state.put(n, 1);
    path.put(n, true);
    for (String m : g.getOrDefault(n, Map.of()).keySet()) {
      List<String> c = dfs(m, g, state, path);
      if (!c.isEmpty()) {
        return c;
      }
    }
    path.remove(n);
    state.put(n, 2);
    return List.of();
  }

  @Test
  void eachLayerNamesOnlyTheLayersBelowIt() {
    Map<String, Set<String>> allowed = Map.of(
        P + " (values)", Set.of(),
        // the extension points name the API values and the JDK only: implementations depend on
        // nothing that changes with the engine
        P + ".spi", Set.of(P + " (values)"),
        P + ".internal.usage", Set.of(),
        P + ".internal.health", Set.of(P + ".spi", P + " (values)"),
        P + ".internal.route", Set.of(P + ".internal.health", P + ".spi", P + " (values)"),
        P + ".internal.engine", Set.of(P + ".internal.route", P + ".internal.health", P + ".internal.usage",
            P + ".spi", P + " (values)"),
        P + ".internal.okhttp", Set.of(P + ".internal.engine", P + ".internal.route", P + ".internal.health",
            P + ".internal.usage", P + ".spi", P + " (values)"));
    Set<String> offenders = new TreeSet<>();
    arrows().forEach((from, tos) -> {
      Set<String> ok = allowed.get(from);
      if (ok != null) {
        tos.forEach((to, example) -> {
          if (!ok.contains(to)) {
            offenders.add(from + " must not name " + to + " (" + example + ")");
          }
        });
      }
    });
    assertEquals(Set.of(), offenders);
  }

  @Test
  void onlyTheOkhttpLayerAndTheEntryPointsTouchOkHttp() {
    Set<String> offenders = new TreeSet<>();
    everything.forEach((from, tos) -> {
      boolean okhttp = tos.stream().anyMatch(t -> t.startsWith("okhttp3.") || t.startsWith("okio."));
      String l = layer(from);
      boolean allowed = l.equals(P + ".internal.okhttp")
          // the entry points hand out interceptors and configure clients: their signatures name
          // okhttp3.Interceptor and OkHttpClient (and its Builder) only; internal.okhttp does the work
          || (l.equals(P + " (entry points)") && tos.stream()
              .filter(t -> t.startsWith("okhttp3.") || t.startsWith("okio."))
              .allMatch(t -> t.equals("okhttp3.Interceptor") || t.equals("okhttp3.OkHttpClient")
                  || t.equals("okhttp3.OkHttpClient$Builder")));
      if (okhttp && !allowed) {
        offenders.add(from);
      }
    });
    assertEquals(Set.of(), offenders);
  }

  @Test
  void theSpiNamesOnlyApiValuesAndTheJdk() {
    Set<String> offenders = new TreeSet<>();
    everything.forEach((from, tos) -> {
      if (!ClassDeps.packageOf(from).equals(P + ".spi")) {
        return;
      }
      for (String to : tos) {
        String l = to.startsWith(P + ".") ? layer(to) : null;
        boolean ok = to.startsWith("java.") || (P + ".spi").equals(l) || (P + " (values)").equals(l);
        if (!ok) {
          offenders.add(from + " -> " + to);
        }
      }
    });
    assertTrue(everything.keySet().stream().anyMatch(c -> ClassDeps.packageOf(c).equals(P + ".spi")), "spi classes read");
    assertEquals(Set.of(), offenders);
  }

  @Test
  void onlyTheConfigPackageUsesJacksonDatabind() {
    Set<String> offenders = new TreeSet<>();
    everything.forEach((from, tos) -> {
      if (tos.stream().anyMatch(t -> t.startsWith("com.fasterxml.jackson.databind."))
          && !ClassDeps.packageOf(from).equals(P + ".config")) {
        offenders.add(from);
      }
    });
    assertEquals(Set.of(), offenders);
  }
}
