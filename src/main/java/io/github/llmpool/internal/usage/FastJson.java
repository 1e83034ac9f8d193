package io.github.llmpool.internal.usage;

import java.nio.charset.StandardCharsets;

/**
 * The fast reading of a JSON body that arrived whole in its first chunk: one pass over the bytes,
 * without Jackson (whose non-blocking parser costs about 1 KB of allocation and most of the tap's
 * time per answer), finding what {@link UsageWalker} finds in a JSON (not SSE) body: the root's
 * first string {@code model}, its {@code usage} counts and details, an {@code error} member (at
 * the root, or in an object of a root array). It answers only when it is sure to find exactly what
 * the Jackson path would: a complete, strictly valid root object or array followed by nothing but
 * whitespace; no escape in a member name or in the model; no count that the walker refuses (a
 * fraction, a negative number, one beyond a long); nesting within {@value #MAX_DEPTH}; no string
 * longer than {@value #MAX_STRING} bytes (the Jackson path shortens long strings); strictly
 * well-formed UTF-8. Anything else (a body in several chunks, malformed or unusual input) leaves
 * the accumulator untouched and the Jackson path reads the same bytes ({@code FastJsonTest}
 * compares both). Not thread-safe; one instance per reading.
 */
final class FastJson {
  static final int MAX_DEPTH = 32;
  static final int MAX_STRING = 4096;
  private static final int MAX_NUMBER = 400;

  private static final int FAIL = -1;

  // Kinds of containers, as in UsageWalker.
  private static final int K_SKIP = 0;
  private static final int K_ROOT_OBJ = 1;
  private static final int K_ROOT_ARR = 2;
  private static final int K_ROOT_ARR_OBJ = 3;
  private static final int K_USAGE = 4;
  private static final int K_PROMPT_DETAILS = 5;
  private static final int K_COMPLETION_DETAILS = 6;
  private static final int K_CHOICES = 8;
  private static final int K_CHOICE = 9;
  private static final int K_INCOMPLETE = 10;
  private static final int K_USAGE_META = 11;

  // Fields, as in UsageWalker.
  private static final int F_NONE = 0;
  private static final int F_MODEL = 1;
  private static final int F_USAGE = 2;
  private static final int F_ERROR = 3;
  private static final int F_CHOICES = 6;
  private static final int F_FINISH = 7;
  private static final int F_PROMPT = 8;
  private static final int F_COMPLETION = 9;
  private static final int F_TOTAL = 10;
  private static final int F_CACHED = 11;
  private static final int F_CACHE_HIT = 12;
  private static final int F_REASONING = 13;
  private static final int F_PDETAILS = 14;
  private static final int F_CDETAILS = 15;
  private static final int F_ID = 16;
  private static final int F_OBJECT = 17;
  private static final int F_STATUS = 18;
  private static final int F_INCOMPLETE = 19;
  private static final int F_REASON = 20;
  private static final int F_CACHE_READ = 21;
  private static final int F_CACHE_WRITE = 22;
  private static final int F_USAGE_META = 23;

  private static final byte[] RESPONSE = {'r', 'e', 's', 'p', 'o', 'n', 's', 'e'};

  private static final int HAS_PROMPT = 1;
  private static final int HAS_COMPLETION = 2;
  private static final int HAS_TOTAL = 4;
  private static final int HAS_CACHED = 8;
  private static final int HAS_CACHE_HIT = 16;
  private static final int HAS_REASONING = 32;
  private static final int HAS_CACHE_READ = 64;
  private static final int HAS_CACHE_WRITE = 128;
  private static final int OPENAI_NAMES = 256;
  private static final int GEMINI = 512;

  private final byte[] d;
  private final int end;

  // What the reading found (committed to the Acc only when the whole body was read).
  private boolean reported;
  private long rPrompt;
  private long rCompletion;
  private long rTotal;
  private long rCached;
  private long rReasoning;
  private long rCacheWrite;
  private boolean rAnthropic;
  private long rAnthropicInput;
  private String model;
  private boolean errorEvent;
  private String responseId;
  private String finish0;
  private String[] finishMore;
  private int finishCount;
  private String status;
  private String incompleteReason;
  private boolean responseObject;

  // The usage object being read.
  private int has;
  private long prompt;
  private long completion;
  private long total;
  private long cached;
  private long cacheHit;
  private long reasoning;
  private long cacheRead;
  private long cacheWrite;

  private FastJson(byte[] d, int end) {
    this.d = d;
    this.end = end;
  }

  /**
   * Reads {@code d[off, off + len)} as a whole JSON body; true when it did (the findings are in
   * {@code acc}, which is then terminated), false when the Jackson path must read it (nothing
   * changed).
   */
  static boolean read(byte[] d, int off, int len, Acc acc) {
    FastJson f = new FastJson(d, off + len);
    int i = f.ws(off);
    if (i >= f.end) {
      return false;
    }
    byte c = d[i];
    if (c == '{') {
      i = f.object(i, K_ROOT_OBJ, 1);
    } else if (c == '[') {
      i = f.array(i, K_ROOT_ARR, 1);
    } else {
      return false; // a root scalar: the non-blocking parser cannot tell a number ended
    }
    if (i < 0 || f.ws(i) != f.end) {
      return false;
    }
    acc.model = f.model;
    acc.errorEvent = f.errorEvent;
    acc.responseId = f.responseId;
    acc.finish0 = f.finish0;
    acc.finishMore = f.finishMore;
    acc.finishCount = f.finishCount;
    acc.status = f.status;
    acc.incompleteReason = f.incompleteReason;
    acc.responseObject = f.responseObject;
    if (f.reported) {
      acc.reported = true;
      acc.prompt = f.rPrompt;
      acc.completion = f.rCompletion;
      acc.total = f.rTotal;
      acc.cached = f.rCached;
      acc.reasoning = f.rReasoning;
      acc.cacheWrite = f.rCacheWrite;
      acc.anthropic = f.rAnthropic;
      acc.anthropicInput = f.rAnthropicInput;
    }
    acc.terminated = true;
    return true;
  }

  private int ws(int i) {
    while (i < end) {
      byte c = d[i];
      if (c != ' ' && c != '\n' && c != '\r' && c != '\t') {
        break;
      }
      i++;
    }
    return i;
  }

  /** The object at {@code d[i] == '{'} of kind {@code kind}; the index after it, or FAIL. */
  private int object(int i, int kind, int depth) {
    if (depth > MAX_DEPTH) {
      return FAIL;
    }
    if (kind == K_USAGE) {
      has = 0;
    } else if (kind == K_USAGE_META) {
      has = GEMINI;
    }
    i = ws(i + 1);
    if (i < end && d[i] == '}') {
      return close(i, kind);
    }
    while (true) {
      if (i >= end || d[i] != '"') {
        return FAIL;
      }
      int nameEnd = string(i);
      if (nameEnd < 0) {
        return FAIL;
      }
      for (int k = i + 1; k < nameEnd - 1; k++) {
        if (d[k] == '\\') {
          return FAIL; // Jackson reads what the escape stands for (and refuses some): its path decides
        }
      }
      int field = kind == K_SKIP ? F_NONE : classify(kind, i + 1, nameEnd - 1);
      i = ws(nameEnd);
      if (i >= end || d[i] != ':') {
        return FAIL;
      }
      i = value(ws(i + 1), field, kind == K_SKIP, depth);
      if (i < 0) {
        return FAIL;
      }
      i = ws(i);
      if (i >= end) {
        return FAIL;
      }
      if (d[i] == '}') {
        return close(i, kind);
      }
      if (d[i] != ',') {
        return FAIL;
      }
      i = ws(i + 1); // a trailing comma fails at the next check (Jackson tolerates it: its path decides)
    }
  }

  private int close(int i, int kind) {
    if (kind == K_USAGE || kind == K_USAGE_META) {
      commitUsage();
    }
    return i + 1;
  }

  /** The array at {@code d[i] == '['}; elements of a root array are its kind's objects. */
  private int array(int i, int kind, int depth) {
    if (depth > MAX_DEPTH) {
      return FAIL;
    }
    i = ws(i + 1);
    if (i < end && d[i] == ']') {
      return i + 1;
    }
    while (true) {
      if (i >= end) {
        return FAIL;
      }
      if (kind == K_ROOT_ARR && d[i] == '{') {
        i = object(i, K_ROOT_ARR_OBJ, depth + 1);
      } else if (kind == K_CHOICES && d[i] == '{') {
        i = object(i, K_CHOICE, depth + 1);
      } else {
        i = value(i, F_NONE, true, depth);
      }
      if (i < 0) {
        return FAIL;
      }
      i = ws(i);
      if (i >= end) {
        return FAIL;
      }
      if (d[i] == ']') {
        return i + 1;
      }
      if (d[i] != ',') {
        return FAIL;
      }
      i = ws(i + 1);
    }
  }

  /** A member's value of field {@code f} at {@code i} (in a container that is skipped when {@code skip}). */
  private int value(int i, int f, boolean skip, int depth) {
    if (i >= end) {
      return FAIL;
    }
    byte c = d[i];
    if (c == '{') {
      int kind = K_SKIP;
      if (!skip) {
        switch (f) {
          case F_USAGE -> kind = K_USAGE;
          case F_USAGE_META -> kind = K_USAGE_META;
          case F_PDETAILS -> kind = K_PROMPT_DETAILS;
          case F_CDETAILS -> kind = K_COMPLETION_DETAILS;
          case F_INCOMPLETE -> kind = K_INCOMPLETE;
          case F_ERROR -> errorEvent = true;
          default -> { }
        }
      }
      return object(i, kind, depth + 1);
    }
    if (c == '[') {
      if (!skip && f == F_ERROR) {
        errorEvent = true;
      }
      return array(i, !skip && f == F_CHOICES ? K_CHOICES : K_SKIP, depth + 1);
    }
    if (c == '"') {
      int e = string(i);
      if (e < 0) {
        return FAIL;
      }
      if (!skip && f == F_MODEL && model == null) {
        for (int k = i + 1; k < e - 1; k++) {
          if (d[k] == '\\') {
            return FAIL;
          }
        }
        model = new String(d, i + 1, e - i - 2, StandardCharsets.UTF_8);
      } else if (!skip && f == F_ERROR) {
        errorEvent = true;
      } else if (!skip && f >= F_ID && f != F_INCOMPLETE || !skip && f == F_FINISH) {
        if (f == F_ID && responseId != null) {
          return e; // the first id counts
        }
        for (int k = i + 1; k < e - 1; k++) {
          if (d[k] == '\\') {
            return FAIL;
          }
        }
        stringValue(f, i + 1, e - 1);
      }
      return e;
    }
    if (c == 't' || c == 'f' || c == 'n') {
      String word = c == 't' ? "true" : c == 'f' ? "false" : "null";
      int e = literal(i, word);
      if (e >= 0 && !skip && f == F_ERROR && c == 't') {
        errorEvent = true; // an error member that is not false (null is no error either)
      }
      return e;
    }
    int e = number(i, skip ? F_NONE : f);
    if (e >= 0 && !skip && f == F_ERROR) {
      errorEvent = true;
    }
    return e;
  }

  /** A string value (no escape in it) of field {@code f}: id, object, status, reason, finish reason. */
  private void stringValue(int f, int from, int to) {
    if (f == F_OBJECT) {
      if (to - from == RESPONSE.length && java.util.Arrays.equals(d, from, to, RESPONSE, 0, RESPONSE.length)) {
        responseObject = true;
      }
      return;
    }
    if (f == F_ID) {
      responseId = Reasons.cut(new String(d, from, to - from, StandardCharsets.UTF_8), Reasons.MAX_ID);
      return;
    }
    String r = Reasons.known(d, from, to);
    if (r == null) {
      r = Reasons.reason(new String(d, from, to - from, StandardCharsets.UTF_8));
    }
    if (f == F_STATUS) {
      status = r;
    } else if (f == F_REASON) {
      incompleteReason = r;
    } else if (finishCount == 0) {
      finish0 = r;
      finishCount = 1;
    } else if (finishCount < Reasons.MAX_REASONS) {
      if (finishMore == null) {
        finishMore = new String[Reasons.MAX_REASONS - 1];
      }
      finishMore[finishCount++ - 1] = r;
    }
  }

  private int classify(int kind, int from, int to) {
    switch (kind) {
      case K_ROOT_OBJ:
        if (is(from, to, "model")) {
          return F_MODEL;
        }
        if (is(from, to, "usage")) {
          return F_USAGE;
        }
        if (is(from, to, "usageMetadata")) {
          return F_USAGE_META;
        }
        if (is(from, to, "id")) {
          return F_ID;
        }
        if (is(from, to, "choices")) {
          return F_CHOICES;
        }
        if (is(from, to, "object")) {
          return F_OBJECT;
        }
        if (is(from, to, "status")) {
          return F_STATUS;
        }
        if (is(from, to, "incomplete_details")) {
          return F_INCOMPLETE;
        }
        return is(from, to, "error") ? F_ERROR : F_NONE;
      case K_CHOICE:
        return is(from, to, "finish_reason") ? F_FINISH : F_NONE;
      case K_INCOMPLETE:
        return is(from, to, "reason") ? F_REASON : F_NONE;
      case K_ROOT_ARR_OBJ:
        return is(from, to, "error") ? F_ERROR : is(from, to, "usageMetadata") ? F_USAGE_META : F_NONE;
      case K_USAGE_META:
        if (is(from, to, "promptTokenCount")) {
          return F_PROMPT;
        }
        if (is(from, to, "candidatesTokenCount")) {
          return F_COMPLETION;
        }
        if (is(from, to, "totalTokenCount")) {
          return F_TOTAL;
        }
        if (is(from, to, "cachedContentTokenCount")) {
          return F_CACHED;
        }
        return is(from, to, "thoughtsTokenCount") ? F_REASONING : F_NONE;
      case K_USAGE:
        if (is(from, to, "prompt_tokens")) {
          has |= OPENAI_NAMES;
          return F_PROMPT;
        }
        if (is(from, to, "input_tokens")) {
          return F_PROMPT;
        }
        if (is(from, to, "cache_read_input_tokens")) {
          return F_CACHE_READ;
        }
        if (is(from, to, "cache_creation_input_tokens")) {
          return F_CACHE_WRITE;
        }
        if (is(from, to, "completion_tokens") || is(from, to, "output_tokens")) {
          return F_COMPLETION;
        }
        if (is(from, to, "total_tokens")) {
          return F_TOTAL;
        }
        if (is(from, to, "prompt_cache_hit_tokens")) {
          return F_CACHE_HIT;
        }
        if (is(from, to, "prompt_tokens_details") || is(from, to, "input_tokens_details")) {
          has |= OPENAI_NAMES;
          return F_PDETAILS;
        }
        if (is(from, to, "completion_tokens_details") || is(from, to, "output_tokens_details")) {
          return F_CDETAILS;
        }
        return F_NONE;
      case K_PROMPT_DETAILS:
        return is(from, to, "cached_tokens") ? F_CACHED : F_NONE;
      case K_COMPLETION_DETAILS:
        return is(from, to, "reasoning_tokens") ? F_REASONING : F_NONE;
      default:
        return F_NONE;
    }
  }

  private boolean is(int from, int to, String name) {
    int n = name.length();
    if (to - from != n) {
      return false;
    }
    for (int k = 0; k < n; k++) {
      if (d[from + k] != name.charAt(k)) {
        return false;
      }
    }
    return true;
  }

  private int literal(int i, String word) {
    int n = word.length();
    if (i + n > end) {
      return FAIL;
    }
    for (int k = 0; k < n; k++) {
      if (d[i + k] != word.charAt(k)) {
        return FAIL;
      }
    }
    int e = i + n;
    return e < end && !delimiter(d[e]) ? FAIL : e;
  }

  private static boolean delimiter(byte c) {
    return c == ',' || c == '}' || c == ']' || c == ' ' || c == '\n' || c == '\r' || c == '\t';
  }

  /** A number; a count (field {@code f}) must be a non-negative integer that fits a long. */
  private int number(int i, int f) {
    int start = i;
    boolean negative = false;
    if (i < end && d[i] == '-') {
      negative = true;
      i++;
    }
    if (i >= end) {
      return FAIL;
    }
    int digits = i;
    if (d[i] == '0') {
      i++;
    } else if (d[i] >= '1' && d[i] <= '9') {
      while (i < end && d[i] >= '0' && d[i] <= '9') {
        i++;
      }
    } else {
      return FAIL;
    }
    int intEnd = i;
    boolean fraction = false;
    if (i < end && d[i] == '.') {
      fraction = true;
      i++;
      int k = i;
      while (i < end && d[i] >= '0' && d[i] <= '9') {
        i++;
      }
      if (i == k) {
        return FAIL;
      }
    }
    if (i < end && (d[i] == 'e' || d[i] == 'E')) {
      fraction = true;
      i++;
      if (i < end && (d[i] == '+' || d[i] == '-')) {
        i++;
      }
      int k = i;
      while (i < end && d[i] >= '0' && d[i] <= '9') {
        i++;
      }
      if (i == k) {
        return FAIL;
      }
    }
    if (i >= end || !delimiter(d[i]) || i - start > MAX_NUMBER) {
      return FAIL; // at the chunk's end a number may go on: the Jackson path decides
    }
    if ((f >= F_PROMPT && f <= F_REASONING) || f == F_CACHE_READ || f == F_CACHE_WRITE) {
      if (fraction || intEnd - digits > 18) {
        return FAIL; // the walker refuses a fraction; 19 digits and more may not fit a long
      }
      long v = 0;
      for (int k = digits; k < intEnd; k++) {
        v = v * 10 + (d[k] - '0');
      }
      if (negative && v != 0) {
        return FAIL; // a negative count: the walker refuses it
      }
      switch (f) {
        case F_PROMPT -> {
          prompt = v;
          has |= HAS_PROMPT;
        }
        case F_COMPLETION -> {
          completion = v;
          has |= HAS_COMPLETION;
        }
        case F_TOTAL -> {
          total = v;
          has |= HAS_TOTAL;
        }
        case F_CACHED -> {
          cached = v;
          has |= HAS_CACHED;
        }
        case F_CACHE_HIT -> {
          cacheHit = v;
          has |= HAS_CACHE_HIT;
        }
        case F_CACHE_READ -> {
          cacheRead = v;
          has |= HAS_CACHE_READ;
        }
        case F_CACHE_WRITE -> {
          cacheWrite = v;
          has |= HAS_CACHE_WRITE;
        }
        default -> {
          reasoning = v;
          has |= HAS_REASONING;
        }
      }
    }
    return i;
  }

  /** As {@code UsageWalker.commitUsage} for a JSON body (one reading, so no earlier Anthropic usage to go on from). */
  private void commitUsage() {
    int h = has;
    has = 0;
    if ((h & (HAS_PROMPT | HAS_COMPLETION | HAS_TOTAL)) == 0) {
      return;
    }
    reported = true;
    if ((h & (GEMINI | OPENAI_NAMES)) == 0 && (rAnthropic || (h & (HAS_CACHE_READ | HAS_CACHE_WRITE)) != 0)) {
      rAnthropic = true;
      if ((h & HAS_PROMPT) != 0) {
        rAnthropicInput = prompt;
      }
      if ((h & HAS_CACHE_READ) != 0) {
        rCached = cacheRead;
      }
      if ((h & HAS_CACHE_WRITE) != 0) {
        rCacheWrite = cacheWrite;
      }
      if ((h & HAS_COMPLETION) != 0) {
        rCompletion = completion;
      }
      if ((h & HAS_TOTAL) != 0) {
        rTotal = total;
      }
      rPrompt = Acc.sum(rAnthropicInput, Acc.sum(rCached, rCacheWrite));
      rReasoning = 0;
      return;
    }
    rPrompt = (h & HAS_PROMPT) != 0 ? prompt : 0;
    rCompletion = (h & HAS_COMPLETION) != 0 ? completion : 0;
    rTotal = (h & HAS_TOTAL) != 0 ? total : 0;
    rCached = (h & HAS_CACHED) != 0 ? cached : (h & HAS_CACHE_HIT) != 0 ? cacheHit
        : (h & HAS_CACHE_READ) != 0 ? cacheRead : 0;
    rReasoning = (h & HAS_REASONING) != 0 ? reasoning : 0;
    rCacheWrite = (h & HAS_CACHE_WRITE) != 0 ? cacheWrite : 0;
    if ((h & GEMINI) != 0) {
      rCompletion = Acc.sum(rCompletion, rReasoning);
    }
  }


  /** The index after the string at {@code d[i] == '"'}, or FAIL (see JsonRequest.Scan.string). */
  private int string(int i) {
    int j = i + 1;
    int limit = Math.min(end, j + MAX_STRING);
    while (j < limit) {
      int c = d[j] & 0xff;
      if (c == '"') {
        return j + 1;
      }
      if (c == '\\') {
        if (j + 1 >= end) {
          return FAIL;
        }
        int e = d[j + 1];
        if (e == 'u') {
          if (j + 6 > end) {
            return FAIL;
          }
          int u = 0;
          for (int k = j + 2; k < j + 6; k++) {
            int h = Character.digit(d[k], 16);
            if (h < 0) {
              return FAIL;
            }
            u = u << 4 | h;
          }
          if (u >= 0xD800 && u <= 0xDFFF) {
            return FAIL; // a surrogate escape: Jackson refuses a broken pair in a name; its path decides
          }
          j += 6;
        } else if (e == '"' || e == '\\' || e == '/' || e == 'b' || e == 'f' || e == 'n' || e == 'r' || e == 't') {
          j += 2;
        } else {
          return FAIL;
        }
      } else if (c < 0x20) {
        return FAIL;
      } else if (c < 0x80) {
        j++;
      } else {
        int n = utf8(j);
        if (n < 0) {
          return FAIL;
        }
        j += n;
      }
    }
    return FAIL;
  }

  private int utf8(int j) {
    int c = d[j] & 0xff;
    if (c >= 0xC2 && c <= 0xDF) {
      return j + 1 < end && cont(d[j + 1]) ? 2 : FAIL;
    }
    if (c >= 0xE0 && c <= 0xEF) {
      if (j + 2 >= end) {
        return FAIL;
      }
      int c1 = d[j + 1] & 0xff;
      boolean ok = c == 0xE0 ? c1 >= 0xA0 && c1 <= 0xBF : c == 0xED ? c1 >= 0x80 && c1 <= 0x9F : cont(d[j + 1]);
      return ok && cont(d[j + 2]) ? 3 : FAIL;
    }
    if (c >= 0xF0 && c <= 0xF4) {
      if (j + 3 >= end) {
        return FAIL;
      }
      int c1 = d[j + 1] & 0xff;
      boolean ok = c == 0xF0 ? c1 >= 0x90 && c1 <= 0xBF : c == 0xF4 ? c1 >= 0x80 && c1 <= 0x8F : cont(d[j + 1]);
      return ok && cont(d[j + 2]) && cont(d[j + 3]) ? 4 : FAIL;
    }
    return FAIL;
  }

  private static boolean cont(byte c) {
    return (c & 0xC0) == 0x80;
  }
}
