package io.github.llmpool.usage;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.async.ByteArrayFeeder;

/**
 * JSON body: Jackson's non-blocking parser consumes every byte as it arrives; nothing is buffered
 * beyond the token in progress. Stops at the end of the root value, on the first error, or on an
 * unreadable usage count.
 */
final class JsonEngine extends Engine {
  private static final byte[] EMPTY = new byte[0];

  private final Acc acc = new Acc();
  private final UsageWalker walker = new UsageWalker(false, false);
  private JsonParser parser;
  private ByteArrayFeeder feeder;
  private boolean any;
  private boolean done;

  @Override
  void accept(byte[] data, int off, int len) {
    if (len <= 0) {
      return;
    }
    any = true;
    if (done) {
      return;
    }
    try {
      if (parser == null) {
        parser = UsageWalker.FACTORY.createNonBlockingByteArrayParser();
        feeder = (ByteArrayFeeder) parser.getNonBlockingInputFeeder();
        walker.reset(acc);
      }
      // The feeder references `data` until its bytes are consumed: drain every token now, then
      // hand it an empty array so that no reference to the caller's array is kept.
      feeder.feedInput(data, off, off + len);
      while (true) {
        JsonToken t = parser.nextToken();
        if (t == JsonToken.NOT_AVAILABLE) {
          feeder.feedInput(EMPTY, 0, 0);
          return;
        }
        if (t == null) {
          finish();
          return;
        }
        int r = walker.token(t, parser);
        if (r == UsageWalker.DONE) {
          acc.terminated = true;
          finish();
          return;
        }
        if (r == UsageWalker.INVALID) {
          acc.malformed = true;
          finish();
          return;
        }
      }
    } catch (Exception e) {
      // Not JSON, invalid UTF-8, a nesting / number-length limit, or a parser bug: stop here.
      acc.malformed = true;
      finish();
    }
  }

  private void finish() {
    done = true;
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
  }

  @Override
  boolean firstTokenSeen() {
    return any;
  }

  @Override
  UsageResult result() {
    return acc.toResult(false);
  }
}
