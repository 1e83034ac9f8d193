/**
 * LangChain4j's HTTP client SPI over an llmpool pool: {@link io.github.llmpool.langchain4j.LlmPoolLangChain4j}
 * makes the {@code HttpClientBuilder} to pass to a model's {@code httpClientBuilder(...)};
 * {@link io.github.llmpool.langchain4j.PoolGaveUpException} is how the pool's give-up reaches
 * LangChain4j without being retried.
 */
package io.github.llmpool.langchain4j;
