package io.github.llmpool.internal.engine;

import io.github.llmpool.internal.route.Endpoint;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.llmpool.reliability.SecretWalk;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.net.ProtocolException;
import java.net.SocketTimeoutException;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Redaction of configured credential values from text and exception chains the pool did not write. */
class SecretsTest {
  private static final String KEY = "sk-proj-0123456789abcdefABCDEF";
  private static final String AZURE = "azure-0123456789abcdef";
  private static final String EXTRA = "goog-extra-0123456789";

  private static Endpoint bearer(String name, String key) {
    return new Endpoint(name, "https", "api.example.com", 443, "/v1", "Authorization", "Bearer " + key, null,
        List.of(), true);
  }

  private static Endpoint azure() {
    return new Endpoint("azure", "https", "x.example.com", 443, "/v1", "api-key", AZURE, null,
        List.of(Map.entry("x-goog-api-key", EXTRA), Map.entry("x-version", "2024")), true);
  }

  private static final Secrets SECRETS = Secrets.of(List.of(bearer("openai", KEY), azure()));

  @Test
  void masksTheFullHeaderValueTheRawKeyAndLongExtraHeaderValues() {
    assertEquals("HTTP/1.1 2OO ****", SECRETS.redact("HTTP/1.1 2OO Bearer " + KEY));
    assertEquals("raw **** and **** and ****!", SECRETS.redact("raw " + KEY + " and " + AZURE + " and " + EXTRA + "!"));
    assertEquals("****", SECRETS.redact(KEY));
    assertEquals("x****y", SECRETS.redact("x" + KEY + KEY + "y"), "adjacent occurrences are one mask");
    assertEquals("****", SECRETS.redact("Bearer " + KEY), "the longer value wins where they overlap");
    assertEquals("version 2024, Bearer sk-proj-", SECRETS.redact("version 2024, Bearer sk-proj-"),
        "a short extra header value and a prefix of a key are not secrets");
    String clean = "Unexpected status line: HTTP/1.1 2OO nothing";
    assertSame(clean, SECRETS.redact(clean));
    assertEquals(null, SECRETS.redact((String) null));
    assertTrue(SECRETS.appearsIn("..." + AZURE));
    assertFalse(SECRETS.appearsIn(AZURE.substring(1)));
    assertFalse(SECRETS.appearsIn(null));
    assertFalse(Secrets.NONE.appearsIn(KEY));
    assertSame(clean, Secrets.NONE.redact(clean));
  }

  @Test
  void aUnionKeepsEveryValueAndShowsNone() {
    Secrets old = Secrets.of(List.of(bearer("p", "sk-old-0123456789")));
    Secrets both = old.plus(SECRETS);
    assertEquals("**** / ****", both.redact("sk-old-0123456789 / " + KEY));
    assertSame(both, both.plus(Secrets.NONE));
    assertEquals(both.toString(), both.plus(old).toString(), "values are counted once");
    assertEquals("Secrets{6 values, fingerprints only}", both.toString());
    SecretWalk.lookingFor(List.of(KEY, AZURE, EXTRA, "sk-old-0123456789")).walk("secrets", both)
        .assertClean("the redactor");
  }

  @Test
  void aCleanExceptionIsReturnedAsIs() {
    IOException e = new IOException("reset", new SocketTimeoutException("read timed out"));
    e.addSuppressed(new ProtocolException("unexpected end of stream"));
    assertSame(e, SECRETS.redact(e));
    assertSame(null, SECRETS.redact((IOException) null));
  }

  @Test
  void aDirtyChainIsCopiedWithTheSameClassesTextsAndStackTraces() {
    ProtocolException original = new ProtocolException("Unexpected status line: HTTP/1.1 2OO Bearer " + KEY);
    IOException clean = new InterruptedIOException("timeout");
    IOException suppressed = new SocketTimeoutException("echo " + AZURE);
    original.initCause(clean);
    original.addSuppressed(suppressed);
    IOException copy = SECRETS.redact(original);
    assertInstanceOf(ProtocolException.class, copy);
    assertEquals("Unexpected status line: HTTP/1.1 2OO ****", copy.getMessage());
    assertArrayEquals(original.getStackTrace(), copy.getStackTrace());
    assertSame(clean, copy.getCause(), "a clean cause is kept");
    assertInstanceOf(SocketTimeoutException.class, copy.getSuppressed()[0]);
    assertEquals("echo ****", copy.getSuppressed()[0].getMessage());
    assertArrayEquals(suppressed.getStackTrace(), copy.getSuppressed()[0].getStackTrace());
    SecretWalk.lookingFor(List.of(KEY, AZURE)).walk("copy", copy).assertClean("the copy");
  }

  /** An exception without a public (String) constructor, and one whose toString adds a field. */
  static final class Hidden extends IOException {
    Hidden(String m) {
      super(m);
    }
  }

  public static final class Echoing extends IOException {
    private final String sent;

    public Echoing(String m) {
      this(m, "");
    }

    Echoing(String m, String sent) {
      super(m);
      this.sent = sent;
    }

    @Override
    public String toString() {
      return super.toString() + " sent=" + sent;
    }
  }

  @Test
  void anExceptionThatCannotBeRebuiltBecomesARedactedIOExceptionNamingItsClass() {
    IOException hidden = new Hidden("chunk header " + KEY);
    IOException deep = new IOException("outer", new IllegalStateException("inner " + AZURE, hidden));
    IOException copy = SECRETS.redact(deep);
    assertEquals(IOException.class, copy.getClass());
    assertEquals("outer", copy.getMessage());
    Throwable inner = copy.getCause();
    assertInstanceOf(IllegalStateException.class, inner);
    assertEquals("inner ****", inner.getMessage());
    Throwable h = inner.getCause();
    assertInstanceOf(Secrets.RedactedIOException.class, h);
    assertEquals(Hidden.class.getName() + ": chunk header ****", h.getMessage());
    assertArrayEquals(hidden.getStackTrace(), h.getStackTrace());

    IOException echoing = new Echoing("clean message", KEY);
    IOException e2 = SECRETS.redact(echoing);
    assertInstanceOf(Echoing.class, e2, "rebuilt through its public (String) constructor");
    assertFalse(SECRETS.appearsIn(e2.toString()));
    SecretWalk.lookingFor(List.of(KEY, AZURE)).walk("copy", copy).walk("copy2", e2).assertClean("the copies");
  }

  @Test
  void aCycleInTheChainEnds() {
    IOException a = new IOException("a " + KEY);
    IOException b = new IOException("b", a);
    a.addSuppressed(b);
    IOException copy = SECRETS.redact(a);
    assertEquals("a ****", copy.getMessage());
    assertSame(copy, copy.getSuppressed()[0].getCause());
  }
}
