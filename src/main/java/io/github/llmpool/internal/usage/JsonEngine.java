package io.github.llmpool.internal.usage;

/**
 * JSON body. One that arrives whole in its first chunk (a typical non-streamed answer) is read by
 * {@link FastJson} when it can be read exactly; otherwise every byte goes to a {@link JsonFeed} as it arrives (Jackson's non-blocking parser,
 * long strings shortened); nothing is buffered beyond the token in progress, at most
 * {@link JsonFeed#KEEP} bytes of a string. Stops at the end of the root value, on the first
 * error, or on an unreadable usage count.
 */
final class JsonEngine extends Engine {
  private final Acc acc = new Acc();
  private final boolean fast;
  private UsageWalker walker; // created when the Jackson path reads the body
  private JsonFeed feed;
  private boolean any;
  private boolean done;

  JsonEngine() {
    this(true);
  }

  /** {@code fast}: whether a body that arrives whole in its first chunk is read by {@link FastJson}. */
  JsonEngine(boolean fast) {
    this.fast = fast;
  }

  @Override
  void accept(byte[] data, int off, int len) {
    if (len <= 0) {
      return;
    }
    boolean first = !any;
    any = true;
    if (done) {
      return;
    }
    if (first && fast && FastJson.read(data, off, len, acc)) {
      done = true; // the whole body, read without Jackson: what the walker would have found
      return;
    }
    if (feed == null) {
      if (walker == null) {
        walker = new UsageWalker(false, false);
      }
      walker.reset(acc);
      feed = new JsonFeed(walker);
    }
    int r = feed.feed(data, off, off + len);
    if (r == JsonFeed.MORE) {
      return;
    }
    if (r == JsonFeed.DONE) {
      acc.terminated = true;
    } else if (r == JsonFeed.INVALID) {
      acc.malformed = true;
    }
    done = true;
    feed = null;
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
