package io.github.llmpool.buildchecks;

import static io.github.llmpool.buildchecks.ClassPathCheck.check;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;

/**
 * An integration uses only the core's exported API ({@code io.github.llmpool},
 * {@code io.github.llmpool.config}, {@code io.github.llmpool.spi}): no compiled class of its main
 * artifact names a class of {@code io.github.llmpool.internal}. Class files hold every class they
 * refer to as a UTF-8 constant ({@code "io/github/llmpool/internal/..."}), so a plain byte search
 * finds any reference; {@link #referTo(String)} is the control that the search sees references to
 * the core at all.
 */
public final class ExportedApiCheck {

  private static final String INTERNAL = "io/github/llmpool/internal/";

  private final Path classes;
  private final Map<Path, String> classFiles;

  private ExportedApiCheck(Path classes, Map<Path, String> classFiles) {
    this.classes = classes;
    this.classFiles = classFiles;
  }

  /**
   * The module's main classes: the directory named by the system property {@code llmpool.classesDir}
   * (set for every integration module in integrations/pom.xml), {@code target/classes} without it.
   *
   * @return the check of those classes
   * @throws AssertionError if the directory is missing or holds no class file
   */
  public static ExportedApiCheck mainClasses() {
    return of(Path.of(System.getProperty("llmpool.classesDir", "target/classes")));
  }

  /**
   * The class files below a directory.
   *
   * @param classes a class output directory
   * @return the check of those classes
   * @throws AssertionError if the directory is missing or holds no class file
   */
  public static ExportedApiCheck of(Path classes) {
    check(Files.isDirectory(classes), "no " + classes);
    Map<Path, String> texts = new TreeMap<>();
    try (Stream<Path> walk = Files.walk(classes)) {
      for (Path c : walk.filter(p -> p.toString().endsWith(".class")).toList()) {
        texts.put(c, new String(Files.readAllBytes(c), StandardCharsets.ISO_8859_1));
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    check(!texts.isEmpty(), "no class file below " + classes);
    return new ExportedApiCheck(classes, texts);
  }

  /**
   * No class refers to a class of {@code io.github.llmpool.internal}.
   *
   * @return this
   */
  public ExportedApiCheck referToNoInternalPackage() {
    List<Path> offending = new ArrayList<>();
    classFiles.forEach((c, text) -> {
      if (text.contains(INTERNAL)) {
        offending.add(classes.relativize(c));
      }
    });
    check(offending.isEmpty(), classes + ": classes that refer to the core's internal packages (io.github.llmpool.internal): " + offending);
    return this;
  }

  /**
   * Some class refers to a class whose name starts with the given one (the control).
   *
   * @param classNamePrefix e.g. {@code io.github.llmpool.ProviderPool}
   * @return this
   */
  public ExportedApiCheck referTo(String classNamePrefix) {
    String internalName = classNamePrefix.replace('.', '/');
    check(classFiles.values().stream().anyMatch(text -> text.contains(internalName)),
        "no class below " + classes + " refers to " + classNamePrefix);
    return this;
  }
}
