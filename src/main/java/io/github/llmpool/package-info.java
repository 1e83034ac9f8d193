/**
 * llmpool's API: {@link io.github.llmpool.ProviderPool} and its builder, providers, policies,
 * listeners and the values they receive, exceptions.
 *
 * <h2>Absent values</h2>
 *
 * One convention, everywhere in this package and in {@code io.github.llmpool.config}:
 * <ul>
 *   <li>A method whose value may be absent returns {@link java.util.Optional}, never null:
 *       {@link io.github.llmpool.TokenUsage#servedModel()}, {@link
 *       io.github.llmpool.TokenUsage#requestedModel()}, {@link
 *       io.github.llmpool.TokenUsage#timeToFirstToken()}, {@link
 *       io.github.llmpool.ProviderSnapshot#evictedFor()}, {@link
 *       io.github.llmpool.PoolSnapshot#provider(String)}, {@link io.github.llmpool.Attempt#error()},
 *       {@link io.github.llmpool.Provider#model()}, {@link io.github.llmpool.ProviderPool#affinity()},
 *       {@link io.github.llmpool.Affinity#headerName()}, {@link
 *       io.github.llmpool.Affinity#keyOf(io.github.llmpool.Affinity.RequestView)}, the lookups of
 *       {@link io.github.llmpool.Affinity.RequestView} and {@link
 *       io.github.llmpool.OutcomeClassifier.ResponseInfo#header(String)}, and so on. A method that
 *       returns a plain reference never returns null.</li>
 *   <li>Counts are never absent: a count that is "none" is 0 ({@link
 *       io.github.llmpool.TokenCounts}, where a token count the provider did not send is 0, and
 *       {@link io.github.llmpool.TokenCounts#ZERO}; the counters of {@link
 *       io.github.llmpool.ProviderSnapshot}; {@link io.github.llmpool.ProviderSnapshot#ejections()}).
 *       Whether the provider reported usage at all is {@link
 *       io.github.llmpool.TokenUsage#reported()}.</li>
 *   <li>An HTTP status that does not exist, because the attempt ended with an exception before a
 *       response, is -1 ({@link io.github.llmpool.Attempt#status()}, the {@code status} of
 *       {@link io.github.llmpool.PoolEvent.Evicted} and {@link io.github.llmpool.PoolEvent.Retried},
 *       {@link io.github.llmpool.PoolEvent.Exhausted#lastStatus()}): never a valid status, and it
 *       keeps {@code status() == 429} comparisons plain.</li>
 *   <li>Arguments you pass: a builder setter of an optional value takes null for "absent", which
 *       is its default (e.g. {@link io.github.llmpool.TokenUsage.Builder#servedModel(String)}), and
 *       a callback that may have no answer returns null (the function of
 *       {@link io.github.llmpool.Affinity#key}). Every other parameter must not be null: a null
 *       throws {@link NullPointerException} naming the parameter.</li>
 * </ul>
 *
 * <h2>Values that grow</h2>
 *
 * The values the pool hands out ({@link io.github.llmpool.TokenUsage}, {@link
 * io.github.llmpool.TokenCounts}, {@link io.github.llmpool.ProviderSnapshot}, {@link
 * io.github.llmpool.PoolSnapshot}, {@link io.github.llmpool.Attempt}, the {@link
 * io.github.llmpool.PoolEvent} types) are immutable final classes with accessor methods, not
 * records, so a release can add a field without breaking code that reads them; they are built by a
 * builder (or, for events and attempts, by constructors that stay when one is added), which the
 * pool uses and tests may use. {@link io.github.llmpool.PoolEvent} is not sealed: more event types
 * may come, and code that tells them apart needs a default branch. The same holds for switches
 * over the enums that describe a state ({@link io.github.llmpool.ProviderSnapshot.Status}, {@link
 * io.github.llmpool.TokenUsage.End}, {@link io.github.llmpool.Outcome}).
 */
package io.github.llmpool;
