package io.github.llmpool.opentelemetry;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.github.llmpool.buildchecks.ClassPathCheck;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The resolved class paths hold one OkHttp, one Jackson and one Kotlin runtime
 * ({@link ClassPathCheck}), and the OpenTelemetry API (no SDK) and llmpool-telemetry are the
 * module's only additions to what llmpool itself brings: the main artifact's runtime class path
 * (what a user of llmpool-opentelemetry gets with llmpool-bom), and the test class path, which adds
 * the SDK, its testing exporters and llmpool-testing.
 */
class ClassPathTest {

  @Test
  void mainArtifactRuntimeClassPathHasOneOkHttpOneJacksonOneKotlinAndTheApiOnly() {
    ClassPathCheck runtime = ClassPathCheck.runtime().oneOkHttpOneJacksonOneKotlin()
        .has("io.opentelemetry:opentelemetry-api", "the API is a runtime dependency")
        .has("io.opentelemetry:opentelemetry-context", "and its context")
        .hasNoGroup("no Micrometer", "io.micrometer")
        .hasNo("com.squareup.okhttp3:okhttp", "nor OkHttp's `okhttp` artifact at all");
    List<String> sdk = runtime.artifacts().stream().filter(ga -> ga.startsWith("io.opentelemetry:opentelemetry-sdk")).toList();
    assertEquals(List.of(), sdk, "the SDK is the application's: " + runtime);
  }

  @Test
  void testClassPathWithTheSdkStillHasOneOkHttp() {
    ClassPathCheck.test()
        .has("io.opentelemetry:opentelemetry-sdk-testing", "on the test class path")
        .oneOkHttpOneJacksonOneKotlin();
  }
}
