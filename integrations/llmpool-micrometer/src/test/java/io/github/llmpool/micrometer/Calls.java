package io.github.llmpool.micrometer;

import io.github.llmpool.ProviderPool;
import java.io.IOException;
import okhttp3.MediaType;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import okhttp3.RequestBody;
import okhttp3.Response;

/** Real calls through a pool's interceptor, reading the whole body as a caller does. */
final class Calls {
  private Calls() {}

  static final MediaType JSON = MediaType.get("application/json");

  static String chatBody(String model, boolean stream) {
    return "{\"model\":\"" + model + "\",\"stream\":" + stream
        + ",\"messages\":[{\"role\":\"user\",\"content\":\"hello\"}]}";
  }

  /** POSTs a chat completion; returns the status and the body read to its end. */
  static Result chat(OkHttpClient client, ProviderPool pool, String model, boolean stream) throws IOException {
    Request req = new Request.Builder().url(pool.baseUrl().resolve("chat/completions").toString())
        .post(RequestBody.create(chatBody(model, stream), JSON)).build();
    try (Response r = client.newCall(req).execute()) {
      return new Result(r.code(), r.body().string());
    }
  }

  record Result(int status, String body) {}
}
