/**
 * Per-provider live state (in flight, latency estimates, eviction, probe, counters) and the
 * health verdicts taken on it, each decided under the provider's one lock; server delays read
 * from a header lookup function; the pool-wide retry budget. Time comes from the injected ticker.
 * Knows nothing of HTTP or OkHttp. Not exported.
 */
package io.github.llmpool.internal.health;
