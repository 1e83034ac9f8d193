package io.github.llmpool.spring.web;

import io.github.llmpool.Provider;
import io.github.llmpool.testing.FakeLlmServer;

/**
 * llmpool-testing's {@link FakeLlmServer} answering as api.openai.com does in the recorded shapes
 * these tests were written against. A class of its own because llmpool-spring-web-spring7-test
 * compiles only some of this module's test classes.
 */
final class OpenAiFakes {
  private OpenAiFakes() {}

  /**
   * A fake provider: 401 without {@code Authorization: Bearer key-NAME}; only the exact paths
   * {@code /v1/chat/completions}, {@code /v1/responses} and {@code /v1/embeddings} (so a doubled
   * {@code /v1/v1/...} gets OpenAI's 404); a chat completion "agentgateway works", 23 + 57 = 80 tokens.
   */
  static FakeLlmServer openAi(String name) {
    return FakeLlmServer.start(name).requireApiKey(true).exactPaths(true).reply("agentgateway works").usage(23, 57);
  }

  /** The recorded stream's answer from now on: "pool ok", 19 + 2 = 21 tokens in the final usage chunk. */
  static void streamAnswer(FakeLlmServer fake) {
    fake.reply("pool ok").usage(19, 2);
  }

  /** The llmpool provider of a fake: its name, base URL and key, model {@code model-NAME}. */
  static Provider provider(FakeLlmServer fake) {
    return Provider.builder(fake.name()).baseUrl(fake.baseUrl()).apiKey(fake.apiKey()).model("model-" + fake.name()).build();
  }
}
