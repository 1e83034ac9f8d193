package io.github.llmpool.opentelemetry;

import io.github.llmpool.ProviderPool;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import okhttp3.MediaType;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import okhttp3.RequestBody;
import okhttp3.Response;

/** Chat calls through a pool, as an application makes them. */
final class Calls {
  private Calls() {}

  static final MediaType JSON = MediaType.get("application/json");

  static Request request(ProviderPool pool, String model, boolean stream) {
    String body = "{\"model\":\"" + model + "\",\"stream\":" + stream
        + ",\"messages\":[{\"role\":\"user\",\"content\":\"hello\"}]}";
    return new Request.Builder().url(pool.baseUrl().resolve("chat/completions").toString())
        .post(RequestBody.create(body, JSON)).build();
  }

  /** POSTs a chat completion; returns the status and the body read to its end. */
  static String chat(OkHttpClient client, ProviderPool pool, String model, boolean stream) throws IOException {
    try (Response r = client.newCall(request(pool, model, stream)).execute()) {
      return r.code() + " " + r.body().string();
    }
  }

  static String fixture(String name) {
    try (InputStream in = Calls.class.getResourceAsStream("/fixtures/" + name)) {
      if (in == null) {
        throw new IllegalStateException("no fixture " + name);
      }
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
