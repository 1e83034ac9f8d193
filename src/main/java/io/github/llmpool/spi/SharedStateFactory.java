package io.github.llmpool.spi;

/**
 * Makes a {@link SharedState} from the configuration file's {@code "shared"} object, found with
 * {@link java.util.ServiceLoader} (register it in
 * {@code META-INF/services/io.github.llmpool.spi.SharedStateFactory}): {@code "shared": {"redis":
 * "${REDIS_URL}"}} asks the factory whose {@link #kind()} is {@code redis} for a shared state on
 * that URI. So the core names no store: {@code llmpool-redis} registers the {@code redis} factory.
 */
public interface SharedStateFactory {
  /**
   * The field of {@code "shared"} this factory serves ({@code "redis"}).
   *
   * @return the name
   */
  String kind();

  /**
   * Makes the shared state; must not block (connect in the background).
   *
   * @param value the field's value, {@code ${VAR}} references already resolved (it may hold
   *     credentials: never put it in a message)
   * @return the shared state; the caller closes it after its pools when it is {@link AutoCloseable}
   * @throws IllegalArgumentException if the value is not usable (the message must not quote it)
   */
  SharedState create(String value);
}
