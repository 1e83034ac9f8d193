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
  /** Whether the request named its budget {@code max_completion_tokens}. */
  boolean completionTokensNamed() {
    return completionTokensNamed;
  }

  /** {@code max_completion_tokens}, else {@code max_tokens}, when a non-negative integer; else -1. */
  private long maxTokens = -1;
  /** Whether the budget was named {@code max_completion_tokens} (a probe copies the name). */
  private boolean completionTokensNamed;

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
    JsonRequest fast = Scan.request(bytes, transcoded);
    return fast != null ? fast : parseWithJackson(bytes, transcoded);
  }

  /** The same reading with Jackson's parser (the reference; every body the fast scan is unsure of). */
  static JsonRequest parseWithJackson(byte[] bytes, boolean transcoded) {
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
      long maxCompletion = -1;
      long maxTokens = -1;
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
          case "max_completion_tokens", "max_tokens" -> {
            long m = -1;
            if (v == JsonToken.VALUE_NUMBER_INT) {
              byte[] digits = p.getText().getBytes(StandardCharsets.US_ASCII);
              m = integer(digits, 0, digits.length); // the fast scan's reading, to the byte
            } else {
              p.skipChildren();
            }
            if (name.equals("max_tokens")) {
              maxTokens = m;
            } else {
              maxCompletion = m;
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
          transcoded).withMaxTokens(maxCompletion, maxTokens);
    } catch (IOException | RuntimeException e) {
      return null;
    }
  }

  /**
   * The completion budget the request names: {@code max_completion_tokens}, else {@code max_tokens}
   * (OpenAI, Anthropic), when a non-negative integer; -1 when absent.
   */
  public long maxTokens() {
    return maxTokens;
  }

  /**
   * The request's token estimate the way providers count it against a tokens-per-minute limit at
   * admission: the body's bytes / 4 (OpenAI's own limiter estimates from the character count) plus
   * its completion budget.
   */
  public long estimatedTokens() {
    return (bytes.length + 3L) / 4 + Math.max(0, maxTokens);
  }

  /** Sets the completion budget read by a parser (once, before the request is shared). */
  private JsonRequest withMaxTokens(long maxCompletionTokens, long maxTokensField) {
    this.maxTokens = maxCompletionTokens >= 0 ? maxCompletionTokens : maxTokensField;
    this.completionTokensNamed = maxCompletionTokens >= 0;
    return this;
  }

  /** A JSON integer literal at {@code [start, end)} as a long, or -1 (negative, fractional, exponent, too long). */
  static long integer(byte[] b, int start, int end) {
    if (end - start < 1 || end - start > 15) {
      return -1;
    }
    long v = 0;
    for (int k = start; k < end; k++) {
      int d = b[k] - '0';
      if (d < 0 || d > 9) {
        return -1;
      }
      v = v * 10 + d;
    }
    return v;
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
    return rewrite(newModel, includeUsage, null);
  }

  private byte[] rewrite(String newModel, boolean includeUsage, byte[] quotedModel) {
    if (!needsRewrite(newModel, includeUsage)) {
      return bytes;
    }
    boolean setModel = newModel != null && !newModel.equals(model);
    boolean addOptions = includeUsage && stream && !hasStreamOptions;
    byte[] quoted = setModel ? (quotedModel != null ? quotedModel : quote(newModel)) : null;
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

  /**
   * {@link #rewrite(String, boolean)} with {@code newModel} already {@linkplain #quote quoted} (a
   * provider's model is quoted once, not per request).
   */
  public byte[] rewrite(String newModel, byte[] quotedModel, boolean includeUsage) {
    return rewrite(newModel, includeUsage, quotedModel);
  }

  /** Every field the reading found, for tests that compare two readings. */
  String layout() {
    return "model=" + model + " [" + modelStart + "," + modelEnd + ") stream=" + stream + " streamOptions="
        + hasStreamOptions + " empty=" + emptyObject + " rootEnd=" + rootEnd + " user=" + user + " cacheKey="
        + promptCacheKey + " transcoded=" + transcoded + " bytes=" + bytes.length + " maxTokens=" + maxTokens;
  }

  /** {@code s} as a JSON string literal in UTF-8, quotes included. */
  static byte[] quote(String s) {
    byte[] inner = JsonStringEncoder.getInstance().quoteAsUTF8(s);
    byte[] q = new byte[inner.length + 2];
    q[0] = '"';
    System.arraycopy(inner, 0, q, 1, inner.length);
    q[q.length - 1] = '"';
    return q;
  }

  /**
   * The fast reading: one pass over the bytes without Jackson (whose parser costs about 1 KB of
   * allocation per request), for the bodies it can read exactly as Jackson does. It returns null
   * whenever it is not sure (anything malformed or unusual: escapes in a field name or in a value
   * it returns, a non-string {@code model}, a byte-order mark, nesting deeper than
   * {@value #MAX_DEPTH}, very long numbers, strings or names, UTF-8 that is not strictly
   * well-formed), and Jackson decides: so it never accepts a body Jackson rejects, and every field
   * it finds is what Jackson finds ({@code JsonRequestScanTest} compares both on generated and
   * mutated bodies).
   */
  static final class Scan {
    static final int MAX_DEPTH = 200;
    private static final int MAX_NUMBER = 500;
    private static final int MAX_STRING = 1 << 20;
    private static final int MAX_NAME = 1000;

    private static final int OTHER = 0;
    private static final int MODEL = 1;
    private static final int STREAM = 2;
    private static final int STREAM_OPTIONS = 3;
    private static final int USER = 4;
    private static final int CACHE_KEY = 5;
    private static final int MAX_TOKENS = 6;
    private static final int MAX_COMPLETION_TOKENS = 7;

    private static final byte[][] NAMES = {
        null,
        "model".getBytes(StandardCharsets.US_ASCII),
        "stream".getBytes(StandardCharsets.US_ASCII),
        "stream_options".getBytes(StandardCharsets.US_ASCII),
        "user".getBytes(StandardCharsets.US_ASCII),
        "prompt_cache_key".getBytes(StandardCharsets.US_ASCII),
        "max_tokens".getBytes(StandardCharsets.US_ASCII),
        "max_completion_tokens".getBytes(StandardCharsets.US_ASCII),
    };

    private Scan() {}

    static JsonRequest request(byte[] b, boolean transcoded) {
      int n = b.length;
      int i = ws(b, 0);
      if (i >= n || b[i] != '{') {
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
      long maxTokens = -1;
      long maxCompletion = -1;
      int rootEnd;
      i = ws(b, i + 1);
      if (i < n && b[i] == '}') {
        rootEnd = i;
      } else {
        while (true) {
          if (i >= n || b[i] != '"') {
            return null;
          }
          int nameEnd = string(b, i);
          if (nameEnd < 0 || nameEnd - i - 2 > MAX_NAME) {
            return null;
          }
          int field = field(b, i + 1, nameEnd - 1);
          if (field < 0) {
            return null; // an escape in the name: Jackson reads what it stands for
          }
          i = ws(b, nameEnd);
          if (i >= n || b[i] != ':') {
            return null;
          }
          int valueStart = ws(b, i + 1);
          int valueEnd = value(b, valueStart, 1);
          if (valueEnd < 0) {
            return null;
          }
          empty = false;
          byte c = b[valueStart];
          switch (field) {
            case MODEL -> {
              if (c != '"') {
                return null;
              }
              model = text(b, valueStart, valueEnd);
              if (model == null) {
                return null;
              }
              modelStart = valueStart;
              modelEnd = valueEnd;
            }
            case STREAM -> {
              if (c == '{' || c == '[') {
                return null; // Jackson's reading does not skip a structured "stream" value
              }
              stream = c == 't';
            }
            case STREAM_OPTIONS -> streamOptions = true;
            case USER -> {
              if (c == '"') {
                user = text(b, valueStart, valueEnd);
                if (user == null) {
                  return null;
                }
              }
            }
            case CACHE_KEY -> {
              if (c == '"') {
                cacheKey = text(b, valueStart, valueEnd);
                if (cacheKey == null) {
                  return null;
                }
              }
            }
            case MAX_TOKENS -> maxTokens = integer(b, valueStart, valueEnd);
            case MAX_COMPLETION_TOKENS -> maxCompletion = integer(b, valueStart, valueEnd);
            default -> { }
          }
          i = ws(b, valueEnd);
          if (i >= n) {
            return null;
          }
          if (b[i] == ',') {
            i = ws(b, i + 1);
            continue;
          }
          if (b[i] == '}') {
            rootEnd = i;
            break;
          }
          return null;
        }
      }
      if (ws(b, rootEnd + 1) != n) {
        return null; // trailing content (or more values): Jackson decides
      }
      return new JsonRequest(b, model, modelStart, modelEnd, stream, streamOptions, empty, rootEnd, user, cacheKey,
          transcoded).withMaxTokens(maxCompletion, maxTokens);
    }

    /** The first index at or after {@code i} that is not JSON whitespace. */
    private static int ws(byte[] b, int i) {
      while (i < b.length) {
        byte c = b[i];
        if (c != ' ' && c != '\n' && c != '\r' && c != '\t') {
          break;
        }
        i++;
      }
      return i;
    }

    /** Which top-level field the name {@code b[from, to)} is; -1 when it holds an escape. */
    private static int field(byte[] b, int from, int to) {
      int len = to - from;
      for (int k = from; k < to; k++) {
        if (b[k] == '\\') {
          return -1;
        }
      }
      for (int f = 1; f < NAMES.length; f++) {
        byte[] name = NAMES[f];
        if (name.length == len && java.util.Arrays.equals(b, from, to, name, 0, len)) {
          return f;
        }
      }
      return OTHER;
    }

    /** The string value at {@code [start, end)} (quotes included) when it has no escape, else null. */
    private static String text(byte[] b, int start, int end) {
      for (int k = start + 1; k < end - 1; k++) {
        if (b[k] == '\\') {
          return null;
        }
      }
      return new String(b, start + 1, end - start - 2, StandardCharsets.UTF_8);
    }

    /** The index after the value starting at {@code i}, or -1 (malformed or unsure). */
    private static int value(byte[] b, int i, int depth) {
      int n = b.length;
      if (i >= n) {
        return -1;
      }
      switch (b[i]) {
        case '"':
          return string(b, i);
        case '{': {
          if (depth >= MAX_DEPTH) {
            return -1;
          }
          i = ws(b, i + 1);
          if (i < n && b[i] == '}') {
            return i + 1;
          }
          while (true) {
            if (i >= n || b[i] != '"') {
              return -1;
            }
            int nameEnd = string(b, i);
            if (nameEnd < 0 || nameEnd - i - 2 > MAX_NAME) {
              return -1;
            }
            i = ws(b, nameEnd);
            if (i >= n || b[i] != ':') {
              return -1;
            }
            i = value(b, ws(b, i + 1), depth + 1);
            if (i < 0) {
              return -1;
            }
            i = ws(b, i);
            if (i >= n) {
              return -1;
            }
            if (b[i] == '}') {
              return i + 1;
            }
            if (b[i] != ',') {
              return -1;
            }
            i = ws(b, i + 1);
          }
        }
        case '[': {
          if (depth >= MAX_DEPTH) {
            return -1;
          }
          i = ws(b, i + 1);
          if (i < n && b[i] == ']') {
            return i + 1;
          }
          while (true) {
            i = value(b, i, depth + 1);
            if (i < 0) {
              return -1;
            }
            i = ws(b, i);
            if (i >= n) {
              return -1;
            }
            if (b[i] == ']') {
              return i + 1;
            }
            if (b[i] != ',') {
              return -1;
            }
            i = ws(b, i + 1);
          }
        }
        case 't':
          return literal(b, i, "true");
        case 'f':
          return literal(b, i, "false");
        case 'n':
          return literal(b, i, "null");
        default:
          return number(b, i);
      }
    }

    private static int literal(byte[] b, int i, String word) {
      int len = word.length();
      if (i + len > b.length) {
        return -1;
      }
      for (int k = 0; k < len; k++) {
        if (b[i + k] != word.charAt(k)) {
          return -1;
        }
      }
      int end = i + len;
      return end < b.length && !delimiter(b[end]) ? -1 : end;
    }

    /** What may follow a number or literal (Jackson fails on anything else, e.g. {@code truex}). */
    private static boolean delimiter(byte c) {
      return c == ',' || c == '}' || c == ']' || c == ' ' || c == '\n' || c == '\r' || c == '\t';
    }

    /** {@code -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?}, then a delimiter. */
    private static int number(byte[] b, int i) {
      int n = b.length;
      int start = i;
      if (i < n && b[i] == '-') {
        i++;
      }
      if (i >= n) {
        return -1;
      }
      if (b[i] == '0') {
        i++;
      } else if (b[i] >= '1' && b[i] <= '9') {
        while (i < n && b[i] >= '0' && b[i] <= '9') {
          i++;
        }
      } else {
        return -1;
      }
      if (i < n && b[i] == '.') {
        i++;
        int digits = i;
        while (i < n && b[i] >= '0' && b[i] <= '9') {
          i++;
        }
        if (i == digits) {
          return -1;
        }
      }
      if (i < n && (b[i] == 'e' || b[i] == 'E')) {
        i++;
        if (i < n && (b[i] == '+' || b[i] == '-')) {
          i++;
        }
        int digits = i;
        while (i < n && b[i] >= '0' && b[i] <= '9') {
          i++;
        }
        if (i == digits) {
          return -1;
        }
      }
      if (i - start > MAX_NUMBER || (i < n && !delimiter(b[i]))) {
        return -1;
      }
      return i;
    }

    /**
     * The index after the string starting at {@code b[i] == '"'}, or -1: escapes must be JSON's
     * own, no control character may appear unescaped, and other bytes must be strictly
     * well-formed UTF-8 (no overlong form, no surrogate, nothing above U+10FFFF).
     */
    static int string(byte[] b, int i) {
      int n = b.length;
      int j = i + 1;
      int limit = (int) Math.min(n, (long) j + MAX_STRING);
      while (j < limit) {
        int c = b[j] & 0xff;
        if (c == '"') {
          return j + 1;
        }
        if (c == '\\') {
          if (j + 1 >= n) {
            return -1;
          }
          int e = b[j + 1];
          if (e == 'u') {
            if (j + 6 > n) {
              return -1;
            }
            int u = 0;
            for (int k = j + 2; k < j + 6; k++) {
              int h = Character.digit(b[k], 16);
              if (h < 0) {
                return -1;
              }
              u = u << 4 | h;
            }
            if (u >= 0xD800 && u <= 0xDFFF) {
              return -1; // a surrogate escape (a broken pair may fail Jackson): Jackson decides
            }
            j += 6;
          } else if (e == '"' || e == '\\' || e == '/' || e == 'b' || e == 'f' || e == 'n' || e == 'r' || e == 't') {
            j += 2;
          } else {
            return -1;
          }
        } else if (c < 0x20) {
          return -1;
        } else if (c < 0x80) {
          j++;
        } else {
          int len = utf8(b, j);
          if (len < 0) {
            return -1;
          }
          j += len;
        }
      }
      return -1;
    }

    /** The length of the strictly well-formed UTF-8 sequence at {@code j}, or -1. */
    private static int utf8(byte[] b, int j) {
      int n = b.length;
      int c = b[j] & 0xff;
      if (c >= 0xC2 && c <= 0xDF) {
        return j + 1 < n && cont(b[j + 1]) ? 2 : -1;
      }
      if (c >= 0xE0 && c <= 0xEF) {
        if (j + 2 >= n) {
          return -1;
        }
        int c1 = b[j + 1] & 0xff;
        boolean ok = c == 0xE0 ? c1 >= 0xA0 && c1 <= 0xBF : c == 0xED ? c1 >= 0x80 && c1 <= 0x9F : cont(b[j + 1]);
        return ok && cont(b[j + 2]) ? 3 : -1;
      }
      if (c >= 0xF0 && c <= 0xF4) {
        if (j + 3 >= n) {
          return -1;
        }
        int c1 = b[j + 1] & 0xff;
        boolean ok = c == 0xF0 ? c1 >= 0x90 && c1 <= 0xBF : c == 0xF4 ? c1 >= 0x80 && c1 <= 0x8F : cont(b[j + 1]);
        return ok && cont(b[j + 2]) && cont(b[j + 3]) ? 4 : -1;
      }
      return -1;
    }

    private static boolean cont(byte c) {
      return (c & 0xC0) == 0x80;
    }
  }
}
