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
  void theLeaseSettingsReachTheBuilderAndAPoolsBudgetsAreSharedThroughIt() {
    runner.withPropertyValues(LlmPoolAutoConfigurationTest.onePool("llmpool.shared.redis.uri=redis://127.0.0.1:1",
        "llmpool.shared.redis.lease-share=0.5", "llmpool.shared.redis.lease-ttl=30s",
        "llmpool.shared.redis.budget-lease-share=0.25",
        "llmpool.pools.main.budgets[0].name=hourly", "llmpool.pools.main.budgets[0].tokens=1000",
        "llmpool.pools.main.budgets[0].window=hour")).run(context -> {
          assertThat(context).hasNotFailed();
          RedisSharedState shared = context.getBean(RedisSharedState.class);
          ProviderPool pool = context.getBean(ProviderPool.class);
          assertThat(pool.snapshot().budget("hourly").orElseThrow().shared()).isTrue();
          // The lease sizes the store hands out: the shares set above, of a limit of 1000.
          io.github.llmpool.Budget b = pool.budgets().get(0);
          assertThat(shared.budgets().open(io.github.llmpool.spi.SharedBudget.of("probe", b, 1000), new IdleHolder())
              .leaseSize()).isEqualTo(250);
          assertThat(shared.limits().open(io.github.llmpool.spi.SharedLimit.of("probe", "a", false,
              io.github.llmpool.spi.SharedLimit.Dimension.REQUESTS, 1000), new IdleLimitHolder()).leaseSize())
              .isEqualTo(500);
        });
    runner.withPropertyValues(LlmPoolAutoConfigurationTest.onePool("llmpool.shared.redis.uri=redis://127.0.0.1:1",
        "llmpool.shared.redis.share-budgets=false", "llmpool.shared.redis.share-limits=false",
        "llmpool.pools.main.budgets[0].name=hourly", "llmpool.pools.main.budgets[0].tokens=1000",
        "llmpool.pools.main.budgets[0].window=hour")).run(context -> {
          RedisSharedState shared = context.getBean(RedisSharedState.class);
          assertThat(shared.budgets()).isNull();
          assertThat(shared.limits()).isNull();
          assertThat(context.getBean(ProviderPool.class).snapshot().budget("hourly").orElseThrow().shared()).isFalse();
        });
  }

  @Test
  void aBadLeaseSettingFailsStartUpNamingTheProperty() {
    runner.withPropertyValues(LlmPoolAutoConfigurationTest.onePool("llmpool.shared.redis.uri=redis://127.0.0.1:1",
        "llmpool.shared.redis.lease-share=0")).run(context -> assertThat(context).getFailure().rootCause()
            .hasMessage("llmpool.shared.redis.lease-share: leaseShare must be > 0 and <= 1 but was 0.0"));
    runner.withPropertyValues(LlmPoolAutoConfigurationTest.onePool("llmpool.shared.redis.uri=redis://127.0.0.1:1",
        "llmpool.shared.redis.budget-lease-share=1.5")).run(context -> assertThat(context).getFailure().rootCause()
            .hasMessage("llmpool.shared.redis.budget-lease-share: budgetLeaseShare must be > 0 and <= 1 but was 1.5"));
    runner.withPropertyValues(LlmPoolAutoConfigurationTest.onePool("llmpool.shared.redis.uri=redis://127.0.0.1:1",
        "llmpool.shared.redis.lease-ttl=1ms")).run(context -> assertThat(context).getFailure().rootCause()
            .hasMessageStartingWith("llmpool.shared.redis.lease-ttl: leaseTtl must be between 100 ms and"));
  }

  /** A holder that holds nothing and wants nothing (only the line's lease size is read). */
  private static final class IdleHolder implements io.github.llmpool.spi.SharedBudgets.Holder {
    @Override
    public long windowStartMillis() {
      return 0;
    }

    @Override
    public long held() {
      return 0;
    }

    @Override
    public long want() {
      return 0;
    }

    @Override
    public long settled() {
      return 0;
    }

    @Override
    public void granted(io.github.llmpool.spi.SharedBudgets.Grant grant) {}

    @Override
    public long reclaim(long windowStartMillis, long keep) {
      return 0;
    }

    @Override
    public void storeDown() {}

    @Override
    public void storeUp() {}
  }

  /** As above, for a configured limit. */
  private static final class IdleLimitHolder implements io.github.llmpool.spi.SharedLimits.Holder {
    @Override
    public long held() {
      return 0;
    }

    @Override
    public void granted(io.github.llmpool.spi.SharedLimits.Grant grant) {}

    @Override
    public long reclaim(long keep) {
      return 0;
    }

    @Override
    public void storeDown() {}

    @Override
    public void storeUp() {}
  }

  @Test
  void withoutTheUriPoolsStayLocalOnly() {
    runner.withPropertyValues(LlmPoolAutoConfigurationTest.onePool()).run(context -> {
      assertThat(context).doesNotHaveBean(RedisSharedState.class);
      assertThat(context.getBean(ProviderPool.class).sharedState()).isSameAs(SharedState.LOCAL_ONLY);
    });
  }
}
