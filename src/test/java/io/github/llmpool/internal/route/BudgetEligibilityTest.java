package io.github.llmpool.internal.route;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.llmpool.Budget;
import io.github.llmpool.Price;
import io.github.llmpool.internal.health.BudgetGate;
import io.github.llmpool.internal.health.BudgetState;
import io.github.llmpool.internal.health.ProviderState;
import io.github.llmpool.spi.RandomSource;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * The pick's budget check (flat arrays, one volatile read per budget against a threshold while the
 * budget has room for any request) decides exactly as pricing each request against each budget:
 * every gate {@code state.admits(gate.estimate(prompt, maxTokens))}.
 */
class BudgetEligibilityTest {
  private static final long WALL = 1_790_000_000_000L;
  private static final Price PRICE = Price.builder("USD").input("2.50").output("10")
      .above(200_000, Price.builder("USD").input("5").output("15").build()).build();

  /** A request of these estimates, excluding nothing. */
  private static Exclusion request(long prompt, long maxTokens) {
    return new Exclusion() {
      @Override
      public boolean excludes(Slot slot) {
        return false;
      }

      @Override
      public long promptTokens() {
        return prompt;
      }

      @Override
      public long maxTokens() {
        return maxTokens;
      }
    };
  }

  private static boolean priced(BudgetGate[] gates, long prompt, long maxTokens) {
    for (BudgetGate g : gates == null ? new BudgetGate[0] : gates) {
      if (!g.state.admits(g.estimate(prompt, maxTokens))) {
        return false;
      }
    }
    return true;
  }

  @Test
  void theFlatCheckMatchesPricingEveryRequestAgainstEveryBudget() {
    SplittableRandom r = new SplittableRandom(23);
    long[] prompts = {0, 1, 500, 200_000, 200_001, BudgetGate.PROMPT_BOUND, BudgetGate.PROMPT_BOUND + 1, 1L << 40};
    long[] maxes = {-1, 0, 200, 4_096, 1L << 40};
    int checks = 0;
    for (int run = 0; run < 100; run++) {
      // a pool budget every slot shares, and some slots' own (money with tiers, tokens, unpriced money)
      BudgetState pool = new BudgetState(Budget.builder("pool").amount(r.nextBoolean() ? "1000" : "60", "USD")
          .window(Budget.Window.DAY).pool().build(), WALL);
      List<Slot> tier = new ArrayList<>();
      List<BudgetState> own = new ArrayList<>();
      for (int i = 0; i < 4; i++) {
        String name = "p" + i;
        List<BudgetGate> gates = new ArrayList<>();
        if (r.nextInt(3) != 0) {
          gates.add(new BudgetGate(pool, i == 3 ? null : PRICE));
        }
        int kind = r.nextInt(4);
        if (kind == 1) {
          BudgetState s = new BudgetState(Budget.builder(name).amount("20", "USD").window(Budget.Window.HOUR)
              .provider(name).reservationCap(1 + r.nextInt(8_192)).build(), WALL);
          own.add(s);
          gates.add(new BudgetGate(s, PRICE));
        } else if (kind == 2) {
          BudgetState s = new BudgetState(Budget.builder(name).tokens(20_000_000 + r.nextInt(1_000_000))
              .window(Budget.Window.MINUTE).provider(name).build(), WALL);
          own.add(s);
          gates.add(new BudgetGate(s, PRICE));
        }
        ProviderState st = new ProviderState(name);
        tier.add(new Slot(Slots.slot(name, 0, 1).endpoint, st, 0, 1, 0, gates.toArray(new BudgetGate[0])));
      }
      WeightedPicker picker = new WeightedPicker(tier.toArray(new Slot[0]), RandomSource.threadLocal());
      for (int step = 0; step < 30; step++) {
        for (long p : prompts) {
          for (long m : maxes) {
            Exclusion ex = request(p, m);
            for (int i = 0; i < tier.size(); i++) {
              boolean want = priced(tier.get(i).budgets, p, m);
              assertEquals(want, picker.eligible(i, 0, ex), "run " + run + " step " + step + " slot " + i
                  + " prompt " + p + " max " + m);
              assertEquals(want, picker.eligibleFactor(i, 0, ex) >= 0);
              checks++;
            }
          }
        }
        // spend toward (and past) the thresholds: big and small reservations, some settled
        BudgetState s = r.nextBoolean() || own.isEmpty() ? pool : own.get(r.nextInt(own.size()));
        long left = s.limitUnits() - s.view().spent() - s.view().reserved();
        long take = r.nextInt(4) == 0 ? Math.max(1, left / 2) : 1 + r.nextLong(Math.max(1, left / 8 + 1));
        if (s.reserve(take) && r.nextBoolean()) {
          s.settle(take, take, false);
        }
      }
    }
    assertTrue(checks > 50_000);
  }

  @Test
  void theLargestRequestThePoolReadsFitsUpToTheThresholdAndNotOneUnitBeyond() {
    long limit = 30_000_000;
    long worst = BudgetGate.PROMPT_BOUND + 1_000; // the largest prompt estimate and the cap
    for (long over : new long[] {0, 1}) {
      BudgetState s = new BudgetState(Budget.builder("a").tokens(limit).window(Budget.Window.DAY).provider("a")
          .reservationCap(1_000).build(), WALL);
      BudgetGate gate = new BudgetGate(s, null);
      assertEquals(limit - worst, gate.ampleAt());
      Slot a = new Slot(Slots.slot("a", 0, 1).endpoint, new ProviderState("a"), 0, 1, 0, new BudgetGate[] {gate});
      WeightedPicker picker = new WeightedPicker(new Slot[] {a}, RandomSource.threadLocal());
      assertTrue(s.reserve(limit - worst + over));
      assertEquals(over == 0, gate.ample());
      assertEquals(over == 0, picker.eligible(0, 0, request(BudgetGate.PROMPT_BOUND, -1)), "over by " + over);
      assertTrue(picker.eligible(0, 0, request(BudgetGate.PROMPT_BOUND - 1, -1)), "one token less still fits");
    }
  }

  @Test
  void aBudgetNearlySpentTakesOnlyWhatStillFits() {
    BudgetState s = new BudgetState(Budget.builder("a").tokens(30_000_000).window(Budget.Window.DAY).provider("a")
        .reservationCap(1_000).build(), WALL);
    BudgetGate gate = new BudgetGate(s, null);
    Slot a = new Slot(Slots.slot("a", 0, 1).endpoint, new ProviderState("a"), 0, 1, 0, new BudgetGate[] {gate});
    Slot b = Slots.slot("b", 0, 1);
    WeightedPicker picker = new WeightedPicker(new Slot[] {a, b}, RandomSource.threadLocal());
    assertTrue(picker.eligible(0, 0, request(1_000, 100)), "an empty budget: ample for any request");
    assertTrue(s.reserve(30_000_000 - 1_500));
    assertTrue(picker.eligible(0, 0, request(400, 100)), "1,500 left: 500 fit");
    assertTrue(picker.eligible(0, 0, request(500, -1)), "no max_tokens: the cap (1,000) is reserved");
    assertFalse(picker.eligible(0, 0, request(501, -1)), "1,501 does not fit");
    assertTrue(picker.eligible(1, 0, request(501, -1)), "a provider without a budget is not held back");
    for (int i = 0; i < 100; i++) {
      assertEquals(1, picker.pick(0, request(501, -1)), "only b can take it");
    }
  }
}
