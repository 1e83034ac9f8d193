/**
 * The JSON configuration file of a pool: {@link io.github.llmpool.config.PoolConfig#read(java.nio.file.Path)}
 * reads and validates one (every error names its JSONPath and the bad value, never a secret),
 * {@link io.github.llmpool.config.PoolConfig#toPoolBuilder()} turns it into a pool builder, and
 * {@link io.github.llmpool.config.PoolConfig#applyTo(io.github.llmpool.ProviderPool)} applies it to a
 * running pool. The only package of the library that uses jackson-databind.
 */
package io.github.llmpool.config;
