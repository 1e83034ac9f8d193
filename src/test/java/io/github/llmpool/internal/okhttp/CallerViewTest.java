package io.github.llmpool.internal.okhttp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.llmpool.AttemptsExhaustedException;
import io.github.llmpool.Provider;
import io.github.llmpool.ProviderPool;
import io.github.llmpool.RetryPolicy;
import io.github.llmpool.internal.route.Endpoint;
import io.github.llmpool.reliability.SecretWalk;
import java.io.IOException;
import java.lang.reflect.Field;
import java.lang.reflect.Proxy;
import java.net.ProtocolException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.function.Function;
import okhttp3.Interceptor;
import okhttp3.MediaType;
import okhttp3.OkHttpClient;
import okhttp3.Protocol;
import okhttp3.Request;
import okhttp3.RequestBody;
import okhttp3.Response;
import okhttp3.ResponseBody;
import okio.Buffer;
import okio.BufferedSource;
import okio.ForwardingSource;
import okio.Okio;
import org.junit.jupiter.api.Test;

/**
 * Where the caller's view of an attempt is made: the tag the redirect guard reads
 * ({@link RequestPlan#forEndpoint}), the request the caller gets back
 * ({@link LogicalCall#withoutCredentials}), and the response and exception the interceptor hands
 * back, driven here through {@code pool.interceptor()} with a scripted {@link Interceptor.Chain}
 * (no network) so that every link OkHttp can put on a response (network, cache and prior
 * responses, each with its request) and every failure text can be set up exactly.
 */
class CallerViewTest {
  private static final String KEY = "sk-unit-" + UUID.randomUUID().toString().replace("-", "");
  private static final String AZURE_KEY = "azure-unit-" + UUID.randomUUID().toString().replace("-", "");
  private static final String EXTRA = "extra-unit-" + UUID.randomUUID().toString().replace("-", "");
  private static final List<String> SECRETS = List.of(KEY, AZURE_KEY, EXTRA);
  private static final MediaType JSON = MediaType.get("application/json");
  private static final String CHAT = "{\"model\":\"m\",\"messages\":[]}";

  private static Endpoint azureEndpoint() {
    return new Endpoint("azure", "http", "127.0.0.1", 9, "/v1", "api-key", AZURE_KEY, null,
        List.of(Map.entry("x-goog-api-key", EXTRA)), true);
  }

  private static Request callerRequest() {
    return new Request.Builder().url("http://llmpool.invalid/v1/chat/completions")
        .post(RequestBody.create(CHAT, JSON)).build();
  }

  private static Object tags(Request r) throws ReflectiveOperationException {
    Field f = Request.class.getDeclaredField("tags");
    f.setAccessible(true);
    return f.get(r);
  }

  // ------------------------------------------------------------------ tags and the caller's request

  @Test
  void theTagTheRedirectGuardReadsCarriesNoCredential() throws Exception {
    Request out = RequestPlan.of(callerRequest(), "/v1").forEndpoint(azureEndpoint());
    assertEquals(AZURE_KEY, out.header("api-key"), "the provider's request is signed");
    SecretWalk.lookingFor(SECRETS).walk("forEndpoint(e).tags", tags(out)).assertClean("the outgoing request's tags");
  }

  @Test
  void theRequestHandedBackCarriesNoCredentialAndNoPoolTag() throws Exception {
    Request caller = callerRequest().newBuilder().tag(String.class, "the caller's own tag").build();
    Endpoint e = azureEndpoint();
    Request back = LogicalCall.withoutCredentials(RequestPlan.of(caller, "/v1").forEndpoint(e), e);
    SecretWalk.lookingFor(SECRETS).walk("withoutCredentials(...)", back).assertClean("the request handed back");
    assertNull(back.header("api-key"));
    assertNull(back.header("x-goog-api-key"));
    assertEquals("the caller's own tag", back.tag(String.class), "the caller's tags stay");
    assertNull(back.tag(Endpoint.class));
  }

  // ------------------------------------------------------------------ a scripted chain

  /** A chain whose proceed answers through {@code script}; the rest of the Chain API is not used. */
  private static Interceptor.Chain chain(Request request, Function<Request, Response> script) {
    okhttp3.Call call = new OkHttpClient().newCall(request);
    return (Interceptor.Chain) Proxy.newProxyInstance(CallerViewTest.class.getClassLoader(),
        new Class<?>[] {Interceptor.Chain.class}, (proxy, m, args) -> switch (m.getName()) {
          case "request" -> request;
          case "call" -> call;
          case "proceed" -> script.apply((Request) args[0]);
          case "getFollowRedirects" -> true;
          case "toString" -> "scripted chain";
          default -> throw new UnsupportedOperationException(m.getName());
        });
  }

  private static Response.Builder answer(Request request, int code) {
    return new Response.Builder().request(request).protocol(Protocol.HTTP_1_1).code(code).message("OK");
  }

  /** The network hop of {@code request}: what OkHttp's network interceptors saw, signed. */
  private static Response hop(Request request, int code) {
    return answer(request.newBuilder().header("Host", request.url().host()).header("User-Agent", "okhttp").build(),
        code).build();
  }

  private static ProviderPool pool(int attempts) {
    return ProviderPool.builder().retry(RetryPolicy.builder().maxAttempts(attempts).build())
        .tier(Provider.builder("openai").baseUrl("http://127.0.0.1:9/v1").apiKey(KEY).build())
        .tier(Provider.builder("azure").baseUrl("http://127.0.0.1:10/v1").apiKey(AZURE_KEY).apiKeyHeader("api-key")
            .header("x-goog-api-key", EXTRA).build())
        .build();
  }

  @Test
  void everyLinkOfTheResponseHandedBackIsWithoutCredentials() throws Exception {
    Request caller = callerRequest();
    Response back = pool(1).interceptor().intercept(chain(caller, out -> {
      // A redirect OkHttp followed (the 307 with its own network hop), a cache entry whose Vary
      // named the credential, and the final network hop: each with the signed request.
      Response redirect = answer(out, 307).networkResponse(hop(out, 307)).build();
      Response cached = answer(new Request.Builder().url(out.url()).headers(out.headers()).build(), 200).build();
      return answer(out, 200).networkResponse(hop(out, 200)).cacheResponse(cached).priorResponse(redirect)
          .body(ResponseBody.create("{\"choices\":[]}", JSON)).build();
    }));
    assertNotNull(back.networkResponse());
    assertNotNull(back.cacheResponse());
    assertNotNull(back.priorResponse().networkResponse());
    assertEquals("okhttp", back.networkResponse().request().header("User-Agent"), "the rest of each request stays");
    SecretWalk w = SecretWalk.lookingFor(SECRETS).walk("response", back);
    back.close();
    w.assertClean("the response handed back");
    assertEquals(0, w.cut());
  }

  @Test
  void failureTextsNamingACredentialAreRedactedInTheException() {
    List<String> sent = new ArrayList<>();
    IOException e = assertThrows(IOException.class, () -> pool(2).interceptor().intercept(chain(callerRequest(),
        out -> {
          String credential = out.header("api-key") != null ? out.header("api-key") : out.header("Authorization");
          sent.add(credential);
          throw sneaky(new ProtocolException("Unexpected status line: HTTP/1.1 2OO " + credential + " / " + EXTRA));
        })));
    assertEquals(2, sent.size());
    AttemptsExhaustedException x = assertInstanceOf(AttemptsExhaustedException.class, e);
    SecretWalk.lookingFor(SECRETS).walk("exception", x).assertClean("the exception");
    assertInstanceOf(ProtocolException.class, x.getCause(), "the class stays");
    assertTrue(x.getCause().getMessage().startsWith("Unexpected status line: HTTP/1.1 2OO "), "the text stays");
    assertTrue(x.getCause().getStackTrace()[0].getClassName().contains("CallerViewTest"), "the stack trace stays");
    assertEquals(1, x.getSuppressed().length);
  }

  @Test
  void aBodyReadFailureNamingACredentialIsRedactedAndACleanOneIsNot() throws Exception {
    Response back = pool(1).interceptor().intercept(chain(callerRequest(), out -> answer(out, 200)
        .body(failingBody("expected chunk size but was \"5" + KEY + "\"")).build()));
    IOException e = assertThrows(IOException.class, () -> back.body().string());
    SecretWalk.lookingFor(SECRETS).walk("read failure", e).assertClean("the read failure");
    assertInstanceOf(ProtocolException.class, e);
    assertTrue(e.getMessage().startsWith("expected chunk size but was \"5"), e.getMessage().replace(KEY, "<key>"));

    // A failure that names no credential reaches the caller as it was.
    ProtocolException clean = new ProtocolException("unexpected end of stream");
    Response other = pool(1).interceptor().intercept(chain(callerRequest(), out -> answer(out, 200)
        .body(failingBody(clean)).build()));
    assertSame(clean, assertThrows(IOException.class, () -> other.body().string()));
  }

  private static ResponseBody failingBody(String message) {
    return failingBody(new ProtocolException(message));
  }

  private static ResponseBody failingBody(IOException failure) {
    BufferedSource source = Okio.buffer(new ForwardingSource(new Buffer().writeUtf8("{")) {
      private boolean first = true;

      @Override
      public long read(Buffer sink, long byteCount) throws IOException {
        if (first) {
          first = false;
          return super.read(sink, byteCount);
        }
        throw failure;
      }
    });
    return ResponseBody.create(source, JSON, -1);
  }

  /** Throws a checked exception from a lambda, as OkHttp's proceed would. */
  @SuppressWarnings("unchecked")
  private static <T extends Throwable> RuntimeException sneaky(Throwable t) throws T {
    throw (T) t;
  }
}
