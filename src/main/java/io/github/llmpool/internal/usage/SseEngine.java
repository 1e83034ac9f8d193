package io.github.llmpool.internal.usage;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;

/**
 * {@code text/event-stream} body: splits lines over raw bytes (LF, CR or CRLF, any split point),
 * buffers the current event's data (joined with LF) up to {@link #MAX_EVENT}, and on dispatch
 * parses the event's JSON only when it can matter: the first JSON event (for the model) and
 * afterwards events that a byte scan ({@link ChunkScan}) flags. A single-line {@code data:} event
 * that arrives whole within one {@code accept} call (the common case) is read in place, without
 * being copied. An event larger than the buffer is parsed as it arrives instead, by a
 * {@link JsonFeed} (long strings shortened), and always (a Responses API
 * {@code response.completed} event carries the whole answer along with the usage); one that
 * arrives whole is handed to it in place, so the result does not depend on how the body is cut.
 */
final class SseEngine extends Engine {
  /** Largest event data buffered; a larger event is parsed as it arrives. */
  static final int MAX_EVENT = 1 << 20;
  private static final int INITIAL = 512;
  private static final int SHRINK_ABOVE = 64 * 1024;

  private static final int S_LINE_START = 0;
  private static final int S_FIELD = 1;
  private static final int S_VALUE_START = 2;
  private static final int S_VALUE = 3;
  private static final int S_IGNORE = 4;

  private static final int FK_OTHER = 0;
  private static final int FK_DATA = 1;
  private static final int FK_EVENT = 2;

  private static final byte[] DATA = {'d', 'a', 't', 'a'};
  private static final byte[] EVENT = {'e', 'v', 'e', 'n', 't'};
  private static final byte[] ERROR = {'e', 'r', 'r', 'o', 'r'};
  private static final byte[] DONE = {'[', 'D', 'O', 'N', 'E', ']'};
  private static final byte[] BOM = {(byte) 0xEF, (byte) 0xBB, (byte) 0xBF};
  private static final byte[] LF = {'\n'};

  // What an event that outgrew the buffer turned out to be.
  private static final int BIG_BLANK = 0; // only whitespace so far
  private static final int BIG_JSON = 1; // parsed as it arrives
  private static final int BIG_OTHER = 2; // not JSON (or JSON parsing stopped): only counted

  private final Acc acc = new Acc();
  private final UsageWalker walker = new UsageWalker(true, true);

  /** The current event's data lines, joined with LF. */
  private byte[] buf = new byte[INITIAL];
  private int len;
  private int dataLines;

  /** The current event outgrew the buffer: its data goes to {@link #big} (or nowhere) instead. */
  private boolean overflow;
  private int bigKind;
  private JsonFeed big;
  /** What the walker of the big event found (its model starts as the stream's). */
  private Acc bigAcc;
  private UsageWalker bigWalker;

  private final byte[] name = new byte[5];
  private int nameLen;
  private final byte[] eventName = new byte[5];
  private int eventNameLen;

  private int state = S_LINE_START;
  private int kind;
  private boolean skipLf;
  private int bomPos;
  private boolean broken;

  @Override
  void accept(byte[] d, int off, int n) {
    if (n <= 0 || broken) {
      return;
    }
    try {
      feed(d, off, off + n);
    } catch (RuntimeException e) {
      // Cannot happen short of a bug; never let it reach the caller.
      broken = true;
      acc.malformed = true;
      acc.jsonStopped = true;
    }
  }

  private void feed(byte[] d, int i, int end) {
    while (bomPos < 3 && i < end) {
      if (d[i] == BOM[bomPos]) {
        bomPos++;
        i++;
      } else {
        bomPos = 3;
      }
    }
    while (i < end) {
      if (skipLf) {
        skipLf = false;
        if (d[i] == '\n') {
          i++;
          continue;
        }
      }
      switch (state) {
        case S_LINE_START: {
          byte c = d[i];
          if (c == 'd' && dataLines == 0) {
            int next = wholeEvent(d, i, end);
            if (next >= 0) {
              i = next;
              break;
            }
          }
          if (c == '\n' || c == '\r') {
            i++;
            lineEnd(c);
            dispatch();
          } else if (c == ':') {
            i++;
            state = S_IGNORE; // comment, e.g. ": keep-alive"
          } else {
            nameLen = 0;
            state = S_FIELD;
          }
          break;
        }
        case S_FIELD: {
          while (i < end) {
            byte c = d[i++];
            if (c == ':') {
              kind = classify();
              state = S_VALUE_START;
              break;
            }
            if (c == '\n' || c == '\r') {
              // A field with no colon: its value is the empty string.
              kind = classify();
              beginValue();
              endValue();
              lineEnd(c);
              break;
            }
            if (nameLen < 6) {
              if (nameLen < 5) {
                name[nameLen] = c;
              }
              nameLen++;
            }
          }
          break;
        }
        case S_VALUE_START: {
          if (d[i] == ' ') {
            i++; // one optional space after the colon
          }
          beginValue();
          state = S_VALUE;
          break;
        }
        case S_VALUE: {
          int j = ChunkScan.indexOfEol(d, i, end);
          if (j > i) {
            value(d, i, j);
          }
          if (j < end) {
            endValue();
            lineEnd(d[j]);
            j++;
          }
          i = j;
          break;
        }
        default: { // S_IGNORE
          int j = ChunkScan.indexOfEol(d, i, end);
          if (j < end) {
            lineEnd(d[j]);
            j++;
          }
          i = j;
          break;
        }
      }
    }
  }

  private void lineEnd(byte c) {
    state = S_LINE_START;
    if (c == '\r') {
      skipLf = true;
    }
  }

  private int classify() {
    if (nameLen == 4 && ChunkScan.equalsAscii(name, 0, 4, DATA)) {
      return FK_DATA;
    }
    if (nameLen == 5 && ChunkScan.equalsAscii(name, 0, 5, EVENT)) {
      return FK_EVENT;
    }
    return FK_OTHER;
  }

  private void beginValue() {
    if (kind == FK_DATA) {
      if (dataLines > 0) {
        append1((byte) '\n');
      }
      dataLines++;
    } else if (kind == FK_EVENT) {
      eventNameLen = 0;
    }
  }

  private void value(byte[] d, int from, int to) {
    if (kind == FK_DATA) {
      append(d, from, to - from);
    } else if (kind == FK_EVENT) {
      for (int k = from; k < to && eventNameLen < 6; k++) {
        if (eventNameLen < 5) {
          eventName[eventNameLen] = d[k];
        }
        eventNameLen++;
      }
    }
  }

  private void endValue() {
    if (kind == FK_EVENT && eventNameLen == 5 && ChunkScan.equalsAscii(eventName, 0, 5, ERROR)) {
      acc.errorEvent = true;
    }
  }

  private void append1(byte c) {
    if (overflow) {
      bigData(LF, 0, 1);
      return;
    }
    if (len >= MAX_EVENT) {
      startBig();
      bigData(LF, 0, 1);
      return;
    }
    if (len == buf.length) {
      grow(len + 1);
    }
    buf[len++] = c;
  }

  private void append(byte[] d, int from, int n) {
    if (overflow) {
      bigData(d, from, from + n);
      return;
    }
    if (n > MAX_EVENT - len) {
      startBig();
      bigData(d, from, from + n);
      return;
    }
    int need = len + n;
    if (need > buf.length) {
      grow(need);
    }
    System.arraycopy(d, from, buf, len, n);
    len = need;
  }

  private void grow(int need) {
    int cap = Math.max(need, Math.min(buf.length * 2, MAX_EVENT));
    buf = java.util.Arrays.copyOf(buf, cap);
  }

  /** The event outgrows the buffer: what is buffered goes to the big event, and so does the rest. */
  private void startBig() {
    overflow = true;
    bigKind = BIG_BLANK;
    bigData(buf, 0, len);
    len = 0;
    if (buf.length > SHRINK_ABOVE) {
      buf = new byte[INITIAL];
    }
  }

  /** Data of an event that outgrew the buffer. */
  private void bigData(byte[] d, int from, int to) {
    if (bigKind == BIG_BLANK) {
      while (from < to && isWs(d[from])) {
        from++;
      }
      if (from == to) {
        return;
      }
      if (acc.jsonStopped || (d[from] != '{' && d[from] != '[')) {
        bigKind = BIG_OTHER;
        return;
      }
      bigKind = BIG_JSON;
      bigAcc = new Acc();
      bigAcc.model = acc.model;
      if (acc.anthropic) { // a cumulative Anthropic usage goes on from what earlier events said
        bigAcc.anthropic = true;
        bigAcc.anthropicInput = acc.anthropicInput;
        bigAcc.cached = acc.cached;
        bigAcc.cacheWrite = acc.cacheWrite;
        bigAcc.completion = acc.completion;
        bigAcc.total = acc.total;
      }
      if (bigWalker == null) {
        bigWalker = new UsageWalker(true, false);
      }
      bigWalker.reset(bigAcc);
      big = new JsonFeed(bigWalker);
    }
    if (bigKind == BIG_JSON) {
      big.feed(d, from, to);
    }
  }

  /**
   * Takes a big event into {@code a}: counted (unless blank) and, if JSON, what its walker found.
   * {@code tentative}: no blank line after it yet; its JSON must be complete to count, else this
   * returns false and {@code a} is untouched.
   */
  private boolean finishBig(Acc a, boolean tentative) {
    if (bigKind == BIG_BLANK) {
      return true; // blank data: a keep-alive
    }
    if (bigKind == BIG_OTHER) {
      a.events++;
      return true;
    }
    boolean complete = big.status() == JsonFeed.DONE;
    if (tentative && !complete) {
      return false;
    }
    a.events++;
    a.firstParsed = true;
    if (a.model == null) {
      a.model = bigAcc.model;
    }
    a.errorEvent |= bigAcc.errorEvent;
    a.terminated |= bigAcc.terminated;
    a.mergeFinish(bigAcc);
    if (bigAcc.reported) {
      a.reported = true;
      a.prompt = bigAcc.prompt;
      a.completion = bigAcc.completion;
      a.total = bigAcc.total;
      a.cached = bigAcc.cached;
      a.reasoning = bigAcc.reasoning;
      a.cacheWrite = bigAcc.cacheWrite;
      a.anthropic |= bigAcc.anthropic;
      a.anthropicInput = bigAcc.anthropicInput;
    }
    if (!complete) {
      a.malformed = true; // usage read completely before the damage is still reported
      a.jsonStopped = true;
    }
    return true;
  }

  /**
   * Fast path for the common case: a single-line {@code data:} event whose line and blank line
   * are both inside {@code d[i, end)}. It is interpreted in place, without copying. Returns the
   * index after the blank line, or -1 to let the general state machine handle it.
   */
  private int wholeEvent(byte[] d, int i, int end) {
    if (end - i < 7 || d[i + 1] != 'a' || d[i + 2] != 't' || d[i + 3] != 'a' || d[i + 4] != ':') {
      return -1;
    }
    int vs = i + 5;
    if (d[vs] == ' ') {
      vs++;
    }
    int eol = ChunkScan.indexOfEol(d, vs, end);
    int k = eol + 1;
    if (k >= end) {
      return -1;
    }
    if (d[eol] == '\r' && d[k] == '\n') {
      k++;
      if (k >= end) {
        return -1;
      }
    }
    byte blank = d[k];
    if (blank != '\n' && blank != '\r') {
      return -1; // another field follows: multi-line event
    }
    if (eol - vs > MAX_EVENT) {
      // As if it had come in pieces: a big event is always parsed, by a JsonFeed, so that the
      // result does not depend on how the body was cut.
      overflow = true;
      bigKind = BIG_BLANK;
      bigData(d, vs, eol);
      dataLines = 1;
      dispatch();
    } else {
      process(acc, d, vs, eol, false); // in place
    }
    if (blank == '\r') {
      skipLf = true;
    }
    return k + 1;
  }

  /** Blank line: dispatch the event (if it has data) and start the next. */
  private void dispatch() {
    if (dataLines > 0) {
      if (overflow) {
        finishBig(acc, false);
      } else {
        process(acc, buf, 0, len, false);
      }
    }
    len = 0;
    dataLines = 0;
    if (overflow) {
      overflow = false;
      if (big != null) {
        big.close();
      }
      big = null;
      bigAcc = null;
    }
  }

  /**
   * Interprets one event's data {@code b[from, to)} into {@code a}. {@code tentative}: the event
   * has no blank line after it yet (end of input, or a mid-stream {@link #result()}); if it looks
   * incomplete (a prefix of {@code [DONE]}, or JSON that fails to parse) it is left out and this
   * returns false.
   */
  private boolean process(Acc a, byte[] b, int from, int to, boolean tentative) {
    int s = from;
    int e = to;
    while (s < e && isWs(b[s])) {
      s++;
    }
    while (e > s && isWs(b[e - 1])) {
      e--;
    }
    if (s == e) {
      return true; // blank data: a keep-alive
    }
    if (ChunkScan.equalsAscii(b, s, e, DONE)) {
      a.terminated = true;
      return true;
    }
    if (tentative && e - s < DONE.length && ChunkScan.equalsAscii(b, s, e, DONE, e - s)) {
      return false; // "[DO" may yet become "[DONE]"
    }
    a.events++;
    if (a.jsonStopped || (b[s] != '{' && b[s] != '[')) {
      return true; // not JSON (or parsing stopped): only counted
    }
    // A tentative event is always parsed: only JSON that parses shows it is all here.
    boolean parse =
        tentative || !a.firstParsed || ChunkScan.interesting(b, s, e, a.model == null);
    a.firstParsed = true;
    if (!parse) {
      return true;
    }
    walker.reset(a);
    boolean failed = false;
    try (JsonParser p = UsageWalker.FACTORY.createParser(b, s, e - s)) {
      JsonToken t;
      while ((t = p.nextToken()) != null) {
        int r = walker.token(t, p);
        if (r == UsageWalker.DONE) {
          break;
        }
        if (r == UsageWalker.INVALID) {
          failed = true;
          break;
        }
      }
    } catch (Exception ex) {
      failed = true; // not JSON, a limit, or (tentatively) not all here yet
    }
    if (failed) {
      if (tentative) {
        return false;
      }
      a.malformed = true;
      a.jsonStopped = true;
    }
    return true;
  }

  private static boolean isWs(byte c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
  }

  @Override
  boolean firstTokenSeen() {
    return acc.events > 0;
  }

  @Override
  UsageResult result() {
    if (dataLines > 0 && !broken) {
      // End of input with data pending (no blank line yet): evaluate that event too, on a copy,
      // so this stays repeatable and more input may still follow.
      try {
        Acc c = acc.copy();
        if (overflow ? finishBig(c, true) : process(c, buf, 0, len, true)) {
          return c.toResult(true);
        }
      } catch (RuntimeException e) {
        // fall through: report what was dispatched
      }
    }
    return acc.toResult(true);
  }
}
