/**
 * The engine behind a pool: the routing snapshot and live provider states, attempts from dispatch
 * to the end of their bodies, events and usage delivery, the affinity table and the credential
 * redactor. Knows nothing of OkHttp. Not exported.
 */
package io.github.llmpool.internal.engine;
