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
   * (ms), then sextuples (field, limit, remaining, reset, seen, dated 1/0; a stored value written by
   * an older version has no dated field). The core's merge
   * ({@code RateWindow.supersedes}): while the stored reset is ahead and both have one, the later
   * reset wins; otherwise the later arrival.
   */
  static final String QUOTA = """
      local now = tonumber(ARGV[1])
      for i = 3, #ARGV, 6 do
        local reset = tonumber(ARGV[i + 3])
        local seen = tonumber(ARGV[i + 4])
        local old = redis.call('HGET', KEYS[1], ARGV[i])
        local write = true
        if old then
          local _, _, _, _, oreset, oseen = string.find(old, '^(-?%d+)|(-?%d+)|(-?%d+)|(-?%d+)')
          oreset = tonumber(oreset) or -1
          oseen = tonumber(oseen) or -1
          if reset >= 0 and oreset >= 0 and oreset > now and reset ~= oreset then
            write = reset > oreset
          else
            write = seen >= oseen
          end
        end
        if write then
          redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1] .. '|' .. ARGV[i + 2] .. '|' .. ARGV[i + 3] .. '|' .. ARGV[i + 4]
            .. '|' .. ARGV[i + 5])
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
   * net of those given back; {@code s:<holder>}, each pool instance's settled spend in the window;
   * {@code a:<holder>}, what it last said it lacks and holds spare, {@code lacking|spare|epoch ms};
   * {@code n}, the number of calls so far, which orders answers and notices; {@code g:<holder>}, units
   * given back by others and earmarked for that instance, collected by its next call).
   * ARGV[1] now (epoch ms), ARGV[2] the pool's channel, ARGV[3] how long a report of what an
   * instance lacks counts (ms), ARGV[4] the same for what it holds spare; then per key octuples
   * (the holder's id, limit, units wanted, units given back, its settled total, TTL in ms, units it
   * must have: what its waiting requests lack plus any debt, units it holds spare). Per key, atomically: the units given back leave
   * {@code used} (never below 0); then up to the units wanted are granted from
   * {@code limit - used}, only what it must have while another instance is short (units go where
   * requests wait); this instance's settled total and its report (less what the grant
   * covered) are stored. When units came back to the window, an instance is short (this one or
   * another), or this one holds more spare units than the window has left, the script publishes {@code B <holder> <key> <n> <units left> <lacking> <spare>} on
   * the channel, the last two for the whole fleet, then {@code holder:units,...} for the units given
   * back that it earmarked (first to the instances whose waiting requests lack units, charged to
   * {@code used}, collected by their next call: no other instance takes them meanwhile; the units
   * granted include those collected): every instance then knows what the window has
   * (units given back are seen at once, not at the next round) and what the others lack and hold
   * spare (holders with spare units give them back, waiting ones ask again). Returns per key: units
   * granted, units left to lease, the fleet's settled spend (the sum of the {@code s:} fields), the
   * fleet size (how many pool instances reported in the window), what the other instances lack and
   * what they hold spare (fresh reports only), and {@code n}. The TTL is the window's end plus a minute, only ever
   * extended: a new window is a new key, so everything starts over. Amounts stay below 2^53
   * (checked when a budget is opened), so Lua's numbers are exact.
   */
  static final String BUDGET_LEASE = """
      local now = tonumber(ARGV[1])
      local chan = ARGV[2]
      local wfresh = now - tonumber(ARGV[3])
      local sfresh = now - tonumber(ARGV[4])
      local out = {}
      for k = 1, #KEYS do
        local i = 5 + (k - 1) * 8
        local id = ARGV[i]
        local limit = tonumber(ARGV[i + 1])
        local want = tonumber(ARGV[i + 2])
        local give = tonumber(ARGV[i + 3])
        local must = tonumber(ARGV[i + 6])
        local spare = tonumber(ARGV[i + 7])
        local used = tonumber(redis.call('HGET', KEYS[k], 'used') or '0') or 0
        used = math.max(0, used - give)
        redis.call('HSET', KEYS[k], 's:' .. id, ARGV[i + 4])
        local all = redis.call('HGETALL', KEYS[k])
        local spent = 0
        local fleet = 0
        local wanted = 0
        local spares = 0
        local mine = 'a:' .. id
        for j = 1, #all, 2 do
          local f = all[j]
          local p = string.sub(f, 1, 2)
          if p == 's:' then
            spent = spent + (tonumber(all[j + 1]) or 0)
            fleet = fleet + 1
          elseif p == 'a:' and f ~= mine then
            local w, s, at = string.match(all[j + 1], '^(%d+)|(%d+)|(%d+)$')
            at = tonumber(at)
            if at then
              if at >= wfresh then wanted = wanted + tonumber(w) end
              if at >= sfresh then spares = spares + tonumber(s) end
            end
          end
        end
        -- Units given back go first to the instances whose waiting requests lack units (fresh reports):
        -- earmarked for them (g:<holder>, charged to used), so no other instance can take them meanwhile.
        local hand = {}
        local avail = math.min(give, limit - used)
        if avail > 0 and wanted > 0 then
          for j = 1, #all, 2 do
            local f = all[j]
            if avail > 0 and string.sub(f, 1, 2) == 'a:' and f ~= mine then
              local w, s, at = string.match(all[j + 1], '^(%d+)|(%d+)|(%d+)$')
              w = tonumber(w)
              if w and w > 0 and tonumber(at) >= wfresh then
                local h = math.min(avail, w)
                local who = string.sub(f, 3)
                redis.call('HINCRBY', KEYS[k], 'g:' .. who, string.format('%.0f', h))
                redis.call('HSET', KEYS[k], f, string.format('%.0f|%s|%s', w - h, s, at))
                used = used + h
                avail = avail - h
                wanted = wanted - h
                hand[#hand + 1] = who .. ':' .. string.format('%.0f', h)
              end
            end
          end
        end
        -- Units earmarked for this instance by others' give-backs are collected with any call.
        local mineg = tonumber(redis.call('HGET', KEYS[k], 'g:' .. id) or '0') or 0
        if mineg > 0 then redis.call('HDEL', KEYS[k], 'g:' .. id) end
        local grant = math.max(0, math.min(want, limit - used))
        if wanted > 0 then grant = math.min(grant, math.max(0, must - mineg)) end
        used = used + grant
        grant = grant + mineg
        local short = math.max(0, must - grant)
        local left = spare + math.max(0, grant - must)
        redis.call('HSET', KEYS[k], 'used', string.format('%.0f', used), mine,
          string.format('%.0f|%.0f|%.0f', short, left, now))
        local ttl = tonumber(ARGV[i + 5])
        if redis.call('PTTL', KEYS[k]) < ttl then redis.call('PEXPIRE', KEYS[k], ttl) end
        local seq = redis.call('HINCRBY', KEYS[k], 'n', 1)
        -- News for the others: units came back, someone is short, or this instance now holds spare more than
        -- the window has left (others short later must know of them at once, not at this one's next round).
        if give > 0 or wanted > 0 or short > 0 or left > limit - used then
          local msg = string.format('B %s %s %.0f %.0f %.0f %.0f', id, KEYS[k], seq, limit - used,
            wanted + short, spares + left)
          if #hand > 0 then msg = msg .. ' ' .. table.concat(hand, ',') end
          redis.call('PUBLISH', chan, msg)
        end
        out[#out + 1] = grant
        out[#out + 1] = limit - used
        out[#out + 1] = spent
        out[#out + 1] = fleet
        out[#out + 1] = wanted
        out[#out + 1] = spares
        out[#out + 1] = seq
      end
      return out
      """;
}
