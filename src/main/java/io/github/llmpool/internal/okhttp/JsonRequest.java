package io.github.llmpool.internal.okhttp;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.io.JsonStringEncoder;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.Charset;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;

/**
 * What the pool needs to know of a JSON request body, found in one streaming pass without building
 * a tree: the top-level {@code model} (value and byte span), {@code stream}, whether
 * {@code stream_options} is present, the {@code user} and {@code prompt_cache_key} fields, and
 * where the root object closes. {@link #rewrite} splices a new model and/or
 * {@code stream_options} into the original bytes, leaving every other byte as it was.
 *
 * <p>A body in UTF-16 or UTF-32 (told apart by its byte-order mark or by the zero bytes of its
 * first characters, as RFC 4627 section 3 describes) is transcoded to UTF-8 first: the splice works
 * on UTF-8 byte offsets, and {@link #bytes()} and {@link #rewrite} then return UTF-8
 * ({@link #transcoded()} says so, so the caller labels the body {@code charset=utf-8}).
 * Immutable; thread-safe.
 */
public final class JsonRequest {
  private static final JsonFactory JSON = new JsonFactory();
  private static final byte[] MODEL_FIELD = "\"model\":".getBytes(StandardCharsets.US_ASCII);
  private static final byte[] INCLUDE_USAGE = "\"stream_options\":{\"include_usage\":true}".getBytes(StandardCharsets.US_ASCII);

  private final byte[] bytes;
  private final String model;
  private final int modelStart;
  private final int modelEnd;
  private final boolean stream;
  private final boolean hasStreamOptions;
  private final boolean emptyObject;
  private final int rootEnd; // offset of the root object's closing brace
  private final String user;
  private final String promptCacheKey;
  private final boolean transcoded;

  private JsonRequest(byte[] bytes, String model, int modelStart, int modelEnd, boolean stream,
      boolean hasStreamOptions, boolean emptyObject, int rootEnd, String user, String promptCacheKey,
      boolean transcoded) {
    this.transcoded = transcoded;
    this.bytes = bytes;
    this.model = model;
    this.modelStart = modelStart;
    this.modelEnd = modelEnd;
    this.stream = stream;
    this.hasStreamOptions = hasStreamOptions;
    this.emptyObject = emptyObject;
    this.rootEnd = rootEnd;
    this.user = user;
    this.promptCacheKey = promptCacheKey;
  }

  /** Parses a body; null when it is not one well-formed JSON object. */
  public static JsonRequest parse(byte[] bytes) {
    Charset wide = wideEncoding(bytes);
    if (wide == null) {
      return parse(bytes, false);
    }
    byte[] utf8;
    try {
      utf8 = wide.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
          .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(bytes)).toString()
          .getBytes(StandardCharsets.UTF_8);
    } catch (CharacterCodingException e) {
      return null;
    }
    return parse(utf8, true);
  }

  /**
   * UTF-16 or UTF-32 (big or little endian) when the body starts with that encoding's byte-order
   * mark or, without one, with the zero-byte pattern of an ASCII first character (RFC 4627, 3);
   * null for UTF-8 (with or without a BOM) and anything else.
   */
  static Charset wideEncoding(byte[] b) {
    int n = b.length;
    int b0 = n > 0 ? b[0] & 0xff : -1;
    int b1 = n > 1 ? b[1] & 0xff : -1;
    int b2 = n > 2 ? b[2] & 0xff : -1;
    int b3 = n > 3 ? b[3] & 0xff : -1;
    if (n >= 4 && b0 == 0 && b1 == 0 && b2 == 0xFE && b3 == 0xFF) {
      return Charset.forName("UTF-32BE");
    }
    if (n >= 4 && b0 == 0xFF && b1 == 0xFE && b2 == 0 && b3 == 0) {
      return Charset.forName("UTF-32LE");
    }
    if (n >= 2 && b0 == 0xFE && b1 == 0xFF) {
      return StandardCharsets.UTF_16; // consumes the BOM
    }
    if (n >= 2 && b0 == 0xFF && b1 == 0xFE) {
      return StandardCharsets.UTF_16; // consumes the BOM, little endian
    }
    if (n >= 4 && b0 == 0 && b1 == 0 && b2 == 0 && b3 != 0) {
      return Charset.forName("UTF-32BE");
    }
    if (n >= 4 && b0 != 0 && b1 == 0 && b2 == 0 && b3 == 0) {
      return Charset.forName("UTF-32LE");
    }
    if (n >= 2 && b0 == 0 && b1 != 0) {
      return StandardCharsets.UTF_16BE;
    }
    if (n >= 2 && b0 != 0 && b1 == 0) {
      return StandardCharsets.UTF_16LE;
    }
    return null;
  }

  private static JsonRequest parse(byte[] bytes, boolean transcoded) {
    try (JsonParser p = JSON.createParser(bytes)) {
      if (p.nextToken() != JsonToken.START_OBJECT) {
        return null;
      }
      String model = null;
      int modelStart = -1;
      int modelEnd = -1;
      boolean stream = false;
      boolean streamOptions = false;
      boolean empty = true;
      String user = null;
      String cacheKey = null;
      JsonToken t;
      while ((t = p.nextToken()) == JsonToken.FIELD_NAME) {
        empty = false;
        String name = p.currentName();
        JsonToken v = p.nextToken();
        switch (name) {
          case "model" -> {
            modelStart = (int) p.currentTokenLocation().getByteOffset();
            if (v == JsonToken.VALUE_STRING) {
              model = p.getText();
            } else if (v.isStructStart()) {
              p.skipChildren();
            }
            modelEnd = (int) p.currentLocation().getByteOffset();
          }
          case "stream" -> stream = v == JsonToken.VALUE_TRUE;
          case "stream_options" -> {
            streamOptions = true;
            p.skipChildren();
          }
          case "user" -> {
            if (v == JsonToken.VALUE_STRING) {
              user = p.getText();
            } else {
              p.skipChildren();
            }
          }
          case "prompt_cache_key" -> {
            if (v == JsonToken.VALUE_STRING) {
              cacheKey = p.getText();
            } else {
              p.skipChildren();
            }
          }
          default -> p.skipChildren();
        }
      }
      if (t != JsonToken.END_OBJECT) {
        return null;
      }
      int rootEnd = (int) p.currentTokenLocation().getByteOffset();
      if (p.nextToken() != null) {
        return null; // trailing content
      }
      if (rootEnd < 0 || (modelStart >= 0) != (modelEnd >= 0)) {
        return null; // no byte offsets (a character-based source): nothing can be spliced
      }
      return new JsonRequest(bytes, model, modelStart, modelEnd, stream, streamOptions, empty, rootEnd, user, cacheKey,
          transcoded);
    } catch (IOException | RuntimeException e) {
      return null;
    }
  }

  /** The top-level {@code model} string, or null. */
  public String model() {
    return model;
  }

  /** Whether {@code "stream": true}. */
  public boolean stream() {
    return stream;
  }

  public boolean hasStreamOptions() {
    return hasStreamOptions;
  }

  public String user() {
    return user;
  }

  public String promptCacheKey() {
    return promptCacheKey;
  }

  /** Whether the body arrived in UTF-16 or UTF-32 and {@link #bytes()} holds its UTF-8 transcoding. */
  public boolean transcoded() {
    return transcoded;
  }

  /** The original bytes, in UTF-8 when {@link #transcoded()} (not a copy: do not modify). */
  public byte[] bytes() {
    return bytes;
  }

  /** Whether {@link #rewrite} would change anything. */
  public boolean needsRewrite(String newModel, boolean includeUsage) {
    return (newModel != null && !newModel.equals(model)) || (includeUsage && stream && !hasStreamOptions);
  }

  /**
   * The body with {@code model} set to {@code newModel} (when not null; added if absent) and, when
   * {@code includeUsage} and the request streams without {@code stream_options},
   * {@code "stream_options":{"include_usage":true}} added before the root's closing brace. Every
   * other byte is unchanged.
   */
  public byte[] rewrite(String newModel, boolean includeUsage) {
    if (!needsRewrite(newModel, includeUsage)) {
      return bytes;
    }
    boolean setModel = newModel != null && !newModel.equals(model);
    boolean addOptions = includeUsage && stream && !hasStreamOptions;
    byte[] quoted = setModel ? quote(newModel) : null;
    boolean replaceModel = setModel && modelStart >= 0;
    boolean appendModel = setModel && modelStart < 0;
    // the exact size, so the body is written once into its final array
    int size = bytes.length;
    boolean empty = emptyObject;
    if (replaceModel) {
      size += quoted.length - (modelEnd - modelStart);
    }
    if (appendModel) {
      size += (empty ? 0 : 1) + MODEL_FIELD.length + quoted.length;
      empty = false;
    }
    if (addOptions) {
      size += (empty ? 0 : 1) + INCLUDE_USAGE.length;
    }
    byte[] out = new byte[size];
    int o = 0;
    int pos = 0;
    empty = emptyObject;
    if (replaceModel) {
      System.arraycopy(bytes, 0, out, 0, modelStart);
      o = modelStart;
      System.arraycopy(quoted, 0, out, o, quoted.length);
      o += quoted.length;
      pos = modelEnd;
    }
    System.arraycopy(bytes, pos, out, o, rootEnd - pos);
    o += rootEnd - pos;
    if (appendModel) {
      if (!empty) {
        out[o++] = ',';
      }
      System.arraycopy(MODEL_FIELD, 0, out, o, MODEL_FIELD.length);
      o += MODEL_FIELD.length;
      System.arraycopy(quoted, 0, out, o, quoted.length);
      o += quoted.length;
      empty = false;
    }
    if (addOptions) {
      if (!empty) {
        out[o++] = ',';
      }
      System.arraycopy(INCLUDE_USAGE, 0, out, o, INCLUDE_USAGE.length);
      o += INCLUDE_USAGE.length;
    }
    System.arraycopy(bytes, rootEnd, out, o, bytes.length - rootEnd);
    return out;
  }

  private static byte[] quote(String s) {
    byte[] inner = JsonStringEncoder.getInstance().quoteAsUTF8(s);
    byte[] q = new byte[inner.length + 2];
    q[0] = '"';
    System.arraycopy(inner, 0, q, 1, inner.length);
    q[q.length - 1] = '"';
    return q;
  }
}
