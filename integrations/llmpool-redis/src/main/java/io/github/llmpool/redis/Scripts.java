package io.github.llmpool.redis;

/**
 * The Lua scripts that write shared state, each one atomic and touching only keys of one pool
 * (one hash tag, so one Redis Cluster slot). Sent with {@code EVAL} (no script cache to lose on a
 * restart or a {@code SCRIPT FLUSH}); each is a few hundred bytes and carries a whole batch.
 */
final class Scripts {
  private Scripts() {}

  /**
   * Evictions: KEYS[1] the pool's eviction hash; ARGV[1] now (epoch ms), then triples (provider
   * field, deadline, value). A field is written only when its deadline is later than the stored one
   * (an eviction in force is never shortened, whoever writes); the hash lives until a minute after
   * the latest deadline written (only ever extended).
   */
  static final String EVICTIONS = """
      local now = tonumber(ARGV[1])
      local latest = 0
      for i = 2, #ARGV, 3 do
        local d = tonumber(ARGV[i + 1])
        local old = redis.call('HGET', KEYS[1], ARGV[i])
        local od = old and tonumber(string.match(old, '^(%d+)')) or -1
        if d > od then redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 2]) end
        if d > latest then latest = d end
      end
      local want = math.max(latest - now, 0) + 60000
      if redis.call('PTTL', KEYS[1]) < want then redis.call('PEXPIRE', KEYS[1], want) end
      return 1
      """;

  /**
   * Quota windows: KEYS[1] the pool's quota hash; ARGV[1] now (epoch ms), ARGV[2] the hash's TTL
   * (ms), then quintuples (field, limit, remaining, reset, seen). The core's merge
   * ({@code RateWindow.supersedes}): while the stored reset is ahead and both have one, the later
   * reset wins; otherwise the later arrival.
   */
  static final String QUOTA = """
      local now = tonumber(ARGV[1])
      for i = 3, #ARGV, 5 do
        local reset = tonumber(ARGV[i + 3])
        local seen = tonumber(ARGV[i + 4])
        local old = redis.call('HGET', KEYS[1], ARGV[i])
        local write = true
        if old then
          local _, _, _, _, oreset, oseen = string.find(old, '^(-?%d+)|(-?%d+)|(-?%d+)|(-?%d+)$')
          oreset = tonumber(oreset) or -1
          oseen = tonumber(oseen) or -1
          if reset >= 0 and oreset >= 0 and oreset > now and reset ~= oreset then
            write = reset > oreset
          else
            write = seen >= oseen
          end
        end
        if write then
          redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1] .. '|' .. ARGV[i + 2] .. '|' .. ARGV[i + 3] .. '|' .. ARGV[i + 4])
        end
      end
      redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[2]))
      return 1
      """;

  /**
   * Affinity: KEYS[1] the pool's affinity hash (key to {@code provider|expires}), KEYS[2] its
   * expiry index (a sorted set scored by expiry); ARGV[1] now (epoch ms), then triples (key,
   * value, expires). Writes, then drops up to 1,000 expired entries; both keys live until the
   * latest expiry written.
   */
  static final String AFFINITY = """
      local now = tonumber(ARGV[1])
      local latest = now
      for i = 2, #ARGV, 3 do
        local e = tonumber(ARGV[i + 2])
        redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1])
        redis.call('ZADD', KEYS[2], e, ARGV[i])
        if e > latest then latest = e end
      end
      local old = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', now, 'LIMIT', 0, 1000)
      if #old > 0 then
        redis.call('HDEL', KEYS[1], unpack(old))
        redis.call('ZREM', KEYS[2], unpack(old))
      end
      local want = math.max(latest - now, 1000)
      for k = 1, 2 do
        if redis.call('PTTL', KEYS[k]) < want then redis.call('PEXPIRE', KEYS[k], want) end
      end
      return 1
      """;

  /**
   * Leases of fleet-wide windows for configured limits: KEYS[1] the pool's limits hash (window
   * field to its GCRA "theoretical arrival time", epoch microseconds), KEYS[2] the pool's holders
   * (a sorted set of instance ids scored by their last lease, epoch ms); ARGV[1] now (epoch ms),
   * ARGV[2] this instance's id, then sextuples (field, limit per minute, units wanted, units given
   * back, lease size, and what the provider's rate-limit headers announced as {@code remaining@epochms}
   * or {@code -}). Per window, atomically: the units given back move the arrival time back
   * (never before now); an announcement moves it forward so that the window held no more than the
   * provider said it had left at that instant (never back: the window only learns it is emptier than
   * it thought, e.g. a key that others use too, or whose bucket was not full when the fleet started);
   * then up to the units wanted are granted from what a GCRA bucket of the
   * limit (a minute's worth of burst, one unit per {@code 60 s / limit}) holds now. Returns the
   * fleet size (holders seen in the last minute), then per window: units granted, units left, and
   * milliseconds until the window holds the rest asked for (at most a lease), 0 when nothing is
   * missing. Both keys live two minutes after the last lease (a window unused for a minute is full
   * again, as a missing one reads).
   */
  static final String LEASE = """
      local nowms = tonumber(ARGV[1])
      local now = nowms * 1000
      redis.call('ZADD', KEYS[2], nowms, ARGV[2])
      redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', nowms - 60000)
      local fleet = redis.call('ZCARD', KEYS[2])
      local out = {fleet}
      local burst = 60000000
      for i = 3, #ARGV, 6 do
        local limit = tonumber(ARGV[i + 1])
        local want = tonumber(ARGV[i + 2])
        local give = tonumber(ARGV[i + 3])
        local lease = tonumber(ARGV[i + 4])
        local t = burst / limit
        local tat = tonumber(redis.call('HGET', KEYS[1], ARGV[i]) or '0') or 0
        if tat < now then tat = now end
        if give > 0 then tat = math.max(now, tat - give * t) end
        local left, at = string.match(ARGV[i + 5], '^(%d+)@(%d+)$')
        if left then
          local floor = tonumber(at) * 1000 + burst - tonumber(left) * t
          if floor > tat then tat = floor end
        end
        local room = math.floor((now + burst - tat) / t + 1e-6)
        if room < 0 then room = 0 end
        local grant = math.max(0, math.min(want, room))
        tat = tat + grant * t
        local retry = 0
        if grant < want then
          local need = math.min(want - grant, lease)
          retry = math.max(1, math.ceil((tat + need * t - now - burst) / 1000))
        end
        redis.call('HSET', KEYS[1], ARGV[i], string.format('%.0f', tat))
        out[#out + 1] = grant
        out[#out + 1] = room - grant
        out[#out + 1] = retry
      end
      redis.call('PEXPIRE', KEYS[1], 120000)
      redis.call('PEXPIRE', KEYS[2], 120000)
      return out
      """;

  /**
   * Leases of shared budgets: KEYS[k] the count of one budget in one calendar window
   * ({@code llmpool:{pool}:budget:<name>:<window start>}, a hash: {@code used}, the units granted
   * net of those given back, and {@code s:<holder>}, each pool instance's settled spend in the
   * window); ARGV per key: sextuples (the holder's id, limit, units wanted, units given back, its
   * settled total, TTL in ms). Per key, atomically: the units given back
   * leave {@code used} (never below 0), then up to the units wanted are granted from
   * {@code limit - used}; this instance's settled total is stored. Returns per key: units granted,
   * units left to lease, the fleet's settled spend (the sum of the {@code s:} fields) and the
   * fleet size (how many pool instances reported in the window). The TTL is the window's end plus a
   * minute, only ever extended: a new window is a new key, so everything starts over. Amounts stay
   * below 2^53 (checked when a budget is opened), so Lua's numbers are exact.
   */
  static final String BUDGET_LEASE = """
      local out = {}
      for k = 1, #KEYS do
        local i = 1 + (k - 1) * 6
        local mine = 's:' .. ARGV[i]
        local limit = tonumber(ARGV[i + 1])
        local want = tonumber(ARGV[i + 2])
        local give = tonumber(ARGV[i + 3])
        local used = tonumber(redis.call('HGET', KEYS[k], 'used') or '0') or 0
        used = math.max(0, used - give)
        local grant = math.max(0, math.min(want, limit - used))
        used = used + grant
        redis.call('HSET', KEYS[k], 'used', string.format('%.0f', used), mine, ARGV[i + 4])
        local all = redis.call('HGETALL', KEYS[k])
        local spent = 0
        local fleet = 0
        for j = 1, #all, 2 do
          if string.sub(all[j], 1, 2) == 's:' then
            spent = spent + (tonumber(all[j + 1]) or 0)
            fleet = fleet + 1
          end
        end
        local ttl = tonumber(ARGV[i + 5])
        if redis.call('PTTL', KEYS[k]) < ttl then redis.call('PEXPIRE', KEYS[k], ttl) end
        out[#out + 1] = grant
        out[#out + 1] = limit - used
        out[#out + 1] = spent
        out[#out + 1] = fleet
      end
      return out
      """;
}
