package io.github.llmpool.spring.boot;

import static org.assertj.core.api.Assertions.assertThat;

import io.github.llmpool.Budget;
import io.github.llmpool.BudgetExhaustedException;
import io.github.llmpool.ProviderPool;
import io.github.llmpool.testing.FakeLlmServer;
import java.time.ZoneId;
import java.util.List;
import okhttp3.MediaType;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import okhttp3.RequestBody;
import okhttp3.Response;
import org.junit.jupiter.api.Test;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;

/**
 * {@code llmpool.pools.<name>.budgets[i].*}: the configuration file's {@code "budgets"} entries
 * bound onto {@code Budget.Builder} (and enforced: a pool-wide token budget refuses a real call on
 * loopback once spent), and bad values failing start-up with the builder's message behind the
 * property's name.
 */
class LlmPoolBudgetPropertiesTest {
  final ApplicationContextRunner runner = new ApplicationContextRunner()
      .withConfiguration(AutoConfigurations.of(LlmPoolAutoConfiguration.class));

  private static String[] onePool(String... extra) {
    return LlmPoolAutoConfigurationTest.onePool(extra);
  }

  @Test
  void budgetsBindOntoTheBuilderWithTheConfigFilesFields() {
    runner.withPropertyValues(onePool(
        "llmpool.pools.main.providers[0].price.currency=USD",
        "llmpool.pools.main.providers[0].price.input=2.50",
        "llmpool.pools.main.providers[0].price.output=10",
        "llmpool.pools.main.budgets[0].name=daily",
        "llmpool.pools.main.budgets[0].amount=20.00",
        "llmpool.pools.main.budgets[0].currency=USD",
        "llmpool.pools.main.budgets[0].window=day",
        "llmpool.pools.main.budgets[0].zone=Europe/Berlin",
        "llmpool.pools.main.budgets[0].provider=a",
        "llmpool.pools.main.budgets[0].reservation-cap=512",
        "llmpool.pools.main.budgets[1].name=monthly",
        "llmpool.pools.main.budgets[1].tokens=50000000",
        "llmpool.pools.main.budgets[1].window=MONTH")).run(context -> {
          assertThat(context).hasNotFailed();
          ProviderPool pool = context.getBean(ProviderPool.class);
          assertThat(pool.budgets()).containsExactly(
              Budget.builder("daily").amount("20.00", "USD").window(Budget.Window.DAY).zone(ZoneId.of("Europe/Berlin"))
                  .provider("a").reservationCap(512).build(),
              Budget.builder("monthly").tokens(50_000_000).window(Budget.Window.MONTH).build());
          assertThat(pool.snapshot().budget("daily").orElseThrow().shared()).isFalse();
        });
  }

  @Test
  void aPoolWideTokenBudgetFromPropertiesRefusesOnceSpent() throws Exception {
    try (FakeLlmServer a = FakeLlmServer.start("a").usage(40, 10)) {
      runner.withPropertyValues(
          "llmpool.pools.main.providers[0].name=a",
          "llmpool.pools.main.providers[0].base-url=" + a.baseUrl(),
          "llmpool.pools.main.providers[0].api-key=" + a.apiKey(),
          "llmpool.pools.main.budgets[0].name=hourly",
          "llmpool.pools.main.budgets[0].tokens=100",
          "llmpool.pools.main.budgets[0].window=hour",
          "llmpool.pools.main.budgets[0].reservation-cap=10").run(context -> {
            ProviderPool pool = context.getBean(ProviderPool.class);
            OkHttpClient http = context.getBean(OkHttpClient.class);
            int ok = 0;
            BudgetExhaustedException refused = null;
            for (int i = 0; i < 5 && refused == null; i++) {
              try (Response r = http.newCall(new Request.Builder().url(pool.baseUrl().resolve("chat/completions").toString())
                  .post(RequestBody.create("{\"model\":\"m\",\"messages\":[]}", MediaType.get("application/json")))
                  .build()).execute()) {
                r.body().string();
                ok++;
              } catch (BudgetExhaustedException e) {
                refused = e;
              }
            }
            assertThat(ok).isEqualTo(2); // 50 tokens each: the 100 are spent
            assertThat(refused).isNotNull();
            assertThat(refused.budget().name()).isEqualTo("hourly");
            assertThat(a.requestCount()).isEqualTo(2);
          });
    }
  }

  @Test
  void aBadBudgetValueFailsStartUpNamingTheProperty() {
    List.of(
        List.of("llmpool.pools.main.budgets[0].name=x", "llmpool.pools.main.budgets[0].amount=-1",
            "llmpool.pools.main.budgets[0].currency=USD", "llmpool.pools.main.budgets[0].window=day",
            "llmpool.pools.main.budgets[0].amount: budget.amount must be > 0 but was -1"),
        List.of("llmpool.pools.main.budgets[0].name=x", "llmpool.pools.main.budgets[0].tokens=5",
            "llmpool.pools.main.budgets[0].window=day", "llmpool.pools.main.budgets[0].zone=Mars/Olympus",
            "llmpool.pools.main.budgets[0].zone must be a time zone id such as UTC or Europe/Berlin but was 'Mars/Olympus'"),
        List.of("llmpool.pools.main.budgets[0].name=x", "llmpool.pools.main.budgets[0].tokens=5",
            "llmpool.pools.main.budgets[0].amount=5", "llmpool.pools.main.budgets[0].window=day",
            "llmpool.pools.main.budgets[0]: set exactly one of amount (with currency) or tokens (budget 'x')"),
        List.of("llmpool.pools.main.budgets[0].name=x", "llmpool.pools.main.budgets[0].tokens=5",
            "llmpool.pools.main.budgets[0].window=day", "llmpool.pools.main.budgets[0].reservation-cap=-2",
            "llmpool.pools.main.budgets[0].reservation-cap: budget.reservationCap must be in [0, 1099511627776] but was -2"),
        List.of("llmpool.pools.main.budgets[0].name=x", "llmpool.pools.main.budgets[0].tokens=5",
            "llmpool.pools.main.budgets[0].window is required: one of minute, hour, day, month (budget 'x')"),
        List.of("llmpool.pools.main.budgets[0].name=x", "llmpool.pools.main.budgets[0].tokens=5",
            "llmpool.pools.main.budgets[0].currency=USD", "llmpool.pools.main.budgets[0].window=day",
            "llmpool.pools.main.budgets[0].currency must not be set for a token budget (budget 'x')"),
        List.of("llmpool.pools.main.budgets[0].name=bad name", "llmpool.pools.main.budgets[0].tokens=5",
            "llmpool.pools.main.budgets[0].window=day",
            "llmpool.pools.main.budgets[0].name: budget.name must be 1 to 64 letters, digits, '.', '_' or '-',"
                + " starting with a letter or digit, but was 'bad name'"))
        .forEach(c -> runner.withPropertyValues(onePool(c.subList(0, c.size() - 1).toArray(String[]::new)))
            .run(context -> assertThat(context).getFailure().rootCause().hasMessage(c.get(c.size() - 1))));
    runner.withPropertyValues(onePool("llmpool.pools.main.budgets[0].name=x", "llmpool.pools.main.budgets[0].tokens=5",
        "llmpool.pools.main.budgets[0].window=day", "llmpool.pools.main.budgets[0].provider=zz")).run(context ->
        assertThat(context).getFailure().rootCause().hasMessageStartingWith("llmpool.pools.main: budget.provider")
            .hasMessageContaining("'zz'"));
  }
}
