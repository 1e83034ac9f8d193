package io.github.llmpool.internal.usage;

/** One parsing strategy behind a {@link UsageParser}. Implementations must not throw. */
abstract class Engine {
  abstract void accept(byte[] data, int off, int len);

  abstract boolean firstTokenSeen();

  abstract UsageResult result();

  /** A body that is neither JSON nor SSE: never reports usage. */
  static final class None extends Engine {
    private boolean any;

    @Override
    void accept(byte[] data, int off, int len) {
      if (len > 0) {
        any = true;
      }
    }

    @Override
    boolean firstTokenSeen() {
      return any;
    }

    @Override
    UsageResult result() {
      return new UsageResult(false, 0, 0, 0, 0, 0, null, false, false, false, false, 0);
    }
  }
}
