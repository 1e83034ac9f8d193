package io.github.llmpool.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

/**
 * The test suite ran on exactly the OkHttp, Jackson and slf4j versions the pom says (the core's
 * declared minimums in a plain build, the BOM's newest with {@code -Pnewest-deps}), not on
 * whatever else resolution could have put on the class path; and the BOM never pins anything
 * older than what the core declares (docs/dependencies.md). The expected versions come from the
 * pom through surefire's system properties; run outside Maven (without them) the test fails, saying so.
 */
class DependencyVersionsTest {
  private static final Path BOM = Path.of("integrations/llmpool-bom/pom.xml");
  private static final Path CORE = Path.of("pom.xml");

  private static String expected(String name) {
    String v = System.getProperty("llmpool.expect." + name);
    assertTrue(v != null && !v.isBlank() && !v.startsWith("${"),
        "llmpool.expect." + name + " is not set: run the test through Maven (surefire sets it from pom.xml)");
    return v;
  }

  private static String property(Path pom, String name) throws IOException {
    Matcher m = Pattern.compile("<" + Pattern.quote(name) + ">([^<]+)</" + Pattern.quote(name) + ">")
        .matcher(Files.readString(pom));
    assertTrue(m.find(), pom + " declares no <" + name + ">");
    return m.group(1).trim();
  }

  /** The first {@code <name>} inside the {@code newest-deps} profile of the core pom. */
  private static String newestProfileProperty(String name) throws IOException {
    String pom = Files.readString(CORE);
    int at = pom.indexOf("<id>newest-deps</id>");
    assertTrue(at > 0, "pom.xml has no newest-deps profile");
    Matcher m = Pattern.compile("<" + Pattern.quote(name) + ">([^<]+)</").matcher(pom);
    assertTrue(m.find(at), "the newest-deps profile sets no <" + name + ">");
    return m.group(1).trim();
  }

  /** Negative, zero or positive as a is older than, equal to or newer than b (numeric parts). */
  static int compare(String a, String b) {
    String[] x = a.split("[.-]");
    String[] y = b.split("[.-]");
    for (int i = 0; i < Math.max(x.length, y.length); i++) {
      long p = i < x.length && x[i].matches("\\d+") ? Long.parseLong(x[i]) : 0;
      long q = i < y.length && y[i].matches("\\d+") ? Long.parseLong(y[i]) : 0;
      if (p != q) {
        return Long.compare(p, q);
      }
    }
    return 0;
  }

  @Test
  void okHttpOnTheClassPathIsTheOneThePomNames() {
    String want = expected("okhttp");
    System.out.println("DependencyVersionsTest: okhttp-jvm " + okhttp3.OkHttp.VERSION);
    assertEquals(want, okhttp3.OkHttp.VERSION);
  }

  @Test
  void jacksonOnTheClassPathIsTheOneThePomNames() {
    String want = expected("jackson");
    String core = com.fasterxml.jackson.core.json.PackageVersion.VERSION.toString();
    String databind = com.fasterxml.jackson.databind.cfg.PackageVersion.VERSION.toString();
    System.out.println("DependencyVersionsTest: jackson-core " + core + ", jackson-databind " + databind);
    assertEquals(want, core, "jackson-core");
    assertEquals(want, databind, "jackson-databind");
  }

  @Test
  void slf4jOnTheClassPathIsTheOneThePomNames() throws URISyntaxException {
    String want = expected("slf4j");
    // slf4j-api has no version constant: the jar LoggerFactory was loaded from names it.
    String jar = Path.of(LoggerFactory.class.getProtectionDomain().getCodeSource().getLocation().toURI())
        .getFileName().toString();
    System.out.println("DependencyVersionsTest: " + jar);
    assertEquals("slf4j-api-" + want + ".jar", jar);
  }

  @Test
  void theBomPinsNothingOlderThanTheCoreDeclares() throws IOException {
    expected("okhttp");
    for (String name : new String[] {"okhttp.version", "jackson.version"}) {
      String core = property(CORE, name);
      String bom = property(BOM, name);
      assertTrue(compare(bom, core) >= 0, "llmpool-bom " + name + " " + bom + " is older than the core's " + core);
    }
  }

  @Test
  void newestDepsProfileIsWhatTheBomPins() throws IOException {
    String newest = expected("newest");
    for (String name : new String[] {"okhttp.version", "jackson.version"}) {
      assertEquals(property(BOM, name), newestProfileProperty(name),
          name + ": -Pnewest-deps must test what llmpool-bom pins");
    }
    if (Boolean.parseBoolean(newest)) {
      assertEquals(property(BOM, "okhttp.version"), expected("okhttp"));
      assertEquals(property(BOM, "jackson.version"), expected("jackson"));
    }
  }

  @Test
  void versionOrder() {
    assertTrue(compare("5.5.1", "5.4.0") > 0);
    assertTrue(compare("2.22.4", "2.21.8") > 0);
    assertTrue(compare("2.21.10", "2.21.8") > 0);
    assertEquals(0, compare("2.21.8", "2.21.8"));
    assertTrue(compare("2.18.12", "2.21.1") < 0);
  }
}
