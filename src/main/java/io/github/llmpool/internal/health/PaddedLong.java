package io.github.llmpool.internal.health;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/** Left padding: keeps the hot value off the cache line of the object header and earlier fields. */
abstract class PaddedLongLhs {
  long p01, p02, p03, p04, p05, p06, p07;
  long p10, p11, p12, p13, p14, p15, p16, p17;
}

/** The value, between two pads. */
abstract class PaddedLongValue extends PaddedLongLhs {
  volatile long value;
}

/**
 * An atomic long padded against false sharing (the JCTools/Caffeine layout: fields of a superclass
 * come first, so 120 bytes of padding sit on each side of the value). Thread-safe.
 */
public final class PaddedLong extends PaddedLongValue {
  long p20, p21, p22, p23, p24, p25, p26;
  long p30, p31, p32, p33, p34, p35, p36, p37;

  private static final VarHandle VALUE;

  static {
    try {
      VALUE = MethodHandles.lookup().findVarHandle(PaddedLongValue.class, "value", long.class);
    } catch (ReflectiveOperationException e) {
      throw new ExceptionInInitializerError(e);
    }
  }

  public long get() {
    return value;
  }

  public long incrementAndGet() {
    return (long) VALUE.getAndAdd(this, 1L) + 1L;
  }

  public long decrementAndGet() {
    return (long) VALUE.getAndAdd(this, -1L) - 1L;
  }

  public boolean compareAndSet(long expect, long update) {
    return VALUE.compareAndSet(this, expect, update);
  }
}
