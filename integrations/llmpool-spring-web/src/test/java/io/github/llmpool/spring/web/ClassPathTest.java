package io.github.llmpool.spring.web;

import io.github.llmpool.buildchecks.ClassPathCheck;
import org.junit.jupiter.api.Test;

/**
 * The resolved class paths hold one OkHttp, one Jackson and one Kotlin runtime
 * ({@link ClassPathCheck}): the main artifact's runtime class path (what a user of
 * llmpool-spring-web gets with llmpool-bom), and the test class path, which adds Spring Boot 3.5.7
 * and Spring AI 1.1.2, whose BOMs are imported after llmpool-bom.
 */
class ClassPathTest {

  @Test
  void mainArtifactRuntimeClassPathHasOneOkHttpOneJacksonOneKotlin() {
    bomWonOverBoot(ClassPathCheck.runtime().oneOkHttpOneJacksonOneKotlin())
        .has("org.springframework:spring-web", "spring-web is a runtime dependency")
        .hasNoGroup("Spring AI is not", "org.springframework.ai")
        .hasNo("com.squareup.okhttp3:okhttp", "nor OkHttp's `okhttp` artifact");
  }

  @Test
  void testClassPathWithSpringBoot35AndSpringAiStillHasOneOkHttpOneJacksonOneKotlin() {
    bomWonOverBoot(ClassPathCheck.test()
        .has("org.springframework.ai:spring-ai-openai", "Spring AI is on the test class path")
        .hasVersion("org.springframework.boot:spring-boot", "3.5.", "Spring Boot 3.5 is on the test class path")
        .hasVersion("org.springframework:spring-web", "6.2.", "Spring Framework 6.2")
        .oneOkHttpOneJacksonOneKotlin());
  }

  /**
   * llmpool-bom is imported before spring-boot-dependencies, so its versions win where both manage
   * one: Boot 3.5.7 manages Jackson 2.19.2 and Kotlin 1.9.25, llmpool-bom Jackson 2.22.x (the core
   * is built with it) and Kotlin 2.x (OkHttp 5.5.1 is built against stdlib 2.1).
   */
  static ClassPathCheck bomWonOverBoot(ClassPathCheck classPath) {
    return classPath
        .hasAtLeast("com.fasterxml.jackson.core:jackson-databind", "2.22", "llmpool-bom's Jackson, not Boot's 2.19")
        .hasAtLeast("org.jetbrains.kotlin:kotlin-stdlib", "2", "llmpool-bom's Kotlin, not Boot's 1.9");
  }
}
