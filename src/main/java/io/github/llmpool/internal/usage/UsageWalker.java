package io.github.llmpool.internal.usage;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.core.json.JsonReadFeature;
import java.io.IOException;

/**
 * Push-style interpreter of a JSON token stream: tracks only the containers that can matter
 * (root, {@code usage} and its details, {@code response}, {@code choices[]},
 * {@code incomplete_details}) and ignores the rest
 * by counting nesting. Fed one token at a time, so it serves both the non-blocking parser (JSON
 * bodies) and a blocking parser over one buffered SSE event. Not thread-safe.
 */
final class UsageWalker {

  /**
   * Shared factory. Its read constraints are set for a tap that must not fail on large answers,
   * each one deliberately (Jackson's defaults would lose the usage of an answer with a string over
   * 20 M characters):
   * <ul>
   *   <li>string and name length: no limit. The tap bounds what it hands Jackson itself: JSON
   *       bodies and SSE events over {@link SseEngine#MAX_EVENT} go through {@link JsonFeed},
   *       which passes on at most {@link JsonFeed#KEEP} bytes of any string (so the non-blocking
   *       parser, which decodes every string, buffers at most that much); smaller events are
   *       parsed in place by the blocking parser, which skips the strings it is not asked for
   *       without decoding them.</li>
   *   <li>document length and token count: no limit; a document is streamed, never held.</li>
   *   <li>number length: 1,000 digits (Jackson's default). A count needs at most 19; the parser
   *       buffers a number's digits, and converting a long one costs quadratic time. A longer
   *       number anywhere makes the body malformed.</li>
   *   <li>nesting depth: 64. API responses nest a few levels (their free-form parts, such as
   *       tool arguments, are strings); deeper input is malformed.</li>
   * </ul>
   * Field names are canonicalized but not interned. Trailing commas are tolerated: Jackson's
   * non-blocking parser accepts {@code {"a":1,}} when the input happens to be split right after
   * the comma, so accepting them always keeps results independent of how the body was chunked.
   */
  static final JsonFactory FACTORY = JsonFactory.builder()
      .streamReadConstraints(StreamReadConstraints.builder()
          .maxStringLength(Integer.MAX_VALUE)
          .maxNameLength(Integer.MAX_VALUE)
          .maxDocumentLength(-1)
          .maxTokenCount(-1)
          .maxNumberLength(1_000)
          .maxNestingDepth(64)
          .build())
      .disable(JsonFactory.Feature.INTERN_FIELD_NAMES)
      .enable(JsonReadFeature.ALLOW_TRAILING_COMMA)
      .build();

  static final int CONTINUE = 0;
  /** The root value is complete. */
  static final int DONE = 1;
  /**
   * A usage count was not a non-negative integer that fits a long, or the token sequence is not
   * valid JSON (a member name without a value, which Jackson's non-blocking parser lets through
   * when the input is split right after the colon).
   */
  static final int INVALID = 2;

  // Kinds of tracked containers.
  private static final byte K_ROOT_OBJ = 1;
  private static final byte K_ROOT_ARR = 2;
  private static final byte K_ROOT_ARR_OBJ = 3;
  private static final byte K_USAGE = 4;
  private static final byte K_PROMPT_DETAILS = 5;
  private static final byte K_COMPLETION_DETAILS = 6;
  private static final byte K_RESPONSE = 7;
  private static final byte K_CHOICES = 8;
  private static final byte K_CHOICE = 9;
  private static final byte K_INCOMPLETE = 10;
  /** Gemini's {@code usageMetadata}. */
  private static final byte K_USAGE_META = 11;

  // The field whose value comes next.
  private static final int F_NONE = 0;
  private static final int F_MODEL = 1;
  private static final int F_USAGE = 2;
  private static final int F_ERROR = 3;
  private static final int F_TYPE = 4;
  private static final int F_RESPONSE = 5;
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

  private static final int HAS_PROMPT = 1;
  private static final int HAS_COMPLETION = 2;
  private static final int HAS_TOTAL = 4;
  private static final int HAS_CACHED = 8;
  private static final int HAS_CACHE_HIT = 16;
  private static final int HAS_REASONING = 32;
  private static final int HAS_CACHE_READ = 64;
  private static final int HAS_CACHE_WRITE = 128;
  /** The usage named its prompt {@code prompt_tokens} or had {@code *_tokens_details}: OpenAI's convention. */
  private static final int OPENAI_NAMES = 256;
  /** The usage is Gemini's {@code usageMetadata}. */
  private static final int GEMINI = 512;

  /** SSE event semantics: root {@code type}, {@code response}, {@code choices[].finish_reason}. */
  private final boolean sse;
  /** The parser is blocking: ignored containers are skipped with {@code skipChildren()}. */
  private final boolean blocking;

  private final byte[] stack = new byte[8];
  private int depth;
  /** Nesting inside an ignored container (non-blocking mode only). */
  private int skip;
  private int field;
  private JsonToken last;
  private Acc acc;

  private int has;
  private long prompt;
  private long completion;
  private long total;
  private long cached;
  private long cacheHit;
  private long reasoning;
  private long cacheRead;
  private long cacheWrite;

  UsageWalker(boolean sse, boolean blocking) {
    this.sse = sse;
    this.blocking = blocking;
  }

  /** Starts a new root value whose findings go to {@code target}. */
  void reset(Acc target) {
    acc = target;
    depth = 0;
    skip = 0;
    field = F_NONE;
    has = 0;
    last = null;
  }

  int token(JsonToken t, JsonParser p) throws IOException {
    if (last == JsonToken.FIELD_NAME && (t == JsonToken.END_OBJECT || t == JsonToken.FIELD_NAME
        || t == JsonToken.END_ARRAY)) {
      return INVALID;
    }
    last = t;
    if (skip > 0) {
      if (t == JsonToken.START_OBJECT || t == JsonToken.START_ARRAY) {
        skip++;
      } else if (t == JsonToken.END_OBJECT || t == JsonToken.END_ARRAY) {
        skip--;
      }
      return CONTINUE;
    }
    switch (t) {
      case FIELD_NAME:
        field = depth == 0 ? F_NONE : classify(stack[depth - 1], p.currentName());
        return CONTINUE;
      case START_OBJECT:
        startObject(p);
        return CONTINUE;
      case START_ARRAY:
        startArray(p);
        return CONTINUE;
      case END_OBJECT:
      case END_ARRAY:
        return end();
      case VALUE_NULL:
        field = F_NONE;
        return depth == 0 ? DONE : CONTINUE;
      case NOT_AVAILABLE:
        return CONTINUE;
      default:
        return depth == 0 ? DONE : scalar(t, p);
    }
  }

  private int classify(byte kind, String n) {
    switch (kind) {
      case K_ROOT_OBJ:
        switch (n) {
          case "model": return F_MODEL;
          case "usage": return F_USAGE;
          case "usageMetadata": return F_USAGE_META;
          case "error": return F_ERROR;
          case "id": return F_ID;
          case "type": return sse ? F_TYPE : F_NONE;
          case "response":
          case "message": // Anthropic's message_start event
            return sse ? F_RESPONSE : F_NONE;
          case "choices": return F_CHOICES;
          case "object": return sse ? F_NONE : F_OBJECT;
          case "status": return sse ? F_NONE : F_STATUS;
          case "incomplete_details": return sse ? F_NONE : F_INCOMPLETE;
          default: return F_NONE;
        }
      case K_ROOT_ARR_OBJ:
        return "error".equals(n) ? F_ERROR : "usageMetadata".equals(n) ? F_USAGE_META : F_NONE;
      case K_RESPONSE:
        switch (n) {
          case "model": return F_MODEL;
          case "usage": return F_USAGE;
          case "error": return F_ERROR;
          case "id": return F_ID;
          case "status": return F_STATUS;
          case "incomplete_details": return F_INCOMPLETE;
          default: return F_NONE;
        }
      case K_INCOMPLETE:
        return "reason".equals(n) ? F_REASON : F_NONE;
      case K_CHOICE:
        return "finish_reason".equals(n) ? F_FINISH : F_NONE;
      case K_USAGE:
        switch (n) {
          case "prompt_tokens":
            has |= OPENAI_NAMES;
            return F_PROMPT;
          case "input_tokens":
            return F_PROMPT;
          case "completion_tokens":
          case "output_tokens":
            return F_COMPLETION;
          case "total_tokens":
            return F_TOTAL;
          case "prompt_cache_hit_tokens":
            return F_CACHE_HIT;
          case "cache_read_input_tokens":
            return F_CACHE_READ;
          case "cache_creation_input_tokens":
            return F_CACHE_WRITE;
          case "prompt_tokens_details":
          case "input_tokens_details":
            has |= OPENAI_NAMES;
            return F_PDETAILS;
          case "completion_tokens_details":
          case "output_tokens_details":
            return F_CDETAILS;
          default:
            return F_NONE;
        }
      case K_USAGE_META:
        switch (n) {
          case "promptTokenCount": return F_PROMPT;
          case "candidatesTokenCount": return F_COMPLETION;
          case "totalTokenCount": return F_TOTAL;
          case "cachedContentTokenCount": return F_CACHED;
          case "thoughtsTokenCount": return F_REASONING;
          default: return F_NONE;
        }
      case K_PROMPT_DETAILS:
        return "cached_tokens".equals(n) ? F_CACHED : F_NONE;
      case K_COMPLETION_DETAILS:
        return "reasoning_tokens".equals(n) ? F_REASONING : F_NONE;
      default:
        return F_NONE;
    }
  }

  private void startObject(JsonParser p) throws IOException {
    if (depth == 0) {
      push(K_ROOT_OBJ);
      return;
    }
    byte kind = stack[depth - 1];
    int f = field;
    field = F_NONE;
    if (kind == K_ROOT_ARR) {
      push(K_ROOT_ARR_OBJ);
      return;
    }
    if (kind == K_CHOICES) {
      push(K_CHOICE);
      return;
    }
    switch (f) {
      case F_USAGE:
        has = 0;
        push(K_USAGE);
        return;
      case F_USAGE_META:
        has = GEMINI;
        push(K_USAGE_META);
        return;
      case F_PDETAILS:
        push(K_PROMPT_DETAILS);
        return;
      case F_CDETAILS:
        push(K_COMPLETION_DETAILS);
        return;
      case F_RESPONSE:
        push(K_RESPONSE);
        return;
      case F_INCOMPLETE:
        push(K_INCOMPLETE);
        return;
      case F_ERROR:
        acc.errorEvent = true;
        skipContainer(p);
        return;
      default:
        skipContainer(p);
    }
  }

  private void startArray(JsonParser p) throws IOException {
    if (depth == 0) {
      push(K_ROOT_ARR);
      return;
    }
    int f = field;
    field = F_NONE;
    if (f == F_CHOICES) {
      push(K_CHOICES);
      return;
    }
    if (f == F_ERROR) {
      acc.errorEvent = true;
    }
    skipContainer(p);
  }

  private void skipContainer(JsonParser p) throws IOException {
    if (blocking) {
      p.skipChildren();
    } else {
      skip = 1;
    }
  }

  private void push(byte kind) {
    stack[depth++] = kind;
  }

  private int end() {
    field = F_NONE;
    if (depth == 0) {
      return CONTINUE; // cannot happen: the parser rejects unbalanced input
    }
    byte kind = stack[--depth];
    if (kind == K_USAGE || kind == K_USAGE_META) {
      commitUsage();
    }
    return depth == 0 ? DONE : CONTINUE;
  }

  private int scalar(JsonToken t, JsonParser p) throws IOException {
    int f = field;
    field = F_NONE;
    switch (f) {
      case F_MODEL:
        if (t == JsonToken.VALUE_STRING && acc.model == null) {
          acc.model = p.getText();
        }
        return CONTINUE;
      case F_ERROR:
        if (t != JsonToken.VALUE_FALSE) {
          acc.errorEvent = true;
        }
        return CONTINUE;
      case F_TYPE:
        if (t == JsonToken.VALUE_STRING) {
          type(p.getText());
        }
        return CONTINUE;
      case F_FINISH:
        if (sse) {
          acc.terminated = true; // JSON: the root's end terminates
        }
        if (t == JsonToken.VALUE_STRING) {
          acc.addFinish(Reasons.reason(p.getText()));
        }
        return CONTINUE;
      case F_ID:
        if (t == JsonToken.VALUE_STRING && acc.responseId == null) {
          acc.responseId = Reasons.cut(p.getText(), Reasons.MAX_ID);
        }
        return CONTINUE;
      case F_OBJECT:
        if (t == JsonToken.VALUE_STRING && "response".equals(p.getText())) {
          acc.responseObject = true;
        }
        return CONTINUE;
      case F_STATUS:
        if (t == JsonToken.VALUE_STRING) {
          acc.status = Reasons.reason(p.getText());
          if (sse) {
            acc.responseObject = true; // the status of a stream event's response
          }
        }
        return CONTINUE;
      case F_REASON:
        if (t == JsonToken.VALUE_STRING) {
          acc.incompleteReason = Reasons.reason(p.getText());
        }
        return CONTINUE;
      case F_PROMPT:
      case F_COMPLETION:
      case F_TOTAL:
      case F_CACHED:
      case F_CACHE_HIT:
      case F_REASONING:
      case F_CACHE_READ:
      case F_CACHE_WRITE:
        return count(f, t, p);
      default:
        return CONTINUE;
    }
  }

  private void type(String type) {
    switch (type) {
      case "response.completed":
      case "response.incomplete":
        acc.terminated = true;
        break;
      case "response.failed":
        acc.terminated = true;
        acc.errorEvent = true;
        break;
      case "message_start":
      case "message_delta":
        acc.anthropic = true; // Anthropic's stream: usage objects are cumulative, input_tokens excludes the cache
        break;
      case "message_stop":
        acc.anthropic = true;
        acc.terminated = true;
        break;
      case "error":
        acc.errorEvent = true;
        break;
      default:
        break;
    }
  }

  private int count(int f, JsonToken t, JsonParser p) throws IOException {
    if (t == JsonToken.VALUE_NUMBER_FLOAT) {
      return INVALID;
    }
    if (t != JsonToken.VALUE_NUMBER_INT) {
      return CONTINUE; // a string or boolean where a count belongs: treated as absent
    }
    JsonParser.NumberType nt = p.getNumberType();
    if (nt != JsonParser.NumberType.INT && nt != JsonParser.NumberType.LONG) {
      return INVALID;
    }
    long v = p.getLongValue();
    if (v < 0) {
      return INVALID;
    }
    switch (f) {
      case F_PROMPT:
        prompt = v;
        has |= HAS_PROMPT;
        break;
      case F_COMPLETION:
        completion = v;
        has |= HAS_COMPLETION;
        break;
      case F_TOTAL:
        total = v;
        has |= HAS_TOTAL;
        break;
      case F_CACHED:
        cached = v;
        has |= HAS_CACHED;
        break;
      case F_CACHE_HIT:
        cacheHit = v;
        has |= HAS_CACHE_HIT;
        break;
      case F_CACHE_READ:
        cacheRead = v;
        has |= HAS_CACHE_READ;
        break;
      case F_CACHE_WRITE:
        cacheWrite = v;
        has |= HAS_CACHE_WRITE;
        break;
      default:
        reasoning = v;
        has |= HAS_REASONING;
        break;
    }
    return CONTINUE;
  }

  private void commitUsage() {
    int h = has;
    has = 0;
    if ((h & (HAS_PROMPT | HAS_COMPLETION | HAS_TOTAL)) == 0) {
      return; // e.g. "usage": {} is not a report
    }
    Acc a = acc;
    a.reported = true;
    if ((h & (GEMINI | OPENAI_NAMES)) == 0 && (a.anthropic || (h & (HAS_CACHE_READ | HAS_CACHE_WRITE)) != 0)) {
      // Anthropic: input_tokens excludes cache reads and writes; a stream's later usage (message_delta)
      // is cumulative and may name only some counts, so what it leaves out keeps its earlier value.
      a.anthropic = true;
      if ((h & HAS_PROMPT) != 0) {
        a.anthropicInput = prompt;
      }
      if ((h & HAS_CACHE_READ) != 0) {
        a.cached = cacheRead;
      }
      if ((h & HAS_CACHE_WRITE) != 0) {
        a.cacheWrite = cacheWrite;
      }
      if ((h & HAS_COMPLETION) != 0) {
        a.completion = completion;
      }
      if ((h & HAS_TOTAL) != 0) {
        a.total = total;
      }
      a.prompt = Acc.sum(a.anthropicInput, Acc.sum(a.cached, a.cacheWrite));
      a.reasoning = 0;
      return;
    }
    a.prompt = (h & HAS_PROMPT) != 0 ? prompt : 0;
    a.completion = (h & HAS_COMPLETION) != 0 ? completion : 0;
    a.total = (h & HAS_TOTAL) != 0 ? total : 0;
    a.cached = (h & HAS_CACHED) != 0 ? cached : (h & HAS_CACHE_HIT) != 0 ? cacheHit
        : (h & HAS_CACHE_READ) != 0 ? cacheRead : 0;
    a.reasoning = (h & HAS_REASONING) != 0 ? reasoning : 0;
    a.cacheWrite = (h & HAS_CACHE_WRITE) != 0 ? cacheWrite : 0; // a gateway's OpenAI shape: part of prompt_tokens
    if ((h & GEMINI) != 0) {
      a.completion = Acc.sum(a.completion, a.reasoning); // thoughtsTokenCount is apart from candidatesTokenCount
    }
  }

}
