package io.github.llmpool.telemetry;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

class TelemetryOptionsTest {

  @Test
  void defaults() {
    TelemetryOptions o = TelemetryOptions.builder().build();
    assertEquals(GenAiNaming.CURRENT, o.naming());
    assertEquals("chat", o.operation());
    assertEquals(Map.of(), o.genAiProviders());
    assertEquals(Set.of(), o.models());
    assertEquals("naming=CURRENT, operation=chat, models=[], genAiProviders={}", o.toString());
  }

  @Test
  void setValuesAreKeptAndTheValueIsImmutable() {
    TelemetryOptions.Builder b = TelemetryOptions.builder().naming(GenAiNaming.INFERENCE).operation("embeddings")
        .genAiProvider("a", "ibm.watsonx.ai").models("m1").models("m2", "m1");
    TelemetryOptions o = b.build();
    b.models("m3").genAiProvider("b", "x").operation("chat");
    assertEquals(GenAiNaming.INFERENCE, o.naming());
    assertEquals("embeddings", o.operation());
    assertEquals(Map.of("a", "ibm.watsonx.ai"), o.genAiProviders());
    assertEquals(Set.of("m1", "m2"), o.models());
    assertThrows(UnsupportedOperationException.class, () -> o.models().add("m4"));
    assertThrows(UnsupportedOperationException.class, () -> o.genAiProviders().put("c", "y"));
  }

  @Test
  void badValuesNameTheSettingAndTheValue() {
    TelemetryOptions.Builder b = TelemetryOptions.builder();
    assertEquals("operation must not be blank but was ' '",
        assertThrows(IllegalArgumentException.class, () -> b.operation(" ")).getMessage());
    assertEquals("genAiProviderName must not be blank but was ''",
        assertThrows(IllegalArgumentException.class, () -> b.genAiProvider("a", "")).getMessage());
    assertEquals("provider must not be blank but was ''",
        assertThrows(IllegalArgumentException.class, () -> b.genAiProvider("", "x")).getMessage());
    assertEquals("model must not be blank but was '\t'",
        assertThrows(IllegalArgumentException.class, () -> b.models("ok", "\t")).getMessage());
    for (Runnable r : List.<Runnable>of(() -> b.naming(null), () -> b.operation(null), () -> b.models((String[]) null),
        () -> b.models("x", null), () -> b.genAiProvider(null, "x"), () -> b.genAiProvider("a", null))) {
      assertThrows(NullPointerException.class, r::run);
    }
    assertEquals("tokenUnit", assertThrows(NullPointerException.class,
        () -> TelemetryOptions.requireToken("tokenUnit", null)).getMessage());
    assertEquals(GenAiNaming.CURRENT, b.build().naming());
    assertEquals("chat", b.build().operation());
  }
}
