package io.github.llmpool.micrometer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.llmpool.ProviderPool;
import io.github.llmpool.testing.FakeLlmServer;
import io.github.llmpool.testing.WireFixtures;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.IOException;
import java.util.List;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/** The exposition text a Prometheus server reads, after a success, a stream and a 429 failover. */
class PrometheusScrapeTest {

  @Test
  void scrapeHasTheConventionalNamesBucketsAndLabels() throws IOException {
    PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    try (FakeLlmServer limited = FakeLlmServer.start("limited")
            .answerWith(r -> WireFixtures.response("openai-429-rate-limit.http").build());
        FakeLlmServer a = FakeLlmServer.start("a").answerWith(r -> WireFixtures.response("openai-chat.json").build());
        FakeLlmServer s = FakeLlmServer.start("s")
            .answerWith(r -> WireFixtures.response("openai-chat-stream-usage.sse").build())) {
      LlmPoolMetrics metrics = LlmPoolMetrics.builder(registry).build();
      ProviderPool chat = metrics.build(ProviderPool.builder().name("chat")
          .tier(limited.provider().model("gpt-4o-mini").build()).tier(a.provider().model("gpt-4o-mini").build()));
      ProviderPool stream = metrics.build(ProviderPool.builder().name("stream")
          .tier(s.provider().model("gpt-4o-mini").build()));
      assertEquals(200, Calls.chat(chat.newHttpClient(), chat, "gpt-4o-mini", false).status());
      assertEquals(200, Calls.chat(stream.newHttpClient(), stream, "gpt-4o-mini", true).status());

      String text = registry.scrape();
      List<String> lines = text.lines().collect(Collectors.toList());
      String ga = "gen_ai_operation_name=\"chat\",gen_ai_provider_name=\"openai\",gen_ai_request_model=\"gpt-4o-mini\","
          + "gen_ai_response_model=\"gpt-4o-mini-2024-07-18\"";
      String atA = "server_address=\"127.0.0.1\",server_port=\"" + a.port() + "\"";
      String atS = "server_address=\"127.0.0.1\",server_port=\"" + s.port() + "\"";

      // gen_ai.client.operation.duration: a histogram in seconds with the conventions' boundaries.
      assertTrue(lines.contains("# TYPE gen_ai_client_operation_duration_seconds histogram"), text);
      List<String> le = lines.stream()
          .filter(l -> l.startsWith("gen_ai_client_operation_duration_seconds_bucket{error_type=\"none\"," + ga + "," + atA))
          .map(l -> l.substring(l.indexOf("le=\"") + 4, l.indexOf("\"}"))).toList();
      assertEquals(List.of("0.01", "0.02", "0.04", "0.08", "0.16", "0.32", "0.64", "1.28", "2.56", "5.12", "10.24",
          "20.48", "40.96", "81.92", "+Inf"), le);
      assertTrue(lines.contains("gen_ai_client_operation_duration_seconds_count{error_type=\"none\"," + ga + "," + atA
          + "} 1"), text);
      assertTrue(lines.contains("gen_ai_client_operation_time_to_first_chunk_seconds_count{" + ga + "," + atS + "} 1"),
          text);
      assertTrue(lines.contains("gen_ai_client_operation_time_per_output_chunk_seconds_count{" + ga + "," + atS + "} 1"),
          text);
      // The request rate-limited on tier 0 is one operation, served on tier 1: nothing on the limited provider's port.
      assertTrue(lines.stream().noneMatch(l -> l.startsWith("gen_ai_") && l.contains("server_port=\"" + limited.port())),
          text);

      // gen_ai.client.token.usage: a histogram of tokens with the conventions' boundaries.
      assertTrue(lines.contains("# TYPE gen_ai_client_token_usage histogram"), text);
      String in = "gen_ai_client_token_usage_bucket{" + ga + ",gen_ai_token_type=\"input\"," + atA;
      assertTrue(lines.contains(in + ",le=\"16.0\"} 0"), text);
      assertTrue(lines.contains(in + ",le=\"64.0\"} 1"), text); // 23 input tokens
      assertTrue(lines.contains(in + ",le=\"6.7108864E7\"} 1"), text);
      assertEquals(15, lines.stream().filter(l -> l.startsWith(in)).count(), "14 boundaries and +Inf");
      assertTrue(lines.contains("gen_ai_client_token_usage_sum{" + ga + ",gen_ai_token_type=\"output\"," + atA
          + "} 57.0"), text);

      // The router's own metrics.
      assertTrue(lines.contains("# TYPE llmpool_attempts_total counter"), text);
      assertTrue(lines.contains("llmpool_attempts_total{outcome=\"rate_limited\",pool=\"chat\",provider=\"limited\","
          + "tier=\"0\"} 1.0"), text);
      assertTrue(lines.contains("llmpool_attempts_total{outcome=\"success\",pool=\"chat\",provider=\"a\",tier=\"1\"} 1.0"),
          text);
      assertTrue(lines.contains("llmpool_failovers_total{pool=\"chat\",provider=\"a\",scope=\"other_tier\"} 1.0"), text);
      assertTrue(lines.contains("llmpool_evictions_total{cause=\"rate_limited\",pool=\"chat\",provider=\"limited\"} 1.0"),
          text);
      assertTrue(lines.contains("llmpool_retries_total{cause=\"rate_limited\",pool=\"chat\",provider=\"limited\"} 1.0"),
          text);
      assertTrue(lines.contains("llmpool_provider_state{pool=\"chat\",provider=\"limited\",state=\"evicted\"} 1.0"), text);
      assertTrue(lines.contains("llmpool_provider_state{pool=\"chat\",provider=\"a\",state=\"available\"} 1.0"), text);
      assertTrue(lines.contains("llmpool_in_flight{pool=\"chat\"} 0.0"), text);
      assertTrue(lines.contains("# TYPE llmpool_provider_latency_estimate_seconds gauge"), text);
      assertTrue(lines.contains("llmpool_tokens_total{model=\"gpt-4o-mini\",pool=\"chat\",provider=\"a\",type=\"cached\"} 12.0"),
          text);
      assertTrue(lines.contains("llmpool_tokens_total{model=\"gpt-4o-mini\",pool=\"chat\",provider=\"a\","
          + "type=\"reasoning\"} 40.0"), text);
      assertTrue(lines.contains("llmpool_requests_total{model=\"gpt-4o-mini\",outcome=\"success\",pool=\"stream\"} 1.0"),
          text);
      assertTrue(lines.contains("llmpool_retry_budget_refusals_total{pool=\"chat\"} 0.0"), text);
      assertTrue(lines.stream().noneMatch(l -> l.contains(limited.apiKey()) || l.contains(a.apiKey()) || l.contains(s.apiKey())),
          "no key in the exposition");
    }
  }
}
