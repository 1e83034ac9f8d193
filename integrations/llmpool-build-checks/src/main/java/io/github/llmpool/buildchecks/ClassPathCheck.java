package io.github.llmpool.buildchecks;

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
import java.util.function.Function;
import java.util.function.Predicate;
import java.util.jar.JarFile;
import java.util.stream.Collectors;

/**
 * Checks of a resolved class path: one OkHttp, one Jackson and one Kotlin runtime, plus the
 * artifacts a module says must or must not be on it. Every check throws an {@link AssertionError}
 * whose message names the class path and lists what it found; every check returns {@code this}.
 *
 * <ul>
 *   <li>{@link #oneOkHttp()}: {@code okhttp3} classes come from exactly one jar, okhttp-jvm 5.x; an
 *       {@code okhttp} artifact, if any, has okhttp-jvm's version and holds no classes (OkHttp 5's
 *       class-less Kotlin-multiplatform root, what llmpool-bom turns an OkHttp 4 request into).
 *   <li>{@link #oneJackson()}: jackson-core, jackson-databind and every other Jackson 2 module have
 *       one version; jackson-annotations has its major.minor (since 2.20 it has no patch number).
 *   <li>{@link #oneKotlin()}: kotlin-stdlib, -jdk7, -jdk8 and kotlin-reflect have one version.
 * </ul>
 *
 * <p>A jar's coordinates come from the local repository layout
 * ({@code REPO/group/path/artifact/version/artifact-version.jar}); a jar outside it (a reactor
 * module's {@code target/name-version.jar}) gets the group {@code (reactor)} and its file name as
 * artifact. Directories on the class path ({@code target/classes}) are skipped.
 *
 * <p>The class paths, as the integrations' parent pom sets them up for every module:
 * {@link #runtime()} reads the system property {@code llmpool.runtimeClasspathFile}
 * ({@code target/runtime-classpath.txt}, written by maven-dependency-plugin's build-classpath
 * with includeScope=runtime: what a user of the artifact gets with llmpool-bom) and
 * {@link #test()} reads {@code java.class.path}; both find the local repository in
 * {@code llmpool.localRepository}.
 */
public final class ClassPathCheck {

  /**
   * One jar of a class path.
   *
   * @param group its groupId, or {@code (reactor)} for a jar outside the local repository
   * @param artifact its artifactId, or the file name of a reactor jar
   * @param version its version ({@code ""} for a reactor jar)
   * @param okhttp3Classes whether it holds classes of the {@code okhttp3} package
   * @param path where it is
   */
  public record Jar(String group, String artifact, String version, boolean okhttp3Classes, String path) {
    /**
     * The Maven coordinates without version.
     *
     * @return {@code group:artifact}
     */
    public String ga() {
      return group + ":" + artifact;
    }
  }

  private final String name;
  private final List<Jar> jars;

  private ClassPathCheck(String name, List<Jar> jars) {
    this.name = name;
    this.jars = List.copyOf(jars);
  }

  /**
   * The main artifact's resolved runtime class path (what a user gets), from the file named by the
   * system property {@code llmpool.runtimeClasspathFile}.
   *
   * @return the check of that class path
   * @throws AssertionError if the property is unset or the file is missing (not run through Maven)
   */
  public static ClassPathCheck runtime() {
    String file = System.getProperty("llmpool.runtimeClasspathFile");
    check(file != null && Files.isRegularFile(Path.of(file)),
        "run through Maven: the runtime class path file (llmpool.runtimeClasspathFile, maven-dependency-plugin "
            + "build-classpath in integrations/pom.xml) is missing: " + file);
    try {
      return of("main artifact's runtime class path", Files.readString(Path.of(file), StandardCharsets.UTF_8).trim(),
          localRepository());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /**
   * The test class path ({@code java.class.path}): the runtime one plus the module's test-scoped
   * dependencies.
   *
   * @return the check of that class path
   */
  public static ClassPathCheck test() {
    return of("test class path", System.getProperty("java.class.path"), localRepository());
  }

  /**
   * Any class path.
   *
   * @param name what it is, for the messages
   * @param classPath entries separated by {@link File#pathSeparator}
   * @param localRepository the Maven local repository the jars were resolved into
   * @return the check of that class path
   * @throws AssertionError if it holds no jar
   */
  public static ClassPathCheck of(String name, String classPath, Path localRepository) {
    Path repo = localRepository.toAbsolutePath().normalize();
    List<Jar> jars = new ArrayList<>();
    for (String entry : classPath.split(File.pathSeparator)) {
      Path p = Path.of(entry);
      if (entry.endsWith(".jar") && Files.isRegularFile(p)) {
        jars.add(jar(p, repo));
      }
    }
    check(!jars.isEmpty(), name + ": no jar on " + classPath);
    return new ClassPathCheck(name, jars);
  }

  private static Path localRepository() {
    return Path.of(System.getProperty("llmpool.localRepository", System.getProperty("user.home") + "/.m2/repository"));
  }

  private static Jar jar(Path p, Path repo) {
    Path versionDir = p.getParent();
    Path artifactDir = versionDir == null ? null : versionDir.getParent();
    Path groupDir = artifactDir == null ? null : artifactDir.getParent();
    String fileName = p.getFileName().toString();
    String group = "(reactor)";
    String artifact = fileName;
    String version = "";
    if (groupDir != null) {
      String v = versionDir.getFileName().toString();
      String a = artifactDir.getFileName().toString();
      Path g = groupDir.toAbsolutePath().normalize();
      if (fileName.startsWith(a + "-" + v) && g.startsWith(repo) && !g.equals(repo)) {
        group = repo.relativize(g).toString().replace(File.separatorChar, '.');
        artifact = a;
        version = v;
      }
    }
    boolean okhttp3;
    try (JarFile jar = new JarFile(p.toFile())) {
      okhttp3 = jar.stream().anyMatch(e -> e.getName().startsWith("okhttp3/") && e.getName().endsWith(".class"));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return new Jar(group, artifact, version, okhttp3, p.toString());
  }

  /**
   * The jars, in class path order.
   *
   * @return every jar of the class path
   */
  public List<Jar> jars() {
    return jars;
  }

  /**
   * The coordinates of the jars.
   *
   * @return every jar's {@code group:artifact}
   */
  public Set<String> artifacts() {
    return jars.stream().map(Jar::ga).collect(Collectors.toCollection(TreeSet::new));
  }

  /**
   * {@link #oneOkHttp()}, {@link #oneJackson()} and {@link #oneKotlin()}.
   *
   * @return this
   */
  public ClassPathCheck oneOkHttpOneJacksonOneKotlin() {
    return oneOkHttp().oneJackson().oneKotlin();
  }

  /**
   * {@code okhttp3} classes come from exactly one jar, okhttp-jvm 5.x; an {@code okhttp} jar, if
   * any, has the same version and no classes.
   *
   * @return this
   */
  public ClassPathCheck oneOkHttp() {
    List<Jar> withClasses = jars.stream().filter(Jar::okhttp3Classes).toList();
    check(withClasses.size() == 1, name + ": exactly one jar with okhttp3 classes: " + withClasses);
    Jar okhttp = withClasses.get(0);
    check(okhttp.ga().equals("com.squareup.okhttp3:okhttp-jvm"),
        name + ": okhttp3 classes come from com.squareup.okhttp3:okhttp-jvm: " + okhttp);
    check(okhttp.version().startsWith("5."), name + ": OkHttp 5: " + okhttp);
    for (Jar j : jars) {
      if (j.ga().equals("com.squareup.okhttp3:okhttp")) {
        check(j.version().equals(okhttp.version()),
            name + ": okhttp (the class-less KMP root) aligned with okhttp-jvm " + okhttp.version() + ": " + j);
        check(!j.okhttp3Classes(), name + ": OkHttp 5's okhttp jar holds no classes: " + j);
      }
    }
    return this;
  }

  /**
   * One Jackson 2 version ({@code com.fasterxml.jackson.*}; jackson-core and jackson-databind
   * present), jackson-annotations of its major.minor.
   *
   * @return this
   */
  public ClassPathCheck oneJackson() {
    String annotationsGa = "com.fasterxml.jackson.core:jackson-annotations";
    Map<String, String> versions = versions(j -> j.group().startsWith("com.fasterxml.jackson") && !j.ga().equals(annotationsGa), Jar::ga);
    Set<String> annotations = new TreeSet<>();
    versions(j -> j.ga().equals(annotationsGa), Jar::path).values().forEach(v -> annotations.add(majorMinor(v)));
    check(versions.containsKey("com.fasterxml.jackson.core:jackson-core"), name + ": jackson-core: " + versions);
    check(versions.containsKey("com.fasterxml.jackson.core:jackson-databind"), name + ": jackson-databind: " + versions);
    Set<String> distinct = new TreeSet<>(versions.values());
    check(distinct.size() == 1, name + ": one Jackson version: " + versions);
    check(annotations.equals(Set.of(majorMinor(distinct.iterator().next()))),
        name + ": jackson-annotations of the same major.minor: " + annotations + " vs " + versions);
    return this;
  }

  /**
   * At most one Jackson 3 version ({@code tools.jackson.*}).
   *
   * @return this
   */
  public ClassPathCheck oneJackson3() {
    Map<String, String> versions = versions(j -> j.group().startsWith("tools.jackson"), Jar::ga);
    check(new TreeSet<>(versions.values()).size() <= 1, name + ": one Jackson 3 version: " + versions);
    return this;
  }

  /**
   * One Kotlin version ({@code org.jetbrains.kotlin}; kotlin-stdlib present).
   *
   * @return this
   */
  public ClassPathCheck oneKotlin() {
    Map<String, String> versions = versions(j -> j.group().equals("org.jetbrains.kotlin"), Jar::artifact);
    check(versions.containsKey("kotlin-stdlib"), name + ": kotlin-stdlib: " + versions);
    check(new TreeSet<>(versions.values()).size() == 1, name + ": one Kotlin version: " + versions);
    return this;
  }

  /**
   * The artifact is on the class path.
   *
   * @param ga {@code group:artifact}
   * @param why the message
   * @return this
   */
  public ClassPathCheck has(String ga, String why) {
    check(artifacts().contains(ga), name + ": " + why + ": " + ga + " not in " + artifacts());
    return this;
  }

  /**
   * The artifact is not on the class path.
   *
   * @param ga {@code group:artifact}
   * @param why the message
   * @return this
   */
  public ClassPathCheck hasNo(String ga, String why) {
    check(!artifacts().contains(ga), name + ": " + why + ": " + ga + " in " + artifacts());
    return this;
  }

  /**
   * No artifact of a group that starts with one of the prefixes is on the class path.
   *
   * @param why the message
   * @param groupPrefixes e.g. {@code org.junit}
   * @return this
   */
  public ClassPathCheck hasNoGroup(String why, String... groupPrefixes) {
    Predicate<Jar> banned = j -> {
      for (String prefix : groupPrefixes) {
        if (j.group().startsWith(prefix)) {
          return true;
        }
      }
      return false;
    };
    List<String> found = jars.stream().filter(banned).map(Jar::ga).toList();
    check(found.isEmpty(), name + ": " + why + ": " + found);
    return this;
  }

  /**
   * The artifact is on the class path at a version that starts with the prefix.
   *
   * @param ga {@code group:artifact}
   * @param versionPrefix e.g. {@code 3.5.}
   * @param why the message
   * @return this
   */
  public ClassPathCheck hasVersion(String ga, String versionPrefix, String why) {
    check(jars.stream().anyMatch(j -> j.ga().equals(ga) && j.version().startsWith(versionPrefix)),
        name + ": " + why + ": " + ga + " " + versionPrefix + "* not in " + versionsOf(ga));
    return this;
  }

  /**
   * The artifact is on the class path, and at least at the version.
   *
   * @param ga {@code group:artifact}
   * @param minimum numeric parts, e.g. {@code 2.22} (the jar's further parts are not compared)
   * @param why the message
   * @return this
   */
  public ClassPathCheck hasAtLeast(String ga, String minimum, String why) {
    List<String> versions = versionsOf(ga);
    check(!versions.isEmpty(), name + ": " + why + ": no " + ga + " in " + artifacts());
    for (String v : versions) {
      check(atLeast(v, minimum), name + ": " + why + ": " + ga + ":" + v + " below " + minimum);
    }
    return this;
  }

  private Map<String, String> versions(Predicate<Jar> which, Function<Jar, String> key) {
    Map<String, String> versions = new TreeMap<>();
    jars.stream().filter(which).forEach(j -> versions.put(key.apply(j), j.version()));
    return versions;
  }

  private List<String> versionsOf(String ga) {
    return jars.stream().filter(j -> j.ga().equals(ga)).map(Jar::version).toList();
  }

  static boolean atLeast(String version, String minimum) {
    String[] v = version.split("[.-]");
    String[] m = minimum.split("\\.");
    for (int i = 0; i < m.length; i++) {
      int want = Integer.parseInt(m[i]);
      int have;
      try {
        have = i < v.length ? Integer.parseInt(v[i]) : 0;
      } catch (NumberFormatException e) {
        return false;
      }
      if (have != want) {
        return have > want;
      }
    }
    return true;
  }

  private static String majorMinor(String version) {
    String[] parts = version.split("\\.");
    return parts.length < 2 ? version : parts[0] + "." + parts[1];
  }

  static void check(boolean condition, String message) {
    if (!condition) {
      throw new AssertionError(message);
    }
  }

  /**
   * The class path's name and its jars.
   *
   * @return e.g. {@code test class path [com.squareup.okhttp3:okhttp-jvm:5.5.1, ...]}
   */
  @Override
  public String toString() {
    return name + " " + jars.stream().map(j -> j.ga() + ":" + j.version()).toList();
  }
}
