/**
 * Extension points of the pool for code that integrates it rather than calls it: metrics and
 * tracing ({@link io.github.llmpool.spi.AttemptListener}), state shared between instances of a
 * pool ({@link io.github.llmpool.spi.SharedState}), and the randomness test seam
 * ({@link io.github.llmpool.spi.RandomSource}).
 *
 * <p>The types here name only the API values of {@code io.github.llmpool} and JDK types, never the
 * pool's internals nor OkHttp, so an implementation (a Micrometer or OpenTelemetry binding, a
 * Redis-backed shared state) depends on nothing that may change with the engine. Their values are
 * final classes with accessors, not records, so that they can grow without breaking
 * implementations.
 */
package io.github.llmpool.spi;
