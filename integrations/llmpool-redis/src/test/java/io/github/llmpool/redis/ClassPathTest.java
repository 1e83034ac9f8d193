package io.github.llmpool.redis;

import io.github.llmpool.buildchecks.ClassPathCheck;
import org.junit.jupiter.api.Test;

/**
 * The resolved class paths hold one OkHttp, one Jackson and one Kotlin runtime
 * ({@link ClassPathCheck}): Lettuce brings Netty and Reactor, no second OkHttp or Jackson (its
 * Kotlin dependencies are optional and stay out).
 */
class ClassPathTest {

  @Test
  void mainArtifactRuntimeClassPathHasOneOkHttpOneJacksonOneKotlin() {
    ClassPathCheck.runtime().oneOkHttpOneJacksonOneKotlin()
        .has("io.lettuce:lettuce-core", "Lettuce is the Redis client")
        .has("io.netty:netty-handler", "on Netty")
        .hasNo("redis.clients:jedis", "no second Redis client")
        .hasNo("com.github.codemonstur:embedded-redis", "the test server binary is test-only");
  }

  @Test
  void testClassPathStillHasOneOkHttp() {
    ClassPathCheck.test().has("com.github.codemonstur:embedded-redis", "the Redis binary for the tests")
        .hasNo("redis.clients:jedis", "embedded-redis's Jedis is excluded")
        .oneOkHttpOneJacksonOneKotlin();
  }
}
