package io.github.llmpool.bench.jmh;

import io.github.llmpool.internal.health.RetryBudget;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The pool-wide retry budget's per-request count ({@code RetryBudget.onRequest}, once per logical
 * call), on one shared budget as in a pool: run with {@code -t 1} and {@code -t 2}; on two threads
 * an unstriped counter makes both cores write one cache line. The time is a fixed value inside
 * one bucket (the clock read is not part of it).
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"-Xms1g", "-Xmx1g"})
@State(Scope.Benchmark)
public class RetryBudgetBenchmark {
  private final RetryBudget budget = new RetryBudget(0.2, 10, TimeUnit.SECONDS.toNanos(10));
  private final long now = TimeUnit.SECONDS.toNanos(1_000) + 1;

  @Benchmark
  public void onRequest() {
    budget.onRequest(now);
  }
}
