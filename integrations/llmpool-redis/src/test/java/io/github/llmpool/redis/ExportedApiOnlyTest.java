package io.github.llmpool.redis;

import io.github.llmpool.buildchecks.ExportedApiCheck;
import org.junit.jupiter.api.Test;

/** The integration uses only the core's exported API ({@link ExportedApiCheck}). */
class ExportedApiOnlyTest {

  @Test
  void mainClassesReferToNoInternalPackageOfTheCore() {
    ExportedApiCheck.mainClasses().referToNoInternalPackage().referTo("io.github.llmpool.spi.SharedState");
  }
}
