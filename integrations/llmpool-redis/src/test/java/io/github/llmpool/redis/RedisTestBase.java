package io.github.llmpool.redis;

import io.lettuce.core.RedisClient;
import io.lettuce.core.api.StatefulRedisConnection;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

/**
 * One real Redis per test class (started by {@link RedisServerProcess} on a free loopback port,
 * persistence off) and a raw Lettuce connection to it, for the test to look at (or flush) the keys
 * the pools write. Tests that start several pools extend it.
 */
abstract class RedisTestBase {
  static RedisServerProcess redis;
  static RedisClient raw;
  static StatefulRedisConnection<String, String> rawConn;

  @BeforeAll
  static void startRedis() {
    redis = RedisServerProcess.start();
    raw = RedisClient.create(redis.uri());
    rawConn = raw.connect();
  }

  @AfterAll
  static void stopRedis() {
    rawConn.close();
    raw.shutdown();
    redis.close();
  }
}
