/**
 * Spring's HTTP clients over an llmpool pool: {@link io.github.llmpool.spring.web.LlmPoolSpring}
 * builds a {@code ClientHttpRequestFactory} for {@code RestClient}/{@code RestTemplate} and a
 * reactive {@code ClientHttpConnector} for {@code WebClient}, both on OkHttp 5, and gives the root
 * base URL Spring AI 1.x expects.
 */
package io.github.llmpool.spring.web;
