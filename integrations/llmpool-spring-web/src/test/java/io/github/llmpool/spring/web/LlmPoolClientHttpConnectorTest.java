package io.github.llmpool.spring.web;

import static io.github.llmpool.spring.web.OpenAiFakes.provider;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.llmpool.ProviderPool;
import io.github.llmpool.ProviderSnapshot;
import io.github.llmpool.TokenUsage;
import io.github.llmpool.testing.FakeLlmServer;
import io.github.llmpool.testing.ReceivedRequest;
import io.github.llmpool.testing.WireFixtures;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import mockwebserver3.MockResponse;
import mockwebserver3.MockWebServer;
import mockwebserver3.RecordedRequest;
import okhttp3.OkHttpClient;
import okhttp3.Response;
import okhttp3.ResponseBody;
import okio.Buffer;
import okio.BufferedSource;
import okio.ForwardingSource;
import okio.Okio;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.reactivestreams.Subscription;
import org.springframework.core.ParameterizedTypeReference;
import org.springframework.core.io.buffer.DataBuffer;
import org.springframework.core.io.buffer.DataBufferUtils;
import org.springframework.http.HttpStatus;
import org.springframework.http.MediaType;
import org.springframework.http.ResponseEntity;
import org.springframework.http.codec.ServerSentEvent;
import org.springframework.web.reactive.function.client.WebClient;
import org.springframework.web.reactive.function.client.WebClientRequestException;
import org.springframework.web.reactive.function.client.WebClientResponseException;
import reactor.core.publisher.BaseSubscriber;
import reactor.core.publisher.Flux;

/**
 * {@link LlmPoolClientHttpConnector} under Spring's real {@code WebClient}: first as a plain
 * transport (no pool) against a real HTTP server on loopback, then through a pool: streaming,
 * backpressure, cancellation reaching the provider, 32 concurrent streams.
 */
class LlmPoolClientHttpConnectorTest {
  private static final Duration T = Duration.ofSeconds(10);
  private static final ParameterizedTypeReference<ServerSentEvent<String>> SSE = new ParameterizedTypeReference<>() {};

  private MockWebServer server;
  private final List<AutoCloseable> toClose = new ArrayList<>();

  @BeforeEach
  void setUp() throws IOException {
    server = TransportChecks.loopbackServer();
  }

  @AfterEach
  void tearDown() throws Exception {
    for (AutoCloseable c : toClose) {
      c.close();
    }
    server.close();
  }

  private WebClient plain() {
    return WebClient.builder().baseUrl(server.url("/").toString())
        .clientConnector(new LlmPoolClientHttpConnector(new OkHttpClient())).build();
  }

  @Test
  void getSendsMethodPathQueryAndHeadersAndMapsStatusHeadersAndBody() throws Exception {
    server.enqueue(new MockResponse.Builder().code(200).addHeader("Content-Type", "application/json")
        .addHeader("X-Multi", "one").addHeader("X-Multi", "two")
        .addHeader("Set-Cookie", "session=abc; Path=/; HttpOnly").body("{\"ok\":true}").build());

    ResponseEntity<String> entity = plain().get().uri("/v1/models?limit=2")
        .header("X-Custom", "yes").accept(MediaType.APPLICATION_JSON)
        .cookie("c1", "v1")
        .retrieve().toEntity(String.class).block(T);

    assertEquals("c1=v1", TransportChecks.assertModelsGet(entity, server).getHeaders().get("Cookie"));
  }

  @Test
  void responseCookiesAreParsed() {
    server.enqueue(new MockResponse.Builder().code(204).addHeader("Set-Cookie", "session=abc; Path=/p; HttpOnly").build());
    var cookies = plain().get().uri("/").exchangeToMono(resp -> reactor.core.publisher.Mono.just(resp.cookies())).block(T);
    assertNotNull(cookies);
    assertEquals("abc", cookies.getFirst("session").getValue());
    assertEquals("/p", cookies.getFirst("session").getPath());
    assertTrue(cookies.getFirst("session").isHttpOnly());
  }

  @Test
  void postSendsTheEncodedJsonBodyWithItsLengthAndType() throws Exception {
    server.enqueue(new MockResponse.Builder().code(201).addHeader("Content-Type", "text/plain").body("made").build());

    ResponseEntity<String> entity = plain().post().uri("/v1/things").contentType(MediaType.APPLICATION_JSON)
        .bodyValue(Map.of("model", "m", "n", 3)).retrieve().toEntity(String.class).block(T);

    assertEquals(HttpStatus.CREATED, entity.getStatusCode());
    assertEquals("made", entity.getBody());
    RecordedRequest r = server.takeRequest(10, TimeUnit.SECONDS);
    assertEquals("POST", r.getMethod());
    String body = r.getBody().utf8();
    assertTrue(body.contains("\"model\":\"m\"") && body.contains("\"n\":3"), body);
    assertEquals(String.valueOf(r.getBodySize()), r.getHeaders().get("Content-Length"));
    assertEquals("application/json", r.getHeaders().get("Content-Type"));
  }

  @Test
  void aStreamedRequestBodyIsCollectedInOrder() throws Exception {
    server.enqueue(new MockResponse.Builder().code(200).body("ok").build());
    Flux<DataBuffer> parts = Flux.just("a", "b", "c").map(s -> plainBuffer(s));

    String answer = plain().put().uri("/upload").contentType(MediaType.TEXT_PLAIN)
        .body(parts, DataBuffer.class).retrieve().bodyToMono(String.class).block(T);

    assertEquals("ok", answer);
    RecordedRequest r = server.takeRequest(10, TimeUnit.SECONDS);
    assertEquals("PUT", r.getMethod());
    assertEquals("abc", r.getBody().utf8());
  }

  private static DataBuffer plainBuffer(String s) {
    return org.springframework.core.io.buffer.DefaultDataBufferFactory.sharedInstance.wrap(s.getBytes(java.nio.charset.StandardCharsets.UTF_8));
  }

  @Test
  void errorStatusesAreMappedByWebClientWithBodyAndHeaders() {
    server.enqueue(WireFixtures.response("openai-404-unknown-url.http").build());
    server.enqueue(WireFixtures.response("openai-429-rate-limit.http").build());
    server.enqueue(new MockResponse.Builder().code(503).body("down").build());
    WebClient web = plain();

    WebClientResponseException.NotFound nf = assertThrows(WebClientResponseException.NotFound.class,
        () -> web.get().uri("/nope").retrieve().bodyToMono(String.class).block(T));
    assertTrue(nf.getResponseBodyAsString().contains("Invalid URL"), nf.getResponseBodyAsString());

    WebClientResponseException.TooManyRequests tm = assertThrows(WebClientResponseException.TooManyRequests.class,
        () -> web.post().uri("/v1/chat/completions").bodyValue("{}").retrieve().bodyToMono(String.class).block(T));
    assertEquals("2", tm.getHeaders().getFirst("retry-after"));

    WebClientResponseException su = assertThrows(WebClientResponseException.class,
        () -> web.get().uri("/x").retrieve().bodyToMono(String.class).block(T));
    assertEquals(503, su.getStatusCode().value());
    assertEquals("down", su.getResponseBodyAsString());
  }

  @Test
  void aConnectionFailureIsAWebClientRequestException() throws Exception {
    String url = server.url("/").toString();
    server.close();
    WebClient web = WebClient.builder().baseUrl(url).clientConnector(new LlmPoolClientHttpConnector(new OkHttpClient())).build();
    WebClientRequestException e = assertThrows(WebClientRequestException.class,
        () -> web.get().uri("/").retrieve().bodyToMono(String.class).block(T));
    assertInstanceOf(IOException.class, e.getCause());
  }

  @Test
  void serverSentEventsArriveAsTheServerWritesThem() {
    GatedBody body = GatedBody.of("data: one\n\n", "data: two\n\n");
    server.enqueue(body.response("text/event-stream"));

    Iterator<ServerSentEvent<String>> events = plain().get().uri("/events").retrieve().bodyToFlux(SSE)
        .toIterable(1).iterator();

    // The server has written only the first event: the client must see it before the second is released.
    assertEquals("one", events.next().data());
    body.release();
    assertEquals("two", events.next().data());
    assertFalse(events.hasNext());
  }

  @Test
  void theBodyIsReadOnDemandAtMostOneChunkAheadOfIt() throws Exception {
    AtomicLong readFromSocket = new AtomicLong();
    OkHttpClient counting = new OkHttpClient.Builder().addInterceptor(chain -> {
      Response r = chain.proceed(chain.request());
      ResponseBody b = r.body();
      BufferedSource counted = Okio.buffer(new ForwardingSource(b.source()) {
        @Override
        public long read(Buffer sink, long byteCount) throws IOException {
          long n = super.read(sink, byteCount);
          if (n > 0) {
            readFromSocket.addAndGet(n);
          }
          return n;
        }
      });
      return r.newBuilder().body(ResponseBody.create(counted, b.contentType(), b.contentLength())).build();
    }).build();
    // 4 MiB: far more than the socket buffers and the client's buffers hold together.
    String mib = "x".repeat(1 << 20);
    server.enqueue(new MockResponse.Builder().code(200).body(mib + mib + mib + mib).build());
    WebClient web = WebClient.builder().baseUrl(server.url("/").toString())
        .clientConnector(new LlmPoolClientHttpConnector(counting)).build();

    AtomicLong delivered = new AtomicLong();
    AtomicLong worstAhead = new AtomicLong();
    CountDownLatch done = new CountDownLatch(1);
    AtomicReference<Throwable> failure = new AtomicReference<>();
    web.get().uri("/big").retrieve().bodyToFlux(DataBuffer.class).subscribe(new BaseSubscriber<DataBuffer>() {
      int seen;

      @Override
      protected void hookOnSubscribe(Subscription s) {
        request(1);
      }

      @Override
      protected void hookOnNext(DataBuffer b) {
        delivered.addAndGet(b.readableByteCount());
        assertTrue(b.readableByteCount() <= LlmPoolClientHttpConnector.CHUNK_SIZE);
        DataBufferUtils.release(b);
        worstAhead.accumulateAndGet(readFromSocket.get() - delivered.get(), Math::max);
        if (++seen == 40) {
          cancel();
          done.countDown();
        } else {
          request(1);
        }
      }

      @Override
      protected void hookOnError(Throwable t) {
        failure.set(t);
        done.countDown();
      }
    });

    assertTrue(done.await(10, TimeUnit.SECONDS));
    assertEquals(null, failure.get());
    assertTrue(worstAhead.get() <= 8192, "read ahead of demand: " + worstAhead.get() + " bytes");
    assertTrue(readFromSocket.get() < (1 << 20), "40 chunks read, not the 4 MiB body: " + readFromSocket.get());
  }

  @Test
  void negativeTimeoutsAreRejectedNamingTheSetting() {
    LlmPoolClientHttpConnector c = new LlmPoolClientHttpConnector(new OkHttpClient());
    TransportChecks.assertRejectNegativeAndApply(c::setConnectTimeout, c::setReadTimeout, c::setWriteTimeout,
        c::setCallTimeout, c::okHttpClient);
  }

  // ---- through a pool ----

  private static final String CHAT_STREAM = "{\"model\":\"gpt-4o-mini\",\"stream\":true,"
      + "\"stream_options\":{\"include_usage\":true},\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}";

  @Test
  void cancellingAStreamedCallClosesTheUpstreamConnection() throws Exception {
    FakeLlmServer a = OpenAiFakes.openAi("a");
    toClose.add(a);
    GatedBody body = GatedBody.endless("data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"x\"}}]}\n\n",
        "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"first\"}}]}\n\n");
    a.answerWith(r -> body.response("text/event-stream"));
    BlockingQueue<TokenUsage> usages = new LinkedBlockingQueue<>();
    ProviderPool pool = ProviderPool.builder().tier(provider(a)).onUsage(usages::add).build();
    WebClient web = WebClient.builder().baseUrl(pool.baseUrl().toString()).clientConnector(LlmPoolSpring.connector(pool)).build();

    List<String> got = web.post().uri("chat/completions").contentType(MediaType.APPLICATION_JSON).bodyValue(CHAT_STREAM)
        .retrieve().bodyToFlux(SSE).map(ServerSentEvent::data).take(1).collectList().block(T);

    assertEquals(1, got.size());
    assertTrue(got.get(0).contains("first"), got.toString());
    body.release(); // the provider now writes on, as a long answer would
    assertTrue(body.clientGone.await(10, TimeUnit.SECONDS),
        "the provider's write failed: the client closed the connection (" + body.fillerWrites + " filler writes)");
    assertTrue(body.fillerWrites < 20_000, "the provider did not get to write its whole answer");
    TokenUsage u = usages.poll(10, TimeUnit.SECONDS);
    assertNotNull(u);
    assertEquals("a", u.provider());
    assertTrue(u.end() == TokenUsage.End.CLOSED_EARLY || u.end() == TokenUsage.End.FAILED, u.end().toString());
    assertEquals(ProviderSnapshot.Status.AVAILABLE, pool.snapshot().providers().get(0).status(),
        "a cancel is not the provider's fault");
    assertEquals(1, a.requestCount());
  }

  @Test
  void cancellingBeforeTheResponseArrivesCancelsTheOkHttpCall() throws Exception {
    FakeLlmServer a = OpenAiFakes.openAi("a");
    toClose.add(a);
    CountDownLatch arrived = new CountDownLatch(1);
    CountDownLatch answer = new CountDownLatch(1);
    a.answerWith(r -> {
      arrived.countDown();
      try {
        answer.await(10, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      return WireFixtures.response("openai-chat.json").build();
    });
    CountDownLatch canceled = new CountDownLatch(1);
    ProviderPool pool = ProviderPool.builder().tier(provider(a)).build();
    OkHttpClient client = pool.configure(new OkHttpClient.Builder().eventListener(new okhttp3.EventListener() {
      @Override
      public void canceled(okhttp3.Call call) {
        canceled.countDown();
      }
    })).build();
    WebClient web = WebClient.builder().baseUrl(pool.baseUrl().toString())
        .clientConnector(new LlmPoolClientHttpConnector(client)).build();

    reactor.core.Disposable d = web.post().uri("chat/completions").contentType(MediaType.APPLICATION_JSON)
        .bodyValue(CHAT_STREAM.replace("true", "false")).retrieve().bodyToMono(String.class).subscribe();
    assertTrue(arrived.await(10, TimeUnit.SECONDS), "the request reached the provider");
    d.dispose();

    assertTrue(canceled.await(10, TimeUnit.SECONDS), "disposing the subscription cancelled the OkHttp call");
    answer.countDown();
    assertEquals(1, a.requestCount());
  }

  @Test
  void thirtyTwoConcurrentStreamedCallsAreAtTheProvidersAtOnce() throws Exception {
    FakeLlmServer a = OpenAiFakes.openAi("a");
    FakeLlmServer b = OpenAiFakes.openAi("b");
    toClose.add(a);
    toClose.add(b);
    int n = 32;
    CountDownLatch allArrived = new CountDownLatch(n);
    java.util.function.Function<ReceivedRequest, MockResponse> holdUntilAll = r -> {
      allArrived.countDown();
      try {
        if (!allArrived.await(10, TimeUnit.SECONDS)) {
          return new MockResponse.Builder().code(500).body("only " + (n - allArrived.getCount()) + " arrived").build();
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      return WireFixtures.response("openai-chat-stream-usage.sse").build();
    };
    a.answerWith(holdUntilAll);
    b.answerWith(holdUntilAll);
    BlockingQueue<TokenUsage> usages = new LinkedBlockingQueue<>();
    ProviderPool pool = ProviderPool.builder().tier(provider(a), provider(b)).onUsage(usages::add).build();
    WebClient web = WebClient.builder().baseUrl(pool.baseUrl().toString()).clientConnector(LlmPoolSpring.connector(pool)).build();

    List<String> texts = Flux.range(0, n)
        .flatMap(i -> web.post().uri("chat/completions").contentType(MediaType.APPLICATION_JSON).bodyValue(CHAT_STREAM)
            .retrieve().bodyToFlux(SSE).map(ServerSentEvent::data)
            .filter(d -> !"[DONE]".equals(d) && d.contains("\"content\""))
            .map(d -> d.replaceAll(".*\"content\":\"([^\"]*)\".*", "$1"))
            .reduce("", String::concat), n)
        .collectList().block(Duration.ofSeconds(30));

    assertEquals(0, allArrived.getCount(), "all 32 requests were at the providers at the same time");
    assertEquals(n, texts.size());
    texts.forEach(t -> assertEquals("pool ok", t));
    assertEquals(n, a.requestCount() + b.requestCount());
    long tokens = 0;
    for (int i = 0; i < n; i++) {
      TokenUsage u = usages.poll(10, TimeUnit.SECONDS);
      assertNotNull(u, "usage " + i);
      tokens += u.totalTokens();
    }
    assertEquals(21L * n, tokens, "onUsage saw every stream's usage chunk");
  }
}
