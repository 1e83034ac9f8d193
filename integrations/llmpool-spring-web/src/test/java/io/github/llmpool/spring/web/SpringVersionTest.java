package io.github.llmpool.spring.web;

import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.springframework.core.SpringVersion;
import org.springframework.http.client.ClientHttpRequestFactory;
import org.springframework.http.client.reactive.ClientHttpConnector;

/**
 * Which Spring Framework these tests run on: 6.2 in llmpool-spring-web, 7.0 in
 * llmpool-spring-web-spring7-test, which runs the same RestClient and WebClient tests against the
 * llmpool-spring-web jar compiled against 6.2 (each module's surefire sets
 * {@code llmpool.expectSpringVersion}).
 */
class SpringVersionTest {

  @Test
  void runsOnTheExpectedSpringFramework() {
    String expected = System.getProperty("llmpool.expectSpringVersion");
    assertNotNull(expected, "run through Maven (llmpool.expectSpringVersion)");
    String version = SpringVersion.getVersion();
    assertTrue(version != null && version.startsWith(expected), "Spring Framework " + version + ", expected " + expected + "x");
    assertTrue(ClientHttpRequestFactory.class.getProtectionDomain().getCodeSource().getLocation().toString()
        .contains("spring-web"), "Spring's own interfaces");
    // Both adapters load and link against this Spring version.
    assertTrue(ClientHttpRequestFactory.class.isAssignableFrom(LlmPoolClientHttpRequestFactory.class));
    assertTrue(ClientHttpConnector.class.isAssignableFrom(LlmPoolClientHttpConnector.class));
    if (Boolean.getBoolean("llmpool.expectMainClassesInJar")) {
      String where = LlmPoolSpring.class.getProtectionDomain().getCodeSource().getLocation().toString();
      assertTrue(where.contains("llmpool-spring-web") && !where.contains("spring7-test"),
          "the llmpool-spring-web build output, compiled on 6.2: " + where);
    }
  }
}
