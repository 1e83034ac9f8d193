package io.github.llmpool.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.llmpool.ProviderPool;
import io.github.llmpool.spi.SharedState;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/**
 * The configuration file's {@code "shared"} key: the value, a {@code ${VAR}} reference, resolved
 * through the env lookup and handed to the {@code SharedStateFactory} of that kind found with
 * {@code ServiceLoader} (here the test's {@code memory} factory); a clear error when no factory of
 * that kind is on the class path; the value in no message.
 */
class ConfigSharedTest {
  private static final String SECRET = "mem://user:s3cret-pass@host:1";
  private static final Map<String, String> ENV = Map.of("MEM_URL", SECRET, "REDIS_URL", "redis://u:pw@h:6379");
  private static final String TIERS = "\"tiers\":[{\"providers\":[{\"name\":\"a\",\"baseUrl\":\"http://127.0.0.1:9/v1\"}]}]";

  private static PoolConfig read(String shared) throws IOException {
    String json = "{\"name\":\"chat\"," + shared + (shared.isEmpty() ? "" : ",") + TIERS + "}";
    return PoolConfig.read(new ByteArrayInputStream(json.getBytes(StandardCharsets.UTF_8)), ENV::get);
  }

  private static String error(String shared) {
    return assertThrows(IllegalArgumentException.class, () -> read(shared)).getMessage();
  }

  @Test
  void aReferenceIsResolvedAndHandedToTheFactoryOfThatKindOnceForEveryPool() throws IOException {
    PoolConfig c = read("\"shared\":{\"memory\":\"${MEM_URL}\"}");
    assertEquals(Optional.of("memory"), c.sharedKind());
    assertFalse(TestSharedStateFactory.CREATED.contains(SECRET), "read() makes nothing: no connection at parse");
    ProviderPool p1 = c.toPoolBuilder().build();
    ProviderPool p2 = c.toPoolBuilder().build();
    assertEquals("TestSharedState", p1.sharedState().toString());
    assertSame(p1.sharedState(), p2.sharedState(), "one shared state for every pool built from the file");
    assertSame(p1.sharedState(), c.sharedState().orElseThrow());
    assertEquals(1, TestSharedStateFactory.CREATED.stream().filter(SECRET::equals).count());
    assertFalse(c.toString().contains("s3cret"), c.toString());
    assertTrue(c.toString().contains("shared=memory"), c.toString());
  }

  @Test
  void withoutTheKeyThePoolIsLocalOnly() throws IOException {
    PoolConfig c = read("");
    assertEquals(Optional.empty(), c.sharedKind());
    assertEquals(Optional.empty(), c.sharedState());
    assertSame(SharedState.LOCAL_ONLY, c.toPoolBuilder().build().sharedState());
  }

  @Test
  void aKindWithNoFactoryOnTheClassPathIsAClearError() {
    assertEquals("$.shared.redis names shared state 'redis' but no SharedStateFactory for it is on the class path"
        + " (add the dependency io.github.llmpool:llmpool-redis); available: [memory]",
        error("\"shared\":{\"redis\":\"${REDIS_URL}\"}"));
    assertEquals("$.shared.etcd names shared state 'etcd' but no SharedStateFactory for it is on the class path;"
        + " available: [memory]", error("\"shared\":{\"etcd\":\"http://127.0.0.1:2379\"}"));
  }

  @Test
  void badValuesAreRefusedNamingThePathNeverTheValue() {
    assertEquals("$.shared.memory names environment variable NOPE, which is not set",
        error("\"shared\":{\"memory\":\"${NOPE}\"}"));
    String literal = error("\"shared\":{\"memory\":\"mem://u:literal-pw@h:1\"}");
    assertEquals("$.shared.memory must be an environment variable reference such as \"${REDIS_URL}\" when it holds"
        + " credentials, not a literal (the value is not shown)", literal);
    assertEquals("$.shared must name exactly one shared state, such as {\"redis\": \"${REDIS_URL}\"}, but named none",
        error("\"shared\":{}"));
    assertEquals("$.shared must name exactly one shared state, such as {\"redis\": \"${REDIS_URL}\"}, but named 2:"
        + " [memory, redis]", error("\"shared\":{\"memory\":\"a\",\"redis\":\"b\"}"));
    assertEquals("$.shared.memory must be a string such as \"${REDIS_URL}\" (the value is not shown)",
        error("\"shared\":{\"memory\":42}"));
    assertTrue(error("\"shared\":\"redis://h\"").startsWith("$.shared must be an object"),
        error("\"shared\":\"redis://h\""));
  }

  @Test
  void aValueTheFactoryRefusesIsReportedWithoutQuotingIt() throws IOException {
    PoolConfig c = PoolConfig.read(new ByteArrayInputStream(("{\"shared\":{\"memory\":\"${BAD}\"}," + TIERS + "}")
        .getBytes(StandardCharsets.UTF_8)), Map.of("BAD", "refuse:hidden-pw")::get);
    String m = assertThrows(IllegalArgumentException.class, c::toPoolBuilder).getMessage();
    assertEquals("$.shared.memory: refused by the memory shared state (the value is not shown)", m);
  }
}
