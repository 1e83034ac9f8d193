package io.github.llmpool.spring.boot;

import io.github.llmpool.testing.FakeLlmServer;

/** llmpool-testing's {@link FakeLlmServer} answering as the recorded OpenAI shapes these tests were written against. */
final class OpenAiFakes {
  private OpenAiFakes() {}

  /** 401 without {@code Authorization: Bearer key-NAME}; a chat completion "agentgateway works", 23 + 57 = 80 tokens. */
  static FakeLlmServer openAi(String name) {
    return FakeLlmServer.start(name).requireApiKey(true).reply("agentgateway works").usage(23, 57);
  }

  /** The recorded stream's answer from now on: "pool ok", 19 + 2 = 21 tokens in the final usage chunk. */
  static void streamAnswer(FakeLlmServer fake) {
    fake.reply("pool ok").usage(19, 2);
  }
}
