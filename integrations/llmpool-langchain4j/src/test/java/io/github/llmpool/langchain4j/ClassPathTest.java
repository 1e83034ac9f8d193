package io.github.llmpool.langchain4j;

import io.github.llmpool.buildchecks.ClassPathCheck;
import org.junit.jupiter.api.Test;

/**
 * The resolved class paths hold one OkHttp, one Jackson and one Kotlin runtime
 * ({@link ClassPathCheck}): the main artifact's runtime class path (what a user of
 * llmpool-langchain4j gets with llmpool-bom), and the test class path, which adds LangChain4j's
 * OpenAI models and their JDK HTTP client (what a user of this artifact has next to it).
 * LangChain4j 1.19.0 asks for Jackson 2.22.1.
 */
class ClassPathTest {

  @Test
  void mainArtifactRuntimeClassPathHasOneOkHttpOneJacksonOneKotlin() {
    ClassPathCheck.runtime().oneOkHttpOneJacksonOneKotlin()
        .has("dev.langchain4j:langchain4j-http-client", "LangChain4j's HTTP SPI is a runtime dependency")
        .has("dev.langchain4j:langchain4j-core", "and its core")
        .hasNo("dev.langchain4j:langchain4j-open-ai", "no LangChain4j model module")
        .hasNo("dev.langchain4j:langchain4j-http-client-jdk", "nor LangChain4j's JDK client")
        .hasNo("com.squareup.okhttp3:okhttp", "nor OkHttp's `okhttp` artifact at all");
  }

  @Test
  void testClassPathWithLangChain4jsOpenAiModelsStillHasOneOkHttpOneJacksonOneKotlin() {
    ClassPathCheck.test()
        .has("dev.langchain4j:langchain4j-open-ai", "LangChain4j's OpenAI models are on the test class path")
        .has("dev.langchain4j:langchain4j-http-client-jdk", "with their JDK client")
        .oneOkHttpOneJacksonOneKotlin();
  }
}
