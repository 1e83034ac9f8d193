package io.github.llmpool.spring.boot;

import static org.assertj.core.api.Assertions.assertThat;

import io.github.llmpool.ProviderPool;
import io.github.llmpool.redis.RedisSharedState;
import io.github.llmpool.spi.SharedState;
import io.github.llmpool.spring.boot.redis.LlmPoolRedisAutoConfiguration;
import org.junit.jupiter.api.Test;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;

/**
 * {@code llmpool.shared.redis.uri} makes every pool share through a {@link RedisSharedState}
 * (built without waiting for Redis: the port here has no server, and the context still starts);
 * without it pools stay local-only. The semantics on a real Redis are llmpool-redis's tests.
 */
class LlmPoolRedisAutoConfigurationTest {
  final ApplicationContextRunner runner = new ApplicationContextRunner()
      .withConfiguration(AutoConfigurations.of(LlmPoolRedisAutoConfiguration.class, LlmPoolAutoConfiguration.class));

  @Test
  void theUriPropertyGivesEveryPoolTheRedisSharedState() {
    runner.withPropertyValues(LlmPoolAutoConfigurationTest.onePool("llmpool.shared.redis.uri=redis://u:pw-9f3e@127.0.0.1:1",
        "llmpool.shared.redis.key-prefix=app1:", "llmpool.shared.redis.resync-interval=100ms")).run(context -> {
          assertThat(context).hasNotFailed();
          RedisSharedState shared = context.getBean(RedisSharedState.class);
          assertThat(context.getBean(ProviderPool.class).sharedState()).isSameAs(shared);
          assertThat(shared.toString()).isEqualTo("RedisSharedState{redis://127.0.0.1:1, prefix=app1:}");
        });
  }

  @Test
  void withoutTheUriPoolsStayLocalOnly() {
    runner.withPropertyValues(LlmPoolAutoConfigurationTest.onePool()).run(context -> {
      assertThat(context).doesNotHaveBean(RedisSharedState.class);
      assertThat(context.getBean(ProviderPool.class).sharedState()).isSameAs(SharedState.LOCAL_ONLY);
    });
  }
}
