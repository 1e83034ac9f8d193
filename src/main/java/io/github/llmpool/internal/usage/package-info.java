/**
 * Streaming extraction of token usage from OpenAI-compatible response bodies.
 *
 * <p>{@link io.github.llmpool.internal.usage.UsageParser} is fed a body's bytes as they pass to the caller
 * and yields a {@link io.github.llmpool.internal.usage.UsageResult}. The package knows nothing of pools or
 * HTTP clients and depends only on {@code java.*} and Jackson core.
 */
package io.github.llmpool.internal.usage;
