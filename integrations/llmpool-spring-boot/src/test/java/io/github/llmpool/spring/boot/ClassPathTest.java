package io.github.llmpool.spring.boot;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.llmpool.buildchecks.ClassPathCheck;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/**
 * The resolved class paths hold one OkHttp, one Jackson 2 (and one Jackson 3) and one Kotlin
 * runtime ({@link ClassPathCheck}), with Spring Boot 4.0.7's and Spring AI 2.0.1's BOMs imported
 * after llmpool-bom.
 *
 * <p>Declared naively next to llmpool, Spring AI 2.0.1's OpenAI model died at class
 * initialisation ({@code NoClassDefFoundError: com/fasterxml/jackson/annotation/JsonSerializeAs} in
 * {@code OpenAiChatModel.<clinit>}: the SDK's jackson-annotations 2.18 against newer Jackson) and had
 * OkHttp 4.12 ({@code okhttp}, which spring-ai-openai asks for) and okhttp-jvm 5 both on the class
 * path. With the BOM first, the {@code okhttp} artifact spring-ai-openai asks for is 5.x and holds
 * no classes, jackson-annotations (shared with Jackson 3) has Jackson 2's major.minor, Jackson 3
 * ({@code tools.jackson}, Spring Boot 4's and Spring AI's) has one version, and
 * {@code OpenAiChatModel} initialises.
 *
 * <p>The main artifact's runtime class path includes its optional dependencies (Actuator, Spring
 * AI, llmpool-openai-java); the test class path adds {@code spring-ai-starter-model-openai} and
 * Spring Boot's test starter.
 */
class ClassPathTest {

  @Test
  void mainArtifactRuntimeClassPathHasOneOkHttpOneJacksonOneKotlin() {
    ClassPathCheck.runtime().oneOkHttpOneJacksonOneKotlin().oneJackson3()
        .has("org.springframework.boot:spring-boot-autoconfigure", "Spring Boot's auto-configuration")
        .has("org.springframework.ai:spring-ai-openai", "optional Spring AI is on it")
        .has("com.openai:openai-java-core", "the OpenAI SDK (optional llmpool-openai-java)")
        .hasNo("com.openai:openai-java-client-okhttp", "the SDK's OkHttp transport is not");
    assertOneMicrometer(ClassPathCheck.runtime());
  }

  /**
   * Micrometer's core, commons and observation jars at one version, Spring Boot 4.0.7's: llmpool-micrometer, built
   * with a newer one, runs on what Boot's BOM manages (Spring Framework and Spring AI bring observation).
   */
  static void assertOneMicrometer(ClassPathCheck classPath) {
    List<ClassPathCheck.Jar> jars = classPath.jars();
    // From the local repository, or the reactor's target/ in the full build.
    assertTrue(jars.stream().anyMatch(j -> j.path().contains("llmpool-micrometer")), "optional llmpool-micrometer: " + jars);
    Set<String> versions = jars.stream().filter(j -> j.group().equals("io.micrometer") && j.artifact().startsWith("micrometer-")
        && !j.artifact().startsWith("micrometer-registry-")).map(ClassPathCheck.Jar::version).collect(Collectors.toSet());
    assertEquals(Set.of("1.16.6"), versions, "one Micrometer version, Spring Boot 4.0.7's: " + jars);
  }

  @Test
  void springAiTestClassPathHasOneOkHttpOneJacksonOneKotlinAndOpenAiChatModelInitialises() throws Exception {
    ClassPathCheck.test()
        .has("org.springframework.ai:spring-ai-starter-model-openai", "Spring AI's OpenAI starter")
        .has("com.squareup.okhttp3:okhttp", "spring-ai-openai asks for okhttp (4.12)")
        .oneOkHttpOneJacksonOneKotlin().oneJackson3();
    assertOneMicrometer(ClassPathCheck.test());
    // What died with NoClassDefFoundError: com/fasterxml/jackson/annotation/JsonSerializeAs.
    Class<?> model = Class.forName("org.springframework.ai.openai.OpenAiChatModel", true,
        ClassPathTest.class.getClassLoader());
    assertEquals("OpenAiChatModel", model.getSimpleName());
  }
}
