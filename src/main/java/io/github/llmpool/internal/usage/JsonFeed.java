package io.github.llmpool.internal.usage;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.async.ByteArrayFeeder;

/**
 * One JSON value read as its bytes arrive: Jackson's non-blocking parser, fed through a byte
 * filter that shortens long strings, drives a {@link UsageWalker}.
 *
 * <p>Why the filter: Jackson's non-blocking parser decodes every string into its text buffer,
 * whether or not anyone reads it, so a 100 M character answer would cost 200 MB of
 * {@code char}s, and past {@code StreamReadConstraints.maxStringLength} (20 M by default) the
 * parser fails and the usage after it is lost. The filter follows JSON string syntax over raw
 * bytes (quotes, backslash escapes) and passes on only the first {@link #KEEP} bytes of each
 * string (member names included), cut at a character boundary and never inside an escape, then
 * the closing quote. The values the walker reads ({@code model}, {@code type}) and every member
 * name it matches are far shorter; a longer one is read as that prefix. What is dropped is not
 * validated: invalid UTF-8 or a bad escape past the first {@code KEEP} bytes of a string is not
 * noticed. The result does not depend on how the input is split. Memory: the parser's buffers
 * for one {@code KEEP}-byte token, whatever the size of the document.
 *
 * <p>Not thread-safe. Never throws: a parse error ends the feed as {@link #INVALID}.
 */
final class JsonFeed {
  /** Bytes of a string passed on to Jackson; the rest of the string is skipped. */
  static final int KEEP = 8 * 1024;

  /** {@link #feed} result: more input is wanted. */
  static final int MORE = 0;
  /** The root value is complete (the walker said so). */
  static final int DONE = 1;
  /** Not valid JSON, a limit of the factory, or a usage count the walker refused. */
  static final int INVALID = 2;
  /** The parser ended without completing a root value. */
  static final int ENDED = 3;

  private static final byte[] EMPTY = new byte[0];

  private static final int OUT = 0; // outside any string
  private static final int IN = 1; // inside a string, passing bytes on
  private static final int IN_ESC = 2; // right after a backslash, passing on
  private static final int IN_HEX = 3; // in the four hex digits of a unicode escape, passing on
  private static final int SKIP = 4; // inside a string, past KEEP: dropping bytes
  private static final int SKIP_ESC = 5; // right after a backslash, dropping

  private final UsageWalker walker;
  private JsonParser parser;
  private ByteArrayFeeder feeder;
  private int status = MORE;

  private int state = OUT;
  /** Bytes of the current string passed on so far. */
  private int count;
  /**
   * The current string may not be cut before this many bytes: the end of its last escape, or of
   * the escape after it when the last one was the high half of a surrogate pair (Jackson refuses
   * a name with a broken pair).
   */
  private int noCutBefore;
  /** Hex digits still to come in the current unicode escape (backslash, u, four hex digits). */
  private int hexLeft;
  /** The current unicode escape is so far a high surrogate ({@code D800-DBFF}). */
  private boolean high;

  /** A feed whose walker was {@link UsageWalker#reset reset} onto its target by the caller. */
  JsonFeed(UsageWalker walker) {
    this.walker = walker;
    try {
      parser = UsageWalker.FACTORY.createNonBlockingByteArrayParser();
      feeder = (ByteArrayFeeder) parser.getNonBlockingInputFeeder();
    } catch (Exception e) {
      status = INVALID;
    }
  }

  /** {@link #MORE}, or how the feed ended. */
  int status() {
    return status;
  }

  /**
   * Feeds {@code d[from, to)}; returns {@link #status()}. Input after the end is ignored. Keeps no
   * reference to {@code d}.
   */
  int feed(byte[] d, int from, int to) {
    if (status != MORE) {
      return status;
    }
    int i = from;
    int run = state == SKIP || state == SKIP_ESC ? -1 : from; // start of the bytes to pass on
    while (i < to) {
      switch (state) {
        case OUT: {
          int q = ChunkScan.indexOfQuote(d, i, to);
          if (q < to) {
            state = IN;
            count = 0;
            noCutBefore = 0;
            i = q + 1;
          } else {
            i = to;
          }
          break;
        }
        case IN: {
          int j = ChunkScan.indexOfQuoteOrBackslash(d, i, to);
          int from2 = i + Math.max(0, Math.max(KEEP, noCutBefore) - count);
          int cut = -1;
          if (from2 < j) {
            cut = from2;
            while (cut < j && (d[cut] & 0xC0) == 0x80) {
              cut++; // not inside a multi-byte character
            }
            if (cut == j) {
              cut = -1;
            }
          }
          if (cut < 0) {
            count += j - i;
            if (j == to) {
              i = to;
            } else if (d[j] == '"') {
              state = OUT;
              i = j + 1;
            } else if (count >= Math.max(KEEP, noCutBefore)) {
              cut = j; // cut right before a backslash
            } else {
              count++;
              state = IN_ESC;
              i = j + 1;
            }
          }
          if (cut >= 0) {
            if (run >= 0 && forward(d, run, cut) != MORE) {
              return status;
            }
            run = -1;
            state = SKIP;
            i = cut;
          }
          break;
        }
        case IN_ESC: {
          count++;
          if (d[i] == 'u') {
            noCutBefore = count + 4; // after the unicode escape
            hexLeft = 4;
            state = IN_HEX;
          } else {
            noCutBefore = count; // after the two-byte escape
            state = IN;
          }
          i++;
          break;
        }
        case IN_HEX: {
          byte c = d[i];
          if (hexLeft == 4) {
            high = c == 'D' || c == 'd';
          } else if (hexLeft == 3) {
            high = high && (c == '8' || c == '9' || c == 'a' || c == 'b' || c == 'A' || c == 'B');
          }
          count++;
          i++;
          if (--hexLeft == 0) {
            state = IN;
            if (high) {
              noCutBefore = count + 6; // keep the low half with it
            }
          }
          break;
        }
        case SKIP: {
          int j = ChunkScan.indexOfQuoteOrBackslash(d, i, to);
          if (j == to) {
            i = to;
          } else if (d[j] == '"') {
            state = OUT;
            run = j; // pass on from the closing quote
            i = j + 1;
          } else {
            state = SKIP_ESC;
            i = j + 1;
          }
          break;
        }
        default: { // SKIP_ESC
          state = SKIP;
          i++;
          break;
        }
      }
    }
    if (run >= 0 && forward(d, run, to) != MORE) {
      return status;
    }
    release();
    return status;
  }

  /** Passes {@code d[s, e)} to Jackson and hands every token to the walker. */
  private int forward(byte[] d, int s, int e) {
    if (s >= e) {
      return status;
    }
    try {
      feeder.feedInput(d, s, e);
      while (true) {
        JsonToken t = parser.nextToken();
        if (t == JsonToken.NOT_AVAILABLE) {
          return status;
        }
        if (t == null) {
          return finish(ENDED);
        }
        int r = walker.token(t, parser);
        if (r == UsageWalker.DONE) {
          return finish(DONE);
        }
        if (r == UsageWalker.INVALID) {
          return finish(INVALID);
        }
      }
    } catch (Exception ex) {
      // Not JSON, invalid UTF-8, a nesting / number-length limit, or a parser bug.
      return finish(INVALID);
    }
  }

  /** Drops the parser's reference to the caller's array (all of it was consumed). */
  private void release() {
    if (feeder != null) {
      try {
        feeder.feedInput(EMPTY, 0, 0);
      } catch (Exception e) {
        finish(INVALID);
      }
    }
  }

  private int finish(int how) {
    status = how;
    JsonParser p = parser;
    parser = null;
    feeder = null;
    if (p != null) {
      try {
        p.close();
      } catch (Exception ignored) {
        // nothing to release that matters
      }
    }
    return how;
  }

  /** Ends the feed early (its result is no longer wanted), releasing the parser. */
  void close() {
    if (status == MORE) {
      finish(ENDED);
    }
  }
}
