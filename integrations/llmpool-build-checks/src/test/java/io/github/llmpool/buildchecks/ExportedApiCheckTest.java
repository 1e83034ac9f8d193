package io.github.llmpool.buildchecks;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The byte search over class files: it finds a reference to an internal package, and its control. */
class ExportedApiCheckTest {

  @TempDir Path classes;

  /** A file holding the class names as a class file's constant pool does (UTF-8, slashes). */
  private void classFile(String path, String... referredClasses) throws IOException {
    Path file = classes.resolve(path);
    Files.createDirectories(file.getParent());
    StringBuilder constants = new StringBuilder("\u00ca\u00fe\u00ba\u00be");
    for (String c : referredClasses) {
      constants.append('\u0001').append(c.replace('.', '/'));
    }
    Files.write(file, constants.toString().getBytes(StandardCharsets.ISO_8859_1));
  }

  @Test
  void exportedReferencesPass() throws IOException {
    classFile("io/github/llmpool/x/A.class", "io.github.llmpool.ProviderPool", "io.github.llmpool.config.PoolConfig");
    classFile("io/github/llmpool/x/B.class", "io.github.llmpool.spi.AttemptEnd");
    ExportedApiCheck.of(classes).referToNoInternalPackage().referTo("io.github.llmpool.ProviderPool").referTo("io.github.llmpool.spi");
  }

  @Test
  void aReferenceToAnInternalPackageFails() throws IOException {
    classFile("io/github/llmpool/x/A.class", "io.github.llmpool.ProviderPool");
    classFile("io/github/llmpool/x/B.class", "io.github.llmpool.internal.okhttp.JsonRequest");
    String message = assertThrows(AssertionError.class, () -> ExportedApiCheck.of(classes).referToNoInternalPackage()).getMessage();
    assertTrue(message.contains("B.class") && !message.contains("A.class"), message);
  }

  @Test
  void theControlFailsWhenNothingRefersToTheCore() throws IOException {
    classFile("io/github/llmpool/x/A.class", "java.lang.String");
    String message = assertThrows(AssertionError.class, () -> ExportedApiCheck.of(classes).referTo("io.github.llmpool.ProviderPool")).getMessage();
    assertTrue(message.contains("refers to io.github.llmpool.ProviderPool"), message);
  }

  @Test
  void noClassesFail() {
    assertThrows(AssertionError.class, () -> ExportedApiCheck.of(classes));
    assertThrows(AssertionError.class, () -> ExportedApiCheck.of(classes.resolve("missing")));
  }
}
