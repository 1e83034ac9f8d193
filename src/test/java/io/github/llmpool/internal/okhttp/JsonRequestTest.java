package io.github.llmpool.internal.okhttp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** The request-body splice: exact bytes for every combination of model override and include_usage. */
class JsonRequestTest {

  static String rewrite(String body, String model, boolean includeUsage) {
    JsonRequest r = JsonRequest.parse(body.getBytes(StandardCharsets.UTF_8));
    return new String(r.rewrite(model, includeUsage), StandardCharsets.UTF_8);
  }

  @Test
  void replacesTheModelAndKeepsEveryOtherByte() {
    assertEquals("{ \"model\" : \"b\" ,\n \"x\":[1, 2] }", rewrite("{ \"model\" : \"a-long-name\" ,\n \"x\":[1, 2] }", "b", true));
    assertEquals("{\"x\":1,\"model\":\"a-much-longer-model-name\"}", rewrite("{\"x\":1,\"model\":\"m\"}", "a-much-longer-model-name", false));
  }

  @Test
  void replacesAndAddsStreamOptionsTogether() {
    assertEquals("{\"model\":\"n\",\"stream\":true,\"stream_options\":{\"include_usage\":true}}",
        rewrite("{\"model\":\"m\",\"stream\":true}", "n", true));
  }

  @Test
  void appendsAModelWhenAbsent() {
    assertEquals("{\"input\":\"x\",\"model\":\"m\\\"x\"}", rewrite("{\"input\":\"x\"}", "m\"x", true));
    assertEquals("{\"stream\":true,\"model\":\"m\",\"stream_options\":{\"include_usage\":true}}",
        rewrite("{\"stream\":true}", "m", true));
  }

  @Test
  void anEmptyObjectGetsNoLeadingComma() {
    assertEquals("{\"model\":\"m\"}", rewrite("{}", "m", true));
    assertEquals("{ \"model\":\"m\"}", rewrite("{ }", "m", false));
  }

  @Test
  void nothingToChangeReturnsTheSameArray() {
    byte[] body = "{\"model\":\"m\",\"stream\":true,\"stream_options\":{}}".getBytes(StandardCharsets.UTF_8);
    JsonRequest r = JsonRequest.parse(body);
    assertSame(body, r.rewrite("m", true));
    assertSame(body, r.rewrite(null, true));
  }

  @Test
  void notOneObjectIsNotParsed() {
    assertNull(JsonRequest.parse("[1]".getBytes(StandardCharsets.UTF_8)));
    assertNull(JsonRequest.parse("{\"a\":1} {}".getBytes(StandardCharsets.UTF_8)));
    assertNull(JsonRequest.parse("{\"a\":".getBytes(StandardCharsets.UTF_8)));
  }
  @org.junit.jupiter.params.ParameterizedTest
  @org.junit.jupiter.params.provider.ValueSource(strings = {"UTF-16LE", "UTF-16BE", "UTF-16", "UTF-32LE", "UTF-32BE"})
  void aWideEncodedBodyIsTranscodedToUtf8AndSplicedThere(String charset) {
    String body = "{ \"model\" : \"m\", \"stream\":true, \"text\":\"h\u00e9 \ud83d\ude00\" }";
    JsonRequest r = JsonRequest.parse(body.getBytes(java.nio.charset.Charset.forName(charset)));
    assertEquals(true, r.transcoded());
    assertEquals("m", r.model());
    assertEquals("{ \"model\" : \"n\", \"stream\":true, \"text\":\"h\u00e9 \ud83d\ude00\" ,"
        + "\"stream_options\":{\"include_usage\":true}}", new String(r.rewrite("n", true), StandardCharsets.UTF_8));
  }

  @Test
  void utf8WithOrWithoutAByteOrderMarkIsNotTranscoded() {
    byte[] plain = "{\"model\":\"m\"}".getBytes(StandardCharsets.UTF_8);
    assertEquals(false, JsonRequest.parse(plain).transcoded());
    byte[] bom = new byte[plain.length + 3];
    bom[0] = (byte) 0xEF;
    bom[1] = (byte) 0xBB;
    bom[2] = (byte) 0xBF;
    System.arraycopy(plain, 0, bom, 3, plain.length);
    JsonRequest r = JsonRequest.parse(bom);
    assertEquals(false, r.transcoded());
    assertEquals("\ufeff{\"model\":\"n\"}", new String(r.rewrite("n", false), StandardCharsets.UTF_8));
  }

  @Test
  void aBodyThatIsNotValidInItsWideEncodingIsNotJson() {
    byte[] lone = {'{', 0, (byte) 0x00, (byte) 0xD8, '}', 0}; // UTF-16LE with an unpaired surrogate
    assertNull(JsonRequest.parse(lone));
  }
}
