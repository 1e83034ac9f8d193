package io.github.llmpool.buildchecks;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The checks on class paths of real jar files in a local-repository layout: each rule passes on
 * the class path llmpool-bom gives and fails on the one it is there to catch.
 */
class ClassPathCheckTest {

  @TempDir Path repo;

  private final List<String> entries = new ArrayList<>();

  /** Writes REPO/group/path/artifact/version/artifact-version.jar holding the given entries. */
  private ClassPathCheckTest jar(String group, String artifact, String version, String... entryNames) throws IOException {
    Path dir = repo.resolve(group.replace('.', '/')).resolve(artifact).resolve(version);
    Files.createDirectories(dir);
    Path jar = dir.resolve(artifact + "-" + version + ".jar");
    try (OutputStream out = Files.newOutputStream(jar); JarOutputStream j = new JarOutputStream(out)) {
      j.putNextEntry(new JarEntry("META-INF/MANIFEST.MF"));
      j.closeEntry();
      for (String name : entryNames) {
        j.putNextEntry(new JarEntry(name));
        j.write(new byte[] {(byte) 0xCA, (byte) 0xFE});
        j.closeEntry();
      }
    }
    entries.add(jar.toString());
    return this;
  }

  /** What llmpool-bom resolves: OkHttp 5 (okhttp-jvm with the classes, class-less okhttp), Jackson 2.22, Kotlin 2.1. */
  private ClassPathCheckTest good() throws IOException {
    return jar("com.squareup.okhttp3", "okhttp-jvm", "5.5.1", "okhttp3/OkHttpClient.class")
        .jar("com.squareup.okhttp3", "okhttp", "5.5.1")
        .jar("com.fasterxml.jackson.core", "jackson-core", "2.22.4", "com/fasterxml/jackson/core/JsonParser.class")
        .jar("com.fasterxml.jackson.core", "jackson-databind", "2.22.4")
        .jar("com.fasterxml.jackson.core", "jackson-annotations", "2.22")
        .jar("com.fasterxml.jackson.datatype", "jackson-datatype-jsr310", "2.22.4")
        .jar("org.jetbrains.kotlin", "kotlin-stdlib", "2.1.21")
        .jar("org.jetbrains.kotlin", "kotlin-stdlib-jdk8", "2.1.21");
  }

  private ClassPathCheck check() {
    return ClassPathCheck.of("fake class path", String.join(File.pathSeparator, entries), repo);
  }

  private static String fails(Runnable check) {
    return assertThrows(AssertionError.class, check::run).getMessage();
  }

  @Test
  void theBomsClassPathPasses() throws IOException {
    ClassPathCheck cp = good().check().oneOkHttpOneJacksonOneKotlin().oneJackson3();
    assertEquals(8, cp.jars().size());
    assertTrue(cp.artifacts().contains("com.squareup.okhttp3:okhttp-jvm"), cp.toString());
    assertTrue(cp.jars().get(0).okhttp3Classes());
    assertFalse(cp.jars().get(1).okhttp3Classes());
    assertEquals("5.5.1", cp.jars().get(0).version());
  }

  @Test
  void okHttp4NextToOkHttp5Fails() throws IOException {
    good().jar("com.squareup.okhttp3", "okhttp", "4.12.0", "okhttp3/OkHttpClient.class");
    String message = fails(() -> check().oneOkHttp());
    assertTrue(message.startsWith("fake class path: exactly one jar with okhttp3 classes"), message);
    assertTrue(message.contains("4.12.0"), message);
  }

  @Test
  void okHttp4AloneFails() throws IOException {
    jar("com.squareup.okhttp3", "okhttp", "4.12.0", "okhttp3/OkHttpClient.class");
    assertTrue(fails(() -> check().oneOkHttp()).contains("come from com.squareup.okhttp3:okhttp-jvm"));
  }

  @Test
  void aClasslessOkhttpOfAnotherVersionFails() throws IOException {
    jar("com.squareup.okhttp3", "okhttp-jvm", "5.5.1", "okhttp3/OkHttpClient.class").jar("com.squareup.okhttp3", "okhttp", "5.1.0");
    assertTrue(fails(() -> check().oneOkHttp()).contains("aligned with okhttp-jvm 5.5.1"));
  }

  @Test
  void noOkHttpFails() throws IOException {
    jar("org.jetbrains.kotlin", "kotlin-stdlib", "2.1.21");
    assertTrue(fails(() -> check().oneOkHttp()).contains("exactly one jar with okhttp3 classes: []"));
  }

  @Test
  void twoJacksonVersionsFail() throws IOException {
    good().jar("com.fasterxml.jackson.module", "jackson-module-kotlin", "2.18.2");
    assertTrue(fails(() -> check().oneJackson()).contains("one Jackson version"));
  }

  @Test
  void jacksonAnnotationsOfAnotherMinorFail() throws IOException {
    jar("com.fasterxml.jackson.core", "jackson-core", "2.22.4")
        .jar("com.fasterxml.jackson.core", "jackson-databind", "2.22.4")
        .jar("com.fasterxml.jackson.core", "jackson-annotations", "2.18.2");
    assertTrue(fails(() -> check().oneJackson()).contains("jackson-annotations of the same major.minor: [2.18]"));
  }

  @Test
  void twoJackson3VersionsFail() throws IOException {
    good().jar("tools.jackson.core", "jackson-core", "3.0.1").jar("tools.jackson.core", "jackson-databind", "3.1.0");
    assertTrue(fails(() -> check().oneJackson3()).contains("one Jackson 3 version"));
  }

  @Test
  void anOldKotlinStdlibJdk8Fails() throws IOException {
    good().jar("org.jetbrains.kotlin", "kotlin-stdlib-jdk7", "1.8.0");
    assertTrue(fails(() -> check().oneKotlin()).contains("one Kotlin version"));
  }

  @Test
  void artifactsAndVersionsAsAModuleStatesThem() throws IOException {
    ClassPathCheck cp = good().jar("org.junit.jupiter", "junit-jupiter-api", "5.13.4").check();
    cp.has("com.squareup.okhttp3:okhttp", "x").hasNo("com.openai:openai-java-core", "x")
        .hasVersion("org.jetbrains.kotlin:kotlin-stdlib", "2.1.", "x")
        .hasAtLeast("com.fasterxml.jackson.core:jackson-databind", "2.22", "x")
        .hasAtLeast("org.jetbrains.kotlin:kotlin-stdlib", "2", "x")
        .hasNoGroup("x", "org.opentest4j");
    assertTrue(fails(() -> cp.has("com.openai:openai-java-core", "the SDK")).startsWith("fake class path: the SDK: com.openai"));
    assertTrue(fails(() -> cp.hasNo("com.squareup.okhttp3:okhttp", "no okhttp")).contains("no okhttp"));
    assertTrue(fails(() -> cp.hasVersion("org.jetbrains.kotlin:kotlin-stdlib", "1.9.", "Boot's")).contains("[2.1.21]"));
    assertTrue(fails(() -> cp.hasAtLeast("com.fasterxml.jackson.core:jackson-databind", "2.23", "new")).contains("below 2.23"));
    assertTrue(fails(() -> cp.hasAtLeast("org.slf4j:slf4j-api", "2", "slf4j")).contains("no org.slf4j:slf4j-api"));
    assertTrue(fails(() -> cp.hasNoGroup("no test framework", "junit", "org.junit")).contains("org.junit.jupiter:junit-jupiter-api"));
  }

  @Test
  void versionComparison() {
    assertTrue(ClassPathCheck.atLeast("2.22.4", "2.22"));
    assertTrue(ClassPathCheck.atLeast("2.100.0", "2.22"));
    assertTrue(ClassPathCheck.atLeast("3.0.0", "2.22"));
    assertFalse(ClassPathCheck.atLeast("2.19.2", "2.22"));
    assertFalse(ClassPathCheck.atLeast("1.9.25", "2"));
    assertTrue(ClassPathCheck.atLeast("2.1.21", "2"));
    assertTrue(ClassPathCheck.atLeast("5.0.0-alpha.1", "5"));
  }

  @Test
  void aJarOutsideTheRepositoryIsAReactorJar(@TempDir Path target) throws IOException {
    Path reactorJar = target.resolve("llmpool-0.1.0-SNAPSHOT.jar");
    try (JarOutputStream j = new JarOutputStream(Files.newOutputStream(reactorJar))) {
      j.putNextEntry(new JarEntry("io/github/llmpool/ProviderPool.class"));
      j.closeEntry();
    }
    entries.add(reactorJar.toString());
    entries.add(target.toString()); // a directory (target/classes): skipped
    ClassPathCheck.Jar jar = check().jars().get(0);
    assertEquals("(reactor):llmpool-0.1.0-SNAPSHOT.jar", jar.ga());
    assertEquals(1, check().jars().size());
  }

  @Test
  void aClassPathWithoutJarsFails(@TempDir Path classes) {
    assertTrue(fails(() -> ClassPathCheck.of("empty", classes.toString(), repo)).startsWith("empty: no jar on"));
  }

  @Test
  void theRuntimeClassPathNeedsItsFile() {
    String before = System.getProperty("llmpool.runtimeClasspathFile");
    System.setProperty("llmpool.runtimeClasspathFile", repo.resolve("missing.txt").toString());
    try {
      assertTrue(fails(ClassPathCheck::runtime).contains("llmpool.runtimeClasspathFile"));
    } finally {
      if (before == null) {
        System.clearProperty("llmpool.runtimeClasspathFile");
      } else {
        System.setProperty("llmpool.runtimeClasspathFile", before);
      }
    }
  }

  /** This module's own runtime class path (no dependencies) and test class path, as Maven resolved them. */
  @Test
  void thisModulesClassPathsAsMavenResolvedThem() {
    assertTrue(fails(ClassPathCheck::runtime).contains("no jar on"), "this module has no runtime dependency");
    ClassPathCheck.test().has("org.junit.jupiter:junit-jupiter-api", "JUnit is a test dependency here")
        .hasNo("com.squareup.okhttp3:okhttp-jvm", "no OkHttp");
  }
}
