package io.github.llmpool.reliability;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import okhttp3.Headers;
import okhttp3.Protocol;
import okhttp3.Request;
import okhttp3.Response;
import okio.Buffer;
import okio.ByteString;
import org.junit.jupiter.api.Test;

/** The walk finds a secret through every kind of reference it claims to follow, and never prints it. */
class SecretWalkTest {
  private static final String SECRET = "sk-walk-test-0123456789abcdef";

  private static final class Holder {
    private final Object value;
    private Holder next;

    Holder(Object value) {
      this.value = value;
    }
  }

  private record Tagged(String name, Object payload) {}

  private static List<String> found(Object root) {
    return SecretWalk.lookingFor(List.of(SECRET)).walk("root", root).findings();
  }

  private static void assertFound(Object root, String pathPart) {
    List<String> f = found(root);
    assertFalse(f.isEmpty(), "not found in " + pathPart);
    assertTrue(f.stream().anyMatch(s -> s.contains(pathPart)), f::toString);
    for (String s : f) {
      assertFalse(s.contains(SECRET), "a finding prints the secret: " + s);
    }
  }

  @Test
  void findsASecretThroughEveryKindOfReference() {
    assertFound(new Holder("x " + SECRET + " y"), "root.value");
    assertFound(new Holder(SECRET.getBytes(StandardCharsets.UTF_8)), "root.value");
    assertFound(new Holder(SECRET.toCharArray()), "root.value");
    assertFound(new Holder(new StringBuilder(SECRET)), "root.value");
    assertFound(new Holder(ByteString.encodeUtf8(SECRET)), "root.value");
    assertFound(new Holder(new Buffer().writeUtf8(SECRET)), "root.value");
    assertFound(new Holder(Headers.of("api-key", SECRET)), "root.value[api-key]");
    assertFound(new Holder(List.of(1, Map.of("k", new Tagged("t", SECRET)))), "root.value[1]{k}.payload");
    assertFound(new Holder(new Object[] {null, Optional.of(SECRET)}), "root.value[1].get()");
    assertFound(new Holder(new Holder(new Holder(new Holder(SECRET)))), "root.value.value.value.value");
    Holder cycle = new Holder("a");
    cycle.next = new Holder(SECRET);
    cycle.next.next = cycle;
    assertFound(cycle, "root.next.value");
  }

  @Test
  void findsASecretInAnExceptionsMessageCauseSuppressedAndFields() {
    assertFound(new IOException("status line " + SECRET), "root.getMessage()");
    assertFound(new IOException("wrapped", new IllegalStateException(SECRET)), "root.getCause().getMessage()");
    IOException withSuppressed = new IOException("x");
    withSuppressed.addSuppressed(new java.net.ProtocolException(SECRET));
    assertFound(withSuppressed, "root.getSuppressed()[0]");
    assertFound(new io.github.llmpool.AttemptsExhaustedException("all failed", List.of(new io.github.llmpool.Attempt(
        "p", 0, -1, io.github.llmpool.Outcome.CONNECTION_FAILURE, SECRET, java.time.Duration.ZERO)), null),
        "root.attempts[0].error");
  }

  @Test
  void findsASecretInAResponsesRequestTagsAndChain() {
    Request withTag = new Request.Builder().url("http://127.0.0.1/v1").tag(Holder.class, new Holder(SECRET)).build();
    assertFound(response(withTag, null, null), "root.request.tags");
    Request signed = new Request.Builder().url("http://127.0.0.1/v1").header("api-key", SECRET).build();
    Request clean = new Request.Builder().url("http://127.0.0.1/v1").build();
    assertFound(response(clean, response(signed, null, null), null), "root.networkResponse.request.headers[api-key]");
    assertFound(response(clean, null, response(clean, null, response(signed, null, null))),
        "root.priorResponse.priorResponse.request.headers[api-key]");
    assertEquals(List.of(), found(new Holder(new long[] {1, 2})), "a primitive array is walked past");
    List<String> none = found(response(clean, response(clean, null, null), response(clean, null, null)));
    assertEquals(List.of(), none);
  }

  @Test
  void stopsAtItsDepthBoundAndAtLiveMachineryAndSaysSo() {
    Holder deep = new Holder(SECRET);
    for (int i = 0; i < 10; i++) {
      deep = new Holder(deep);
    }
    SecretWalk shallow = SecretWalk.lookingFor(List.of(SECRET), 5).walk("root", deep);
    assertEquals(List.of(), shallow.findings());
    assertTrue(shallow.cut() > 0);
    SecretWalk machinery = SecretWalk.lookingFor(List.of(SECRET)).walk("root",
        new Holder(new okhttp3.OkHttpClient.Builder().build()));
    assertEquals(1, machinery.skipped());
  }

  @Test
  void assertCleanNamesThePathNeverTheSecret() {
    AssertionError e = assertThrows(AssertionError.class,
        () -> SecretWalk.lookingFor(List.of(SECRET)).walk("root", new Holder(SECRET)).assertClean("control"));
    assertTrue(e.getMessage().contains("root.value"), e.getMessage());
    assertFalse(e.getMessage().contains(SECRET), e.getMessage());
    SecretWalk.lookingFor(List.of(SECRET)).walk("root", new Holder(new ArrayList<>(List.of("nothing")))).assertClean("x");
  }

  private static Response response(Request request, Response network, Response prior) {
    return new Response.Builder().request(request).protocol(Protocol.HTTP_1_1).code(200).message("OK")
        .networkResponse(network).priorResponse(prior).build();
  }
}
