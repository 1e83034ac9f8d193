package io.github.llmpool;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * Source-level rules of DESIGN.md (the package graph itself is checked on the compiled classes by
 * {@code api.LayeringTest}): time and randomness come from the injected {@code Ticker} and
 * {@code RandomSource} in selection and health.
 */
class ArchitectureTest {
  private static final Path MAIN = Path.of("src/main/java/io/github/llmpool");

  private static List<Path> sources(String sub) throws IOException {
    try (Stream<Path> s = Files.walk(MAIN.resolve(sub))) {
      return s.filter(p -> p.toString().endsWith(".java")).toList();
    }
  }

  private static List<String> offenders(List<Path> files, Pattern forbidden) throws IOException {
    return files.stream().filter(p -> {
      try {
        return forbidden.matcher(Files.readString(p)).find();
      } catch (IOException e) {
        throw new java.io.UncheckedIOException(e);
      }
    }).map(Path::toString).toList();
  }

  @Test
  void selectionAndHealthTakeTimeFromTheTicker() throws IOException {
    Pattern clock = Pattern.compile("System\\.(nanoTime|currentTimeMillis)\\(|Instant\\.now\\(|ThreadLocalRandom");
    List<Path> route = sources("internal/route");
    List<Path> health = sources("internal/health");
    assertTrue(route.size() > 5 && health.size() > 3, "sources found: " + route.size() + ", " + health.size());
    assertEquals(List.of(), offenders(route, clock));
    assertEquals(List.of(), offenders(health, clock));
  }
}
