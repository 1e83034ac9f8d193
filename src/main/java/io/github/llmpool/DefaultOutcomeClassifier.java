package io.github.llmpool;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.net.SocketTimeoutException;
import java.util.Locale;
import java.util.Set;

/** The documented default classification; stateless and thread-safe. */
enum DefaultOutcomeClassifier implements OutcomeClassifier {
  INSTANCE;

  /** Error codes/types that mean the quota or spend limit is gone, not a momentary rate limit. */
  static final Set<String> QUOTA_CODES = Set.of(
      "insufficient_quota", "quota_exceeded", "billing_hard_limit_reached", "billing_not_active",
      "spend_limit_exceeded", "budget_exceeded", "credit_balance_too_low", "insufficient_balance");

  private static final JsonFactory JSON = new JsonFactory();

  @Override
  public Outcome classify(int status, ResponseInfo response) {
    if (status >= 200 && status < 300) {
      return Outcome.SUCCESS;
    }
    if (status == 429) {
      return isQuotaExhausted(response.errorBody()) ? Outcome.QUOTA_EXHAUSTED : Outcome.RATE_LIMITED;
    }
    if ((status == 401 || status == 403) && response.signedByPool()) {
      return Outcome.UNAUTHORIZED;
    }
    if (status == 408 || status >= 500) {
      return Outcome.SERVER_ERROR;
    }
    if (status >= 400) {
      return Outcome.CLIENT_ERROR;
    }
    // 1xx/3xx reaching an application interceptor: OkHttp already followed what it could.
    return Outcome.CLIENT_ERROR;
  }

  @Override
  public Outcome classify(IOException failure) {
    if (failure instanceof SocketTimeoutException || failure instanceof InterruptedIOException
        && String.valueOf(failure.getMessage()).toLowerCase(Locale.ROOT).contains("timeout")) {
      return Outcome.TIMEOUT;
    }
    return Outcome.CONNECTION_FAILURE;
  }

  /**
   * Looks for an error {@code code} or {@code type} in {@link #QUOTA_CODES} anywhere in the first
   * KiBs of the body, tolerant of object and array bodies (Gemini wraps its error in an array).
   */
  static boolean isQuotaExhausted(String body) {
    if (body == null || body.isEmpty()) {
      return false;
    }
    try (JsonParser p = JSON.createParser(body)) {
      JsonToken t;
      while ((t = p.nextToken()) != null) {
        if (t == JsonToken.FIELD_NAME) {
          String name = p.currentName();
          if ("code".equals(name) || "type".equals(name) || "status".equals(name)) {
            if (p.nextToken() == JsonToken.VALUE_STRING
                && QUOTA_CODES.contains(p.getText().toLowerCase(Locale.ROOT))) {
              return true;
            }
          }
        }
      }
    } catch (IOException | RuntimeException malformedOrTruncated) {
      // A bounded prefix may cut the JSON; what was read so far decided.
    }
    return false;
  }
}
