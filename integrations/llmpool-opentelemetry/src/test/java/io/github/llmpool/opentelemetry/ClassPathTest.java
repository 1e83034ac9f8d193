package io.github.llmpool.opentelemetry;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.jar.JarFile;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/**
 * The resolved class paths hold one OkHttp, one Jackson and one Kotlin runtime, and the OpenTelemetry
 * API (no SDK) and llmpool-telemetry are the module's only additions to what llmpool itself brings.
 *
 * <p>Asserted on the main artifact's runtime class path (what a user of llmpool-opentelemetry gets with
 * llmpool-bom: {@code target/runtime-classpath.txt}, written by maven-dependency-plugin's
 * build-classpath with includeScope=runtime), and on the test class path ({@code java.class.path}),
 * which adds the SDK, its testing exporters and llmpool-testing.
 *
 * <ul>
 *   <li>OkHttp: {@code okhttp3} classes come from exactly one jar, okhttp-jvm 5.x; an
 *       {@code okhttp} artifact, if any, is 5.x and holds no classes.
 *   <li>Jackson: one version of every Jackson module; jackson-annotations of its major.minor.
 *   <li>Kotlin: kotlin-stdlib, -jdk7, -jdk8 and kotlin-reflect have one version.
 * </ul>
 */
class ClassPathTest {

  /** One jar of a class path: its Maven coordinates (from the repository layout) and whether it has okhttp3 classes. */
  record Jar(String group, String artifact, String version, boolean okhttp3Classes, String path) {
    String ga() {
      return group + ":" + artifact;
    }
  }

  static List<Jar> runtimeClassPath() {
    String file = System.getProperty("llmpool.runtimeClasspathFile");
    assertTrue(file != null && Files.isRegularFile(Path.of(file)),
        "run through Maven: target/runtime-classpath.txt (maven-dependency-plugin build-classpath) is missing: " + file);
    try {
      return jars(Files.readString(Path.of(file), StandardCharsets.UTF_8).trim());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  static List<Jar> testClassPath() {
    return jars(System.getProperty("java.class.path"));
  }

  static List<Jar> jars(String classPath) {
    List<Jar> jars = new ArrayList<>();
    for (String entry : classPath.split(File.pathSeparator)) {
      Path p = Path.of(entry);
      if (!entry.endsWith(".jar") || !Files.isRegularFile(p)) {
        continue; // target/classes, target/test-classes
      }
      jars.add(jar(p));
    }
    assertFalse(jars.isEmpty(), "no jar on " + classPath);
    return jars;
  }

  /** Coordinates from the local repository layout: REPO/group/path/artifact/version/artifact-version.jar. */
  static Jar jar(Path p) {
    Path versionDir = p.getParent();
    Path artifactDir = versionDir.getParent();
    String version = versionDir.getFileName().toString();
    String artifact = artifactDir.getFileName().toString();
    String fileName = p.getFileName().toString();
    String group;
    Path repo = Path.of(System.getProperty("llmpool.localRepository", System.getProperty("user.home") + "/.m2/repository"))
        .toAbsolutePath().normalize();
    Path groupDir = artifactDir.getParent().toAbsolutePath().normalize();
    if (fileName.startsWith(artifact + "-" + version) && groupDir.startsWith(repo)) {
      group = repo.relativize(groupDir).toString().replace(File.separatorChar, '.');
    } else {
      // A reactor module's jar (target/name-version.jar): not a third-party library.
      group = "(reactor)";
      artifact = fileName;
      version = "";
    }
    boolean okhttp3;
    try (JarFile jar = new JarFile(p.toFile())) {
      okhttp3 = jar.stream().anyMatch(e -> e.getName().startsWith("okhttp3/") && e.getName().endsWith(".class"));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return new Jar(group, artifact, version, okhttp3, p.toString());
  }

  @Test
  void mainArtifactRuntimeClassPathHasOneOkHttpOneJacksonOneKotlinAndTheApiOnly() {
    List<Jar> jars = runtimeClassPath();
    assertOneOkHttp(jars);
    assertOneJackson(jars);
    assertOneKotlin(jars);
    Set<String> gas = jars.stream().map(Jar::ga).collect(Collectors.toSet());
    assertTrue(gas.contains("io.opentelemetry:opentelemetry-api"), "the API is a runtime dependency: " + gas);
    assertTrue(gas.contains("io.opentelemetry:opentelemetry-context"), gas.toString());
    for (String g : gas) {
      assertFalse(g.startsWith("io.opentelemetry:opentelemetry-sdk"), "the SDK is the application's: " + g);
      assertFalse(g.startsWith("io.micrometer:"), "no Micrometer: " + g);
    }
    assertFalse(gas.contains("com.squareup.okhttp3:okhttp"), "nor OkHttp's `okhttp` artifact at all: " + gas);
  }

  @Test
  void testClassPathWithTheSdkStillHasOneOkHttp() {
    List<Jar> jars = testClassPath();
    Set<String> gas = jars.stream().map(Jar::ga).collect(Collectors.toSet());
    assertTrue(gas.contains("io.opentelemetry:opentelemetry-sdk-testing"), "on the test class path: " + gas);
    assertOneOkHttp(jars);
    assertOneJackson(jars);
    assertOneKotlin(jars);
  }

  static void assertOneOkHttp(List<Jar> jars) {
    List<Jar> withClasses = jars.stream().filter(Jar::okhttp3Classes).toList();
    assertEquals(1, withClasses.size(), "exactly one jar with okhttp3 classes: " + withClasses);
    Jar okhttp = withClasses.get(0);
    assertEquals("com.squareup.okhttp3:okhttp-jvm", okhttp.ga(), okhttp.path());
    assertTrue(okhttp.version().startsWith("5."), "OkHttp 5: " + okhttp);
    for (Jar j : jars) {
      if (j.ga().equals("com.squareup.okhttp3:okhttp")) {
        assertEquals(okhttp.version(), j.version(), "okhttp (the class-less KMP root) aligned with okhttp-jvm: " + j);
        assertFalse(j.okhttp3Classes(), "OkHttp 5's okhttp jar holds no classes: " + j);
      }
    }
  }

  static void assertOneJackson(List<Jar> jars) {
    Map<String, String> versions = new TreeMap<>();
    Set<String> annotations = new TreeSet<>();
    for (Jar j : jars) {
      if (j.group().startsWith("com.fasterxml.jackson")) {
        if (j.ga().equals("com.fasterxml.jackson.core:jackson-annotations")) {
          annotations.add(majorMinor(j.version()));
        } else {
          versions.put(j.ga(), j.version());
        }
      }
    }
    assertTrue(versions.containsKey("com.fasterxml.jackson.core:jackson-core"), "jackson-core: " + versions);
    assertTrue(versions.containsKey("com.fasterxml.jackson.core:jackson-databind"), "jackson-databind: " + versions);
    Set<String> distinct = new TreeSet<>(versions.values());
    assertEquals(1, distinct.size(), "one Jackson version: " + versions);
    assertEquals(Set.of(majorMinor(distinct.iterator().next())), annotations,
        "jackson-annotations of the same major.minor: " + annotations + " vs " + versions);
  }

  static void assertOneKotlin(List<Jar> jars) {
    Map<String, String> versions = new TreeMap<>();
    for (Jar j : jars) {
      if (j.group().equals("org.jetbrains.kotlin")) {
        versions.put(j.artifact(), j.version());
      }
    }
    assertTrue(versions.containsKey("kotlin-stdlib"), "kotlin-stdlib: " + versions);
    assertEquals(1, new TreeSet<>(versions.values()).size(), "one Kotlin version: " + versions);
  }

  private static String majorMinor(String version) {
    String[] parts = version.split("\\.");
    return parts[0] + "." + parts[1];
  }
}
