package io.github.llmpool.internal.usage;

/**
 * JSON body: every byte goes to a {@link JsonFeed} as it arrives (Jackson's non-blocking parser,
 * long strings shortened); nothing is buffered beyond the token in progress, at most
 * {@link JsonFeed#KEEP} bytes of a string. Stops at the end of the root value, on the first
 * error, or on an unreadable usage count.
 */
final class JsonEngine extends Engine {
  private final Acc acc = new Acc();
  private final UsageWalker walker = new UsageWalker(false, false);
  private JsonFeed feed;
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
    if (feed == null) {
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
