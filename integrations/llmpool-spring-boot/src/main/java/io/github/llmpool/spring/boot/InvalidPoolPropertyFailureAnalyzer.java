package io.github.llmpool.spring.boot;

import org.springframework.boot.diagnostics.AbstractFailureAnalyzer;
import org.springframework.boot.diagnostics.FailureAnalysis;

/**
 * Turns a bad {@code llmpool.*} value into Spring Boot's "APPLICATION FAILED TO START" report:
 * the description is the property and the builder's message, instead of a bean-creation stack.
 */
final class InvalidPoolPropertyFailureAnalyzer extends AbstractFailureAnalyzer<InvalidPoolPropertyException> {

  @Override
  protected FailureAnalysis analyze(Throwable rootFailure, InvalidPoolPropertyException cause) {
    return new FailureAnalysis("Invalid llmpool configuration: " + cause.getMessage(),
        "Correct the property named above (application.properties/yaml, environment variables or another "
            + "property source). The llmpool.pools.<name>.* keys are those of llmpool's configuration file.",
        cause);
  }
}
