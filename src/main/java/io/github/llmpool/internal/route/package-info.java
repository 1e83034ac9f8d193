/**
 * Selection: priority tiers and the weighted, round-robin and power-of-two-choices pickers over an
 * immutable snapshot of slots. Lock-free and allocation-free on the pick path; knows nothing of
 * HTTP (what a request already tried arrives as an {@link io.github.llmpool.internal.route.Exclusion}).
 * Not exported.
 */
package io.github.llmpool.internal.route;
