package io.github.llmpool.telemetry;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The integration uses only the core's exported API (io.github.llmpool, io.github.llmpool.config and io.github.llmpool.spi):
 * no compiled class of the main artifact names a class of io.github.llmpool.internal. Class files
 * hold every class they refer to as a UTF-8 constant ("io/github/llmpool/internal/..."), so a
 * plain byte search finds any reference.
 */
class ExportedApiOnlyTest {

  @Test
  void mainClassesReferToNoInternalPackageOfTheCore() throws IOException {
    Path classes = Path.of(System.getProperty("llmpool.classesDir", "target/classes"));
    assertTrue(Files.isDirectory(classes), "no " + classes);
    List<Path> classFiles;
    try (Stream<Path> walk = Files.walk(classes)) {
      classFiles = walk.filter(p -> p.toString().endsWith(".class")).toList();
    }
    assertFalse(classFiles.isEmpty());
    for (Path c : classFiles) {
      String text = new String(Files.readAllBytes(c), StandardCharsets.ISO_8859_1);
      assertFalse(text.contains("io/github/llmpool/internal/"), c + " refers to the core's internal packages");
    }
    // The check can see a reference to the core at all (the control).
    assertEquals(true, classFiles.stream().anyMatch(c -> {
      try {
        return new String(Files.readAllBytes(c), StandardCharsets.ISO_8859_1).contains("io/github/llmpool/spi/AttemptStart");
      } catch (IOException e) {
        throw new java.io.UncheckedIOException(e);
      }
    }), "some class refers to io.github.llmpool.spi.AttemptStart");
  }
}
