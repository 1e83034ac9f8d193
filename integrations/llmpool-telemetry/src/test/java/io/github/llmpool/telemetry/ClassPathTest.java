package io.github.llmpool.telemetry;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.llmpool.buildchecks.ClassPathCheck;
import org.junit.jupiter.api.Test;

/**
 * The main artifact's runtime class path (what a user of llmpool-telemetry gets with llmpool-bom)
 * holds one OkHttp, one Jackson and one Kotlin runtime ({@link ClassPathCheck}), and the module adds
 * nothing to what llmpool itself brings (no Micrometer, no OpenTelemetry).
 */
class ClassPathTest {

  @Test
  void mainArtifactRuntimeClassPathHasOneOkHttpOneJacksonOneKotlinAndNoTelemetryLibrary() {
    ClassPathCheck runtime = ClassPathCheck.runtime().oneOkHttpOneJacksonOneKotlin()
        .hasNoGroup("no telemetry library", "io.micrometer", "io.opentelemetry")
        .hasNo("com.squareup.okhttp3:okhttp", "nor OkHttp's `okhttp` artifact at all");
    // The core, from the local repository or (in the full build) the reactor's target/.
    assertTrue(runtime.jars().stream().anyMatch(j -> j.ga().equals("io.github.llmpool:llmpool")
        || j.group().equals("(reactor)") && j.artifact().startsWith("llmpool-")), "the core: " + runtime);
  }
}
