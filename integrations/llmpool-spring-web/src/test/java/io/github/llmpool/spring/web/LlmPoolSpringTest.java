package io.github.llmpool.spring.web;

import static io.github.llmpool.spring.web.OpenAiFakes.provider;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.llmpool.ModelRouter;
import io.github.llmpool.Provider;
import io.github.llmpool.ProviderPool;
import io.github.llmpool.testing.FakeLlmServer;
import java.time.Duration;
import okhttp3.OkHttpClient;
import org.junit.jupiter.api.Test;
import org.springframework.http.MediaType;
import org.springframework.web.client.RestClient;
import org.springframework.web.reactive.function.client.WebClient;

/** The one-line entry points: what the clients they build carry, routers, and no key in sight. */
class LlmPoolSpringTest {

  @Test
  void theOkHttpClientCarriesThePoolTheRedirectGuardADispatcherOf64AndALongReadTimeout() {
    ProviderPool pool = ProviderPool.builder().tier(Provider.builder("p").baseUrl("http://127.0.0.1:1/v1").build()).build();
    for (OkHttpClient c : new OkHttpClient[] {LlmPoolSpring.okHttpClient(pool),
        LlmPoolSpring.requestFactory(pool).okHttpClient(), LlmPoolSpring.connector(pool).okHttpClient()}) {
      assertTrue(c.interceptors().contains(pool.interceptor()));
      assertTrue(c.networkInterceptors().contains(pool.redirectGuard()));
      assertEquals(64, c.dispatcher().getMaxRequestsPerHost(), "not OkHttp's silent 5 per host");
      assertEquals(64, c.dispatcher().getMaxRequests());
      assertEquals(Duration.ofMinutes(10).toMillis(), c.readTimeoutMillis());
    }
  }

  @Test
  void aModelRouterWorksTheSameWay() throws Exception {
    try (FakeLlmServer a = OpenAiFakes.openAi("a"); FakeLlmServer b = OpenAiFakes.openAi("b")) {
      ModelRouter router = ModelRouter.builder()
          .route("small", ProviderPool.builder().name("small").tier(provider(a)).build())
          .route("large", ProviderPool.builder().name("large").tier(provider(b)).build())
          .build();
      assertEquals("http://llmpool.invalid", LlmPoolSpring.baseUrl(router));
      OkHttpClient c = LlmPoolSpring.okHttpClient(router);
      assertTrue(c.interceptors().contains(router.interceptor()));
      assertEquals(64, c.dispatcher().getMaxRequestsPerHost());

      RestClient rest = RestClient.builder().baseUrl(router.baseUrl().toString())
          .requestFactory(LlmPoolSpring.requestFactory(router)).build();
      WebClient web = WebClient.builder().baseUrl(router.baseUrl().toString())
          .clientConnector(LlmPoolSpring.connector(router)).build();
      String small = rest.post().uri("chat/completions").contentType(MediaType.APPLICATION_JSON)
          .body("{\"model\":\"small\",\"messages\":[]}").retrieve().body(String.class);
      String large = web.post().uri("chat/completions").contentType(MediaType.APPLICATION_JSON)
          .bodyValue("{\"model\":\"large\",\"messages\":[]}").retrieve().bodyToMono(String.class)
          .block(Duration.ofSeconds(10));

      assertTrue(small.contains("agentgateway works") && large.contains("agentgateway works"));
      assertEquals(1, a.requestCount());
      assertEquals(1, b.requestCount());
      assertEquals("model-b", b.lastRequest().json().path("model").asText());
    }
  }

  @Test
  void noKeyInToStringAndThePlaceholderNeverReachesAProvider() throws Exception {
    try (FakeLlmServer a = OpenAiFakes.openAi("a")) {
      ProviderPool pool = ProviderPool.builder().tier(provider(a)).build();
      LlmPoolClientHttpRequestFactory factory = LlmPoolSpring.requestFactory(pool);
      LlmPoolClientHttpConnector connector = LlmPoolSpring.connector(pool);
      assertFalse(factory.toString().contains(a.apiKey()), factory.toString());
      assertFalse(connector.toString().contains(a.apiKey()), connector.toString());

      RestClient.builder().baseUrl(LlmPoolSpring.baseUrl(pool)).requestFactory(factory)
          .defaultHeader("Authorization", "Bearer " + LlmPoolSpring.PLACEHOLDER_API_KEY).build()
          .post().uri("/v1/chat/completions").contentType(MediaType.APPLICATION_JSON)
          .body("{\"model\":\"m\",\"messages\":[]}").retrieve().toBodilessEntity();

      assertEquals("Bearer key-a", a.lastRequest().headers().get("Authorization"));
      assertFalse(a.lastRequest().headers().toString().contains(LlmPoolSpring.PLACEHOLDER_API_KEY));
    }
  }

  @Test
  void nullArgumentsAreNamed() {
    NullPointerException e = assertThrows(NullPointerException.class, () -> LlmPoolSpring.requestFactory((ProviderPool) null));
    assertEquals("pool", e.getMessage());
    e = assertThrows(NullPointerException.class, () -> LlmPoolSpring.connector((ModelRouter) null));
    assertEquals("router", e.getMessage());
    e = assertThrows(NullPointerException.class, () -> new LlmPoolClientHttpConnector(null));
    assertEquals("client", e.getMessage());
  }
}
