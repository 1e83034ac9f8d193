package io.github.llmpool.langchain4j;

import dev.langchain4j.exception.NonRetriableException;
import io.github.llmpool.Attempt;
import io.github.llmpool.LlmPoolException;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The pool gave up on a request after its own failover: every provider it could try answered a
 * retryable status (429, 5xx, ...) or failed before answering, within the pool's
 * {@code RetryPolicy} and retry budget. A {@link NonRetriableException}, so that LangChain4j does
 * not send the request again: its {@code RetryUtils} (the {@code maxRetries} of
 * {@code OpenAiChatModel} and the other models) retries every exception except
 * {@link NonRetriableException}, and its exception mapper keeps this one as it is (it has no
 * {@code HttpException} among its causes, which the mapper would turn into a retriable
 * {@code RateLimitException} or {@code InternalServerException}). Each LangChain4j retry would be
 * a new logical request to the pool and multiply the upstream requests.
 *
 * <p>What the caller would otherwise have seen stays visible: {@link #statusCode()},
 * {@link #body()} and {@link #headers()} of the pool's final answer (the last provider's response,
 * which the pool marks {@code x-should-retry: false}), or, when no provider answered at all, the
 * pool's own exception as the {@link #getCause() cause} ({@code AttemptsExhaustedException},
 * {@code NoProviderAvailableException}) and its {@link #attempts()}.
 *
 * <p>Only failures LangChain4j would retry become this exception. A final answer LangChain4j
 * does not retry anyway (400, 401, 403, 404, other 4xx but 408 and 429) stays LangChain4j's own
 * {@code HttpException}, mapped as usual ({@code InvalidRequestException},
 * {@code AuthenticationException}, ...).
 */
public class PoolGaveUpException extends NonRetriableException {
  private static final long serialVersionUID = 1L;

  /** Error bodies are quoted in the message up to this many characters. */
  static final int MAX_QUOTED_BODY = 2_000;

  /** The final answer's HTTP status, or -1. */
  private final int statusCode;
  /** The final answer's body, or "". */
  private final String body;
  private final transient Map<String, List<String>> headers;
  private final transient List<Attempt> attempts;

  /**
   * The pool's final answer was an HTTP error.
   *
   * @param statusCode its status
   * @param body its body ({@code ""} if none)
   * @param headers its headers
   */
  PoolGaveUpException(int statusCode, String body, Map<String, List<String>> headers) {
    super("llmpool gave up after its own failover: the last provider answered HTTP " + statusCode
        + " (x-should-retry: false; not retried by LangChain4j): " + quote(body));
    this.statusCode = statusCode;
    this.body = body == null ? "" : body;
    this.headers = Map.copyOf(headers);
    this.attempts = List.of();
  }

  /**
   * No provider answered: every attempt failed before a response, or none could take the request.
   *
   * @param cause the pool's exception
   */
  PoolGaveUpException(LlmPoolException cause) {
    super("llmpool gave up (not retried by LangChain4j): " + cause.getMessage(), cause);
    this.statusCode = -1;
    this.body = "";
    this.headers = Map.of();
    this.attempts = cause.attempts();
  }

  /**
   * The HTTP status of the pool's final answer (429, 503, ...), or {@code -1} when no provider
   * answered (see {@link #getCause()}).
   *
   * @return the status, or -1
   */
  public int statusCode() {
    return statusCode;
  }

  /**
   * The body of the pool's final answer (the provider's error, e.g. OpenAI's
   * {@code {"error":{...}}}), or {@code ""} when no provider answered.
   *
   * @return the body, never null
   */
  public String body() {
    return body;
  }

  /**
   * The headers of the pool's final answer (with {@code retry-after} and the like, if the provider
   * sent them), names as OkHttp gives them; empty when no provider answered.
   *
   * @return the headers, never null
   */
  public Map<String, List<String>> headers() {
    return headers == null ? Map.of() : headers;
  }

  /**
   * The first value of header {@code name} (case-insensitive) of the pool's final answer.
   *
   * @param name a header name
   * @return its first value, if the answer had it
   */
  public Optional<String> header(String name) {
    for (Map.Entry<String, List<String>> e : headers().entrySet()) {
      if (e.getKey().equalsIgnoreCase(name) && !e.getValue().isEmpty()) {
        return Optional.of(e.getValue().get(0));
      }
    }
    return Optional.empty();
  }

  /**
   * When no provider answered: every attempt of the logical request, in order, as the pool's
   * exception lists them; empty when the pool's final answer was an HTTP error.
   *
   * @return the attempts, never null
   */
  public List<Attempt> attempts() {
    return attempts == null ? List.of() : attempts;
  }

  private static String quote(String body) {
    if (body == null || body.isEmpty()) {
      return "(no body)";
    }
    return body.length() <= MAX_QUOTED_BODY ? body : body.substring(0, MAX_QUOTED_BODY) + "...";
  }
}
