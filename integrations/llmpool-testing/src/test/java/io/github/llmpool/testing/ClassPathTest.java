package io.github.llmpool.testing;

import io.github.llmpool.buildchecks.ClassPathCheck;
import org.junit.jupiter.api.Test;

/**
 * The resolved class paths hold one OkHttp, one Jackson and one Kotlin runtime
 * ({@link ClassPathCheck}): the main artifact's runtime class path (what a user of llmpool-testing
 * gets with llmpool-bom) and the test class path. The artifact is declared with test scope by its
 * users, so it must not bring a test framework of its own (JUnit is the user's choice).
 */
class ClassPathTest {

  @Test
  void mainArtifactRuntimeClassPathHasOneOkHttpOneJacksonOneKotlinAndNoTestFramework() {
    ClassPathCheck.runtime().oneOkHttpOneJacksonOneKotlin()
        .has("com.squareup.okhttp3:mockwebserver3", "the server is a runtime dependency")
        .hasNo("com.squareup.okhttp3:okhttp", "no OkHttp `okhttp` artifact at all")
        .hasNoGroup("a test-support artifact brings no test framework of its own", "junit", "org.junit", "org.opentest4j");
  }

  @Test
  void testClassPathStillHasOneOkHttp() {
    ClassPathCheck.test().oneOkHttpOneJacksonOneKotlin();
  }
}
