package io.github.llmpool.openai;

import io.github.llmpool.buildchecks.ClassPathCheck;
import org.junit.jupiter.api.Test;

/**
 * The resolved class paths hold one OkHttp, one Jackson and one Kotlin runtime
 * ({@link ClassPathCheck}): the main artifact's runtime class path (what a user of
 * llmpool-openai-java gets with llmpool-bom), and the test class path, which adds the SDK's own
 * OkHttp transport and its {@code okhttp:4.12.0} request: with the BOM that still resolves to
 * OkHttp 5's class-less jar.
 */
class ClassPathTest {

  @Test
  void mainArtifactRuntimeClassPathHasOneOkHttpOneJacksonOneKotlin() {
    ClassPathCheck.runtime().oneOkHttpOneJacksonOneKotlin()
        .has("com.openai:openai-java-core", "the SDK core is a runtime dependency")
        .hasNo("com.openai:openai-java-client-okhttp", "the SDK's OkHttp transport is not")
        .hasNo("com.squareup.okhttp3:okhttp", "nor OkHttp's `okhttp` artifact at all");
  }

  @Test
  void testClassPathWithTheSdksOkHttpTransportStillHasOneOkHttp() {
    ClassPathCheck.test()
        .has("com.openai:openai-java-client-okhttp", "the SDK transport is on the test class path")
        .oneOkHttpOneJacksonOneKotlin();
  }
}
