package io.github.llmpool.micrometer;

import io.github.llmpool.buildchecks.ClassPathCheck;
import org.junit.jupiter.api.Test;

/**
 * The resolved class paths hold one OkHttp, one Jackson and one Kotlin runtime
 * ({@link ClassPathCheck}), and Micrometer is the module's only addition to what llmpool itself
 * brings: the main artifact's runtime class path (what a user of llmpool-micrometer gets with
 * llmpool-bom), and the test class path, which adds the Prometheus registry and its client.
 */
class ClassPathTest {

  @Test
  void mainArtifactRuntimeClassPathHasOneOkHttpOneJacksonOneKotlin() {
    ClassPathCheck.runtime().oneOkHttpOneJacksonOneKotlin()
        .has("io.micrometer:micrometer-core", "Micrometer is a runtime dependency")
        .hasNo("io.micrometer:micrometer-registry-prometheus", "a registry is the user's choice")
        .hasNo("com.squareup.okhttp3:okhttp", "nor OkHttp's `okhttp` artifact at all");
  }

  @Test
  void testClassPathWithThePrometheusRegistryStillHasOneOkHttp() {
    ClassPathCheck.test()
        .has("io.micrometer:micrometer-registry-prometheus", "on the test class path")
        .oneOkHttpOneJacksonOneKotlin();
  }
}
