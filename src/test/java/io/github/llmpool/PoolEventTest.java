package io.github.llmpool;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.lang.reflect.Modifier;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import javax.tools.JavaCompiler;
import javax.tools.ToolProvider;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.api.io.TempDir;

/**
 * Events are values that every listener can tell apart without breaking when a type is added:
 * PoolEvent is not sealed (a switch over it needs a default), every event names its provider and
 * tier, equality is by value, toString names every field, constructors check their arguments.
 */
class PoolEventTest {

  /** Stands for an event type a later release adds (only this package can extend PoolEvent). */
  static final class FromTheFuture extends PoolEvent {
    FromTheFuture() {
      super("p", 0);
    }
  }

  private static final List<PoolEvent> ALL = List.of(
      new PoolEvent.Evicted("a", 0, Outcome.RATE_LIMITED, 429, Duration.ofSeconds(2), true, 1),
      new PoolEvent.Restored("a", 0),
      new PoolEvent.Probing("a", 0),
      new PoolEvent.Retried("a", 0, 1, Outcome.SERVER_ERROR, 503),
      new PoolEvent.FailedOver("b", 1, "a", 0, 2),
      new PoolEvent.Exhausted("b", 1, 2, Outcome.CONNECTION_FAILURE, -1, "maxAttempts (2) reached"));

  private static String iae(Executable e) {
    return assertThrows(IllegalArgumentException.class, e).getMessage();
  }

  private static String npe(Executable e) {
    return assertThrows(NullPointerException.class, e).getMessage();
  }

  /** What a Java 17 listener writes: an instanceof chain that ends in an else for any other type. */
  private static String describe(PoolEvent event) {
    if (event instanceof PoolEvent.Evicted e) {
      return "evicted " + e.provider() + " for " + e.duration();
    } else if (event instanceof PoolEvent.Restored r) {
      return "restored " + r.provider();
    } else if (event instanceof PoolEvent.FailedOver f) {
      return "failed over from " + f.from() + " to " + f.provider();
    } else {
      return "other " + event.getClass().getSimpleName() + " about " + event.provider() + " (tier " + event.tier() + ")";
    }
  }

  @Test
  void poolEventIsNotSealedAndOnlyThisPackageCanExtendIt() {
    assertFalse(PoolEvent.class.isSealed());
    assertFalse(PoolEvent.class.isInterface());
    assertTrue(Modifier.isAbstract(PoolEvent.class.getModifiers()));
    for (var c : PoolEvent.class.getDeclaredConstructors()) {
      int m = c.getModifiers();
      assertFalse(Modifier.isPublic(m) || Modifier.isProtected(m), "PoolEvent's constructor is package-private: " + c);
    }
    for (PoolEvent e : ALL) {
      assertTrue(Modifier.isFinal(e.getClass().getModifiers()), e.getClass() + " is final");
      assertFalse(e.getClass().isRecord(), e.getClass() + " is a class, so it can gain a field");
    }
  }

  @Test
  void anUnknownEventTypeReachesTheDefaultBranch() {
    assertEquals("evicted a for PT2S", describe(ALL.get(0)));
    assertEquals("restored a", describe(ALL.get(1)));
    assertEquals("other Probing about a (tier 0)", describe(ALL.get(2)));
    assertEquals("failed over from a to b", describe(ALL.get(4)));
    assertEquals("other FromTheFuture about p (tier 0)", describe(new FromTheFuture()));
  }

  @Test
  void everyEventNamesItsProviderAndTier() {
    assertEquals(List.of("a", "a", "a", "a", "b", "b"), ALL.stream().map(PoolEvent::provider).toList());
    assertEquals(List.of(0, 0, 0, 0, 1, 1), ALL.stream().map(PoolEvent::tier).toList());
  }

  @Test
  void eventsAreEqualByValue() {
    assertEquals(new PoolEvent.Evicted("a", 0, Outcome.RATE_LIMITED, 429, Duration.ofSeconds(2), true, 1), ALL.get(0));
    assertEquals(new PoolEvent.Restored("a", 0), ALL.get(1));
    assertEquals(new PoolEvent.Probing("a", 0), ALL.get(2));
    assertEquals(new PoolEvent.Retried("a", 0, 1, Outcome.SERVER_ERROR, 503), ALL.get(3));
    assertEquals(new PoolEvent.FailedOver("b", 1, "a", 0, 2), ALL.get(4));
    assertEquals(new PoolEvent.Exhausted("b", 1, 2, Outcome.CONNECTION_FAILURE, -1, "maxAttempts (2) reached"),
        ALL.get(5));
    for (PoolEvent e : ALL) {
      assertEquals(e.hashCode(), copy(e).hashCode(), e::toString);
      assertEquals(1, ALL.stream().filter(e::equals).count(), e + " equals only itself");
      assertNotEquals(e, null);
    }
    assertNotEquals(new PoolEvent.Restored("a", 0), new PoolEvent.Probing("a", 0), "same fields, another type");
    assertNotEquals(new PoolEvent.Restored("a", 0), new PoolEvent.Restored("a", 1));
    assertNotEquals(new PoolEvent.Restored("a", 0), new PoolEvent.Restored("b", 0));
    List<PoolEvent> evicted = List.of(
        new PoolEvent.Evicted("a", 0, Outcome.SERVER_ERROR, 429, Duration.ofSeconds(2), true, 1),
        new PoolEvent.Evicted("a", 0, Outcome.RATE_LIMITED, 503, Duration.ofSeconds(2), true, 1),
        new PoolEvent.Evicted("a", 0, Outcome.RATE_LIMITED, 429, Duration.ofSeconds(3), true, 1),
        new PoolEvent.Evicted("a", 0, Outcome.RATE_LIMITED, 429, Duration.ofSeconds(2), false, 1),
        new PoolEvent.Evicted("a", 0, Outcome.RATE_LIMITED, 429, Duration.ofSeconds(2), true, 2));
    evicted.forEach(e -> assertNotEquals(ALL.get(0), e, e::toString));
    List<PoolEvent> retried = List.of(new PoolEvent.Retried("a", 0, 2, Outcome.SERVER_ERROR, 503),
        new PoolEvent.Retried("a", 0, 1, Outcome.TIMEOUT, 503), new PoolEvent.Retried("a", 0, 1, Outcome.SERVER_ERROR, 500));
    retried.forEach(e -> assertNotEquals(ALL.get(3), e, e::toString));
    List<PoolEvent> failedOver = List.of(new PoolEvent.FailedOver("b", 1, "c", 0, 2),
        new PoolEvent.FailedOver("b", 1, "a", 2, 2), new PoolEvent.FailedOver("b", 1, "a", 0, 3));
    failedOver.forEach(e -> assertNotEquals(ALL.get(4), e, e::toString));
    List<PoolEvent> exhausted = List.of(
        new PoolEvent.Exhausted("b", 1, 3, Outcome.CONNECTION_FAILURE, -1, "maxAttempts (2) reached"),
        new PoolEvent.Exhausted("b", 1, 2, Outcome.TIMEOUT, -1, "maxAttempts (2) reached"),
        new PoolEvent.Exhausted("b", 1, 2, Outcome.CONNECTION_FAILURE, 503, "maxAttempts (2) reached"),
        new PoolEvent.Exhausted("b", 1, 2, Outcome.CONNECTION_FAILURE, -1, "the pool's retry budget is spent"));
    exhausted.forEach(e -> assertNotEquals(ALL.get(5), e, e::toString));
  }

  private static PoolEvent copy(PoolEvent e) {
    if (e instanceof PoolEvent.Evicted v) {
      return new PoolEvent.Evicted(v.provider(), v.tier(), v.cause(), v.status(), v.duration(), v.serverHint(),
          v.ejections());
    } else if (e instanceof PoolEvent.Restored) {
      return new PoolEvent.Restored(e.provider(), e.tier());
    } else if (e instanceof PoolEvent.Probing) {
      return new PoolEvent.Probing(e.provider(), e.tier());
    } else if (e instanceof PoolEvent.Retried r) {
      return new PoolEvent.Retried(r.provider(), r.tier(), r.attempt(), r.cause(), r.status());
    } else if (e instanceof PoolEvent.FailedOver f) {
      return new PoolEvent.FailedOver(f.provider(), f.tier(), f.from(), f.fromTier(), f.attempt());
    } else if (e instanceof PoolEvent.Exhausted x) {
      return new PoolEvent.Exhausted(x.provider(), x.tier(), x.attempts(), x.lastCause(), x.lastStatus(), x.reason());
    }
    throw new AssertionError(e);
  }

  @Test
  void toStringNamesTheTypeAndEveryField() {
    assertEquals(List.of(
        "Evicted[provider=a, tier=0, cause=RATE_LIMITED, status=429, duration=PT2S, serverHint=true, ejections=1]",
        "Restored[provider=a, tier=0]",
        "Probing[provider=a, tier=0]",
        "Retried[provider=a, tier=0, attempt=1, cause=SERVER_ERROR, status=503]",
        "FailedOver[provider=b, tier=1, from=a, fromTier=0, attempt=2]",
        "Exhausted[provider=b, tier=1, attempts=2, lastCause=CONNECTION_FAILURE, lastStatus=-1,"
            + " reason=maxAttempts (2) reached]"),
        ALL.stream().map(PoolEvent::toString).toList());
  }

  @Test
  void constructorsRefuseBadArgumentsNamingThem() {
    Duration d = Duration.ofSeconds(1);
    Outcome o = Outcome.SERVER_ERROR;
    assertEquals("provider", npe(() -> new PoolEvent.Restored(null, 0)));
    assertEquals("tier must be >= 0 but was -1", iae(() -> new PoolEvent.Probing("a", -1)));
    assertEquals("cause", npe(() -> new PoolEvent.Evicted("a", 0, null, 503, d, false, 1)));
    assertEquals("status must be >= -1 but was -2", iae(() -> new PoolEvent.Evicted("a", 0, o, -2, d, false, 1)));
    assertEquals("duration", npe(() -> new PoolEvent.Evicted("a", 0, o, 503, null, false, 1)));
    assertEquals("duration must not be negative but was PT-1S",
        iae(() -> new PoolEvent.Evicted("a", 0, o, 503, d.negated(), false, 1)));
    assertEquals("ejections must be >= 0 but was -1", iae(() -> new PoolEvent.Evicted("a", 0, o, 503, d, false, -1)));
    assertEquals("attempt must be >= 1 but was 0", iae(() -> new PoolEvent.Retried("a", 0, 0, o, 503)));
    assertEquals("cause", npe(() -> new PoolEvent.Retried("a", 0, 1, null, 503)));
    assertEquals("status must be >= -1 but was -5", iae(() -> new PoolEvent.Retried("a", 0, 1, o, -5)));
    assertEquals("from", npe(() -> new PoolEvent.FailedOver("b", 1, null, 0, 2)));
    assertEquals("fromTier must be >= 0 but was -1", iae(() -> new PoolEvent.FailedOver("b", 1, "a", -1, 2)));
    assertEquals("attempt must be >= 2 but was 1", iae(() -> new PoolEvent.FailedOver("b", 1, "a", 0, 1)));
    assertEquals("attempts must be >= 1 but was 0", iae(() -> new PoolEvent.Exhausted("b", 1, 0, o, 503, "r")));
    assertEquals("lastCause", npe(() -> new PoolEvent.Exhausted("b", 1, 1, null, 503, "r")));
    assertEquals("lastStatus must be >= -1 but was -2", iae(() -> new PoolEvent.Exhausted("b", 1, 1, o, -2, "r")));
    assertEquals("reason", npe(() -> new PoolEvent.Exhausted("b", 1, 1, o, 503, null)));
  }

  private static final String SWITCH = """
      import io.github.llmpool.PoolEvent;

      final class Listener {
        static String describe(PoolEvent event) {
          return switch (event) {
            case PoolEvent.Evicted e -> "evicted " + e.provider() + " for " + e.duration();
            case PoolEvent.Restored r -> "restored " + r.provider();
            case PoolEvent.Probing p -> "probing " + p.provider();
            case PoolEvent.Retried r -> "retried " + r.attempt();
            case PoolEvent.FailedOver f -> "failed over from " + f.from();
            case PoolEvent.Exhausted x -> "exhausted: " + x.reason();
            DEFAULT
          };
        }
      }
      """;

  /** Compiles {@code source} against the library as a user would (a pattern switch: preview on Java 17). */
  private static String compile(Path dir, String source) throws Exception {
    Path file = dir.resolve("Listener.java");
    Files.writeString(file, source);
    JavaCompiler javac = ToolProvider.getSystemJavaCompiler();
    List<String> args = new ArrayList<>(List.of("--release", String.valueOf(Runtime.version().feature())));
    if (Runtime.version().feature() < 21) {
      args.add("--enable-preview"); // pattern matching for switch is final from Java 21
    }
    args.addAll(List.of("-Xlint:-preview", "-classpath", Path.of("target/classes").toAbsolutePath().toString(), "-d",
        dir.resolve("out").toString(), file.toString()));
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    int rc = javac.run(null, PrintStream.nullOutputStream(), new PrintStream(err, true, StandardCharsets.UTF_8),
        args.toArray(new String[0]));
    return rc == 0 ? null : err.toString(StandardCharsets.UTF_8);
  }

  @Test
  void aUsersSwitchOverEventsCompilesWithADefaultAndOnlyWithOne(@TempDir Path dir) throws Exception {
    assertNull(compile(dir, SWITCH.replace("DEFAULT", "default -> \"other \" + event.provider();")),
        "a switch with a default branch compiles, and keeps compiling when an event type is added");
    String without = compile(dir, SWITCH.replace("DEFAULT", ""));
    assertTrue(without != null && without.contains("does not cover all possible input values"),
        "without a default the compiler refuses the switch (PoolEvent is not sealed), so no user's switch can"
            + " depend on today's list of types: " + without);
  }
}
