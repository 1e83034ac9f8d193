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

/** The arrows of DESIGN.md go one way; these checks read the sources. */
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
  void onlyTheOkhttpPackageTouchesOkHttp() throws IOException {
    List<Path> all = sources("");
    assertTrue(all.size() > 20, "sources found: " + all.size());
    List<Path> outside = all.stream().filter(p -> !p.startsWith(MAIN.resolve("okhttp"))).toList();
    assertEquals(List.of(), offenders(outside, Pattern.compile("\\bokhttp3\\.|\\bokio\\.|mockwebserver")));
  }

  @Test
  void selectionAndHealthTakeTimeFromTheTicker() throws IOException {
    Pattern clock = Pattern.compile("System\\.(nanoTime|currentTimeMillis)\\(|Instant\\.now\\(|ThreadLocalRandom");
    assertEquals(List.of(), offenders(sources("select"), clock));
    assertEquals(List.of(), offenders(sources("health"), clock));
  }

  @Test
  void theUsageParserKnowsNothingOfPools() throws IOException {
    Pattern pool = Pattern.compile("import io\\.github\\.llmpool\\.(internal|select|health|okhttp)|import io\\.github\\.llmpool\\.[A-Z]");
    assertEquals(List.of(), offenders(sources("usage"), pool));
  }

  @Test
  void selectionKnowsNothingOfHttp() throws IOException {
    assertEquals(List.of(), offenders(sources("select"), Pattern.compile("import io\\.github\\.llmpool\\.(okhttp|usage)")));
    assertEquals(List.of(), offenders(sources("health"), Pattern.compile("import io\\.github\\.llmpool\\.(okhttp|usage|select)")));
  }
}
