package io.github.llmpool;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.util.concurrent.TimeUnit;
import mockwebserver3.MockResponse;
import mockwebserver3.MockWebServer;
import mockwebserver3.RecordedRequest;
import okhttp3.OkHttpClient;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** A provider that redirects to another host must not hand that host the key. */
class RedirectGuardTest {
  private final Upstreams up = new Upstreams();

  @AfterEach
  void close() {
    up.close();
  }

  @Test
  void azureStyleKeyIsStrippedOnACrossHostRedirect() throws Exception {
    MockWebServer elsewhere = up.startChat();
    // "localhost" and "127.0.0.1" are different hosts to OkHttp
    MockWebServer provider = up.start(r -> new MockResponse.Builder().code(307)
        .addHeader("Location", "http://localhost:" + elsewhere.getPort() + "/v1/chat/completions").build());
    ProviderPool pool = ProviderPool.builder().tier(Provider.builder("azure").baseUrl(Upstreams.baseUrl(provider))
        .apiKey("azure-secret").apiKeyHeader("api-key").header("x-goog-api-key", "extra-secret").build()).build();
    OkHttpClient c = up.client(pool, new OkHttpClient.Builder().addNetworkInterceptor(pool.redirectGuard()));
    assertEquals("200", Upstreams.call(c, Upstreams.chat(pool))[0]);
    RecordedRequest first = provider.takeRequest(5, TimeUnit.SECONDS);
    assertEquals("azure-secret", first.getHeaders().get("api-key"));
    RecordedRequest redirected = elsewhere.takeRequest(5, TimeUnit.SECONDS);
    assertNull(redirected.getHeaders().get("api-key"));
    assertNull(redirected.getHeaders().get("x-goog-api-key"));
    assertNull(redirected.getHeaders().get("Authorization"));
  }

  @Test
  void sameHostRedirectKeepsTheKey() throws Exception {
    MockWebServer provider = up.start(r -> r.getTarget().startsWith("/v1/moved")
        ? Fixtures.json("openai-chat.json")
        : new MockResponse.Builder().code(307).addHeader("Location", "/v1/moved").build());
    ProviderPool pool = ProviderPool.builder().tier(Provider.builder("azure").baseUrl(Upstreams.baseUrl(provider))
        .apiKey("azure-secret").apiKeyHeader("api-key").build()).build();
    OkHttpClient c = up.client(pool, new OkHttpClient.Builder().addNetworkInterceptor(pool.redirectGuard()));
    assertEquals("200", Upstreams.call(c, Upstreams.chat(pool))[0]);
    provider.takeRequest(5, TimeUnit.SECONDS);
    assertEquals("azure-secret", provider.takeRequest(5, TimeUnit.SECONDS).getHeaders().get("api-key"));
  }

  @Test
  void poolWarnsOnceWhenAClientFollowsRedirectsWithoutTheGuard() throws Exception {
    MockWebServer provider = up.startChat();
    ProviderPool azure = ProviderPool.builder().tier(Provider.builder("azure").baseUrl(Upstreams.baseUrl(provider))
        .apiKey("azure-secret").apiKeyHeader("api-key").build()).build();
    Upstreams.call(up.client(azure, new OkHttpClient.Builder().addNetworkInterceptor(azure.redirectGuard())), Upstreams.chat(azure));
    assertEquals(false, azure.core().warnedUnguardedRedirects()); // guarded
    Upstreams.call(up.client(azure, new OkHttpClient.Builder().followRedirects(false)), Upstreams.chat(azure));
    assertEquals(false, azure.core().warnedUnguardedRedirects()); // redirects off
    Upstreams.call(up.client(azure), Upstreams.chat(azure));
    assertEquals(true, azure.core().warnedUnguardedRedirects()); // default client: warned

    ProviderPool bearer = ProviderPool.builder().tier(Provider.builder("openai").baseUrl(Upstreams.baseUrl(provider))
        .apiKey("sk-secret").build()).build();
    Upstreams.call(up.client(bearer), Upstreams.chat(bearer));
    assertEquals(false, bearer.core().warnedUnguardedRedirects()); // OkHttp strips Authorization itself
  }
}
