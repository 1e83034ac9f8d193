package io.github.llmpool.reliability;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.github.llmpool.FakeTicker;
import io.github.llmpool.Fixtures;
import io.github.llmpool.Provider;
import io.github.llmpool.ProviderPool;
import io.github.llmpool.ProviderSnapshot;
import io.github.llmpool.TokenUsage;
import io.github.llmpool.TruncatedStreamException;
import io.github.llmpool.Upstreams;
import io.github.llmpool.internal.usage.UsageParser;
import io.github.llmpool.internal.usage.UsageResult;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.stream.Stream;
import mockwebserver3.MockResponse;
import mockwebserver3.MockWebServer;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import okhttp3.RequestBody;
import okhttp3.Response;
import okio.Buffer;
import okio.BufferedSource;
import org.junit.jupiter.api.Test;

/**
 * Mutation fuzzing of the response-body tap, end to end: every fixture in
 * {@code src/test/resources/fixtures} ({@code *.json}, {@code *.sse}, and the bodies of
 * {@code *.http}, served with their own status and headers) is mutated (bit flips, truncation,
 * deleted or duplicated slices, numbers made huge, negative or fractional, deep nesting, invalid
 * UTF-8, random bytes, CR or CRLF line ends, or several of these), served by a loopback server with
 * a random framing (Content-Length, or chunked with random chunk sizes, which sets the split points
 * the tap sees), routed through a real pool and OkHttp, and read by the caller in random chunk
 * sizes; one case in ten closes the body early. Invariants, for every case:
 * <ul>
 *   <li>nothing escapes to the caller but {@link TruncatedStreamException}, exactly when a stream
 *       lost its terminal event and the pool fails truncated streams (a second pool on the same
 *       client does not: it never throws);
 *   <li>the bytes read are the bytes served;
 *   <li>exactly one usage record, for the status served, and in-flight back to 0;
 *   <li>the record is what {@link UsageParser} makes of the same bytes in one piece (reported,
 *       every count, served model, streamed, error flag; {@code TRUNCATED} exactly when a stream
 *       lost its terminal event, else {@code COMPLETE}): how the bytes were split changes nothing;
 *   <li>against the fixture: a mutation that left the usage object's bytes alone yields the
 *       fixture's usage exactly or none at all (damage before it may hide it, never change it); a
 *       mutation that only changed line ends yields the fixture's result exactly; one that replaced
 *       a number inside the usage object yields, per count, the fixture's value or the new number
 *       (when it is a valid count); any other damage inside it may give any counts, but none
 *       negative; an early close reports the fixture's usage or none, and ends
 *       {@code CLOSED_EARLY} or, if the terminal event had been read, {@code COMPLETE};
 *   <li>at the end, per pool: requests = successes + failures + client errors, tokens in the
 *       snapshot = tokens in the records.
 * </ul>
 * Seeded and reproducible: {@code -Dfuzz.seed=N} (printed), {@code -Dfuzz.cases=N} (default
 * {@value #DEFAULT_CASES}), {@code -Dfuzz.only=K} to rerun case K alone.
 */
class TapFuzzTest {
  static final int DEFAULT_CASES = 8000;
  /** Fixed by default so that CI runs the same cases every time; pass another to explore. */
  private static final long SEED = Long.getLong("fuzz.seed", 8_675_309L);
  private static final int CASES = Integer.getInteger("fuzz.cases", DEFAULT_CASES);
  private static final int ONLY = Integer.getInteger("fuzz.only", -1);
  private static final int MAX_FAILURES = 10;

  private static final byte[][] INVALID_UTF8 = {
      {(byte) 0xFF}, {(byte) 0x80}, {(byte) 0xC3}, {(byte) 0xC3, (byte) 0x28}, {(byte) 0xE2, (byte) 0x82},
      {(byte) 0xED, (byte) 0xA0, (byte) 0x80}, {(byte) 0xF0, (byte) 0x9F, (byte) 0x98}, {(byte) 0xC0, (byte) 0xAF},
      {(byte) 0xF4, (byte) 0x90, (byte) 0x80, (byte) 0x80}, {(byte) 0xFE, (byte) 0xFF}};

  /** A fixture as served: status, headers, body, its unmutated usage and its usage object's byte span. */
  record Base(String name, int status, List<String[]> headers, String contentType, byte[] body, UsageResult original,
      int spanStart, int spanEnd) {}

  /**
   * A mutated body. {@code touched}: bytes of the usage span changed (or the cut fell inside it);
   * {@code equivalent}: only line ends changed; {@code number}: the replacement number when a digit
   * run inside the usage span was replaced.
   */
  record Mutant(byte[] bytes, boolean touched, boolean equivalent, String number, String what) {}

  // ------------------------------------------------------------------ fixtures

  static List<Base> bases() {
    List<Base> out = new ArrayList<>();
    for (String name : fixtureNames()) {
      if (name.endsWith(".json")) {
        out.add(base(name, 200, List.of(), "application/json", Fixtures.bytes(name)));
      } else if (name.endsWith(".sse")) {
        out.add(base(name, 200, List.of(), "text/event-stream", Fixtures.bytes(name)));
      } else if (name.endsWith(".http")) {
        MockResponse r = Fixtures.http(name);
        List<String[]> headers = new ArrayList<>();
        String ct = null;
        for (int i = 0; i < r.getHeaders().size(); i++) {
          String hn = r.getHeaders().name(i);
          String hv = r.getHeaders().value(i);
          if (hn.equalsIgnoreCase("content-length")) {
            continue;
          }
          headers.add(new String[] {hn, hv});
          if (hn.equalsIgnoreCase("content-type")) {
            ct = hv;
          }
        }
        Buffer b = new Buffer();
        try {
          r.getBody().writeTo(b);
        } catch (IOException e) {
          throw new UncheckedIOException(e);
        }
        out.add(base(name, r.getCode(), headers, ct, b.readByteArray()));
      }
    }
    return out;
  }

  private static List<String> fixtureNames() {
    try (Stream<Path> files = Files.list(Path.of(Fixtures.class.getResource("/fixtures").toURI()))) {
      List<String> names = files.map(p -> p.getFileName().toString())
          .filter(n -> n.endsWith(".json") || n.endsWith(".sse") || n.endsWith(".http")).sorted().toList();
      assertTrue(names.size() >= 14, "fixtures: " + names);
      return names;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (URISyntaxException e) {
      throw new IllegalStateException(e);
    }
  }

  private static Base base(String name, int status, List<String[]> headers, String ct, byte[] body) {
    UsageResult original = oracle(ct, body);
    int s = lastIndexOf(body, "\"usage\":{".getBytes(StandardCharsets.US_ASCII));
    int e = -1;
    if (s >= 0) {
      int depth = 0;
      for (int i = s + 8; i < body.length; i++) {
        if (body[i] == '{') {
          depth++;
        } else if (body[i] == '}' && --depth == 0) {
          e = i + 1;
          break;
        }
      }
      assertTrue(original.reported(), name + " has a usage object the parser does not report");
    }
    return new Base(name, status, headers, ct, body, original, s, e);
  }

  /** What the usage parser makes of {@code bytes} in one piece. */
  static UsageResult oracle(String contentType, byte[] bytes) {
    UsageParser p = UsageParser.forContentType(contentType);
    p.accept(bytes, 0, bytes.length);
    return p.result();
  }

  // ------------------------------------------------------------------ mutations

  static Mutant mutate(Base b, Random r) {
    int kinds = r.nextInt(10) == 0 ? 2 + r.nextInt(2) : 1; // sometimes several at once
    byte[] bytes = b.body();
    boolean touched = false;
    boolean equivalent = true;
    String number = null;
    List<String> what = new ArrayList<>();
    int s = b.spanStart();
    int e = b.spanEnd();
    for (int k = 0; k < kinds; k++) {
      Mutant m = mutateOnce(bytes, s, e, b.contentType(), r);
      // Later mutations work on shifted bytes: judge the span conservatively after the first.
      touched |= m.touched() || (k > 0 && s >= 0 && !m.equivalent());
      equivalent &= m.equivalent();
      number = kinds == 1 ? m.number() : null;
      what.add(m.what());
      bytes = m.bytes();
    }
    return new Mutant(bytes, touched, equivalent, number, String.join(" + ", what));
  }

  private static Mutant mutateOnce(byte[] in, int s, int e, String ct, Random r) {
    int n = in.length;
    if (n == 0) {
      return new Mutant(in, false, true, null, "empty");
    }
    switch (r.nextInt(12)) {
      case 0 -> {
        return new Mutant(in, false, true, null, "unchanged");
      }
      case 1 -> {
        byte[] out = in.clone();
        int flips = 1 + r.nextInt(8);
        boolean t = false;
        StringBuilder at = new StringBuilder();
        for (int i = 0; i < flips; i++) {
          int p = r.nextInt(n);
          out[p] ^= (byte) (1 << r.nextInt(8));
          t |= hits(s, e, p, p + 1);
          at.append(' ').append(p);
        }
        return new Mutant(out, t, false, null, flips + " bit flips at" + at);
      }
      case 2 -> {
        int p = r.nextInt(n);
        return new Mutant(Arrays.copyOf(in, p), s >= 0 && p < e, false, null, "truncated at " + p);
      }
      case 3 -> {
        int p = r.nextInt(n);
        int len = Math.min(n - p, 1 + r.nextInt(r.nextBoolean() ? 8 : 200));
        return new Mutant(delete(in, p, len), hits(s, e, p, p + len), false, null, "deleted " + len + " at " + p);
      }
      case 4 -> {
        int a = r.nextInt(n);
        int len = Math.min(n - a, 1 + r.nextInt(300));
        int p = r.nextInt(n + 1);
        boolean t = hits(s, e, a, a + len) || inside(s, e, p);
        return new Mutant(insert(in, p, Arrays.copyOfRange(in, a, a + len)), t, false, null,
            "slice " + a + "+" + len + " duplicated at " + p);
      }
      case 5 -> {
        List<int[]> runs = digitRuns(in);
        if (runs.isEmpty()) {
          return new Mutant(in, false, true, null, "no number");
        }
        // Prefer the usage object's numbers.
        List<int[]> inUsage = runs.stream().filter(x -> s >= 0 && x[0] >= s && x[1] <= e).toList();
        int[] run = !inUsage.isEmpty() && r.nextInt(4) != 0 ? inUsage.get(r.nextInt(inUsage.size()))
            : runs.get(r.nextInt(runs.size()));
        String[] forms = {"9".repeat(19 + r.nextInt(30)), "1" + "0".repeat(1000 + r.nextInt(200)),
            "9223372036854775807", "9223372036854775808", "-" + (1 + r.nextInt(99)), "1.5", "1e3", "-0", "0",
            "00012", String.valueOf(r.nextInt(1_000_000)), "123456789012"};
        String num = forms[r.nextInt(forms.length)];
        boolean t = hits(s, e, run[0], run[1]);
        return new Mutant(replace(in, run[0], run[1] - run[0], num.getBytes(StandardCharsets.US_ASCII)), t, false,
            t ? num : null, "number at " + run[0] + " -> " + (num.length() > 30 ? num.length() + " digits" : num));
      }
      case 6 -> {
        int p = r.nextInt(n + 1);
        String unit = r.nextBoolean() ? "[" : "{\"a\":";
        int depth = 60 + r.nextInt(3000);
        return new Mutant(insert(in, p, unit.repeat(depth).getBytes(StandardCharsets.US_ASCII)), inside(s, e, p),
            false, null, "nesting " + unit + " x" + depth + " at " + p);
      }
      case 7 -> {
        int p = r.nextInt(n + 1);
        byte[] ins = INVALID_UTF8[r.nextInt(INVALID_UTF8.length)];
        return new Mutant(insert(in, p, ins), inside(s, e, p), false, null,
            "invalid UTF-8 " + Arrays.toString(ins) + " at " + p);
      }
      case 8 -> {
        int p = r.nextInt(n + 1);
        byte[] ins = new byte[1 + r.nextInt(16)];
        r.nextBytes(ins);
        return new Mutant(insert(in, p, ins), inside(s, e, p), false, null, ins.length + " random bytes at " + p);
      }
      case 9 -> {
        int p = r.nextInt(n);
        byte[] out = in.clone();
        byte[] structural = {'{', '}', '[', ']', ':', ',', '"', '\\', '\n', '\r', ' ', '-', '0', 0};
        out[p] = structural[r.nextInt(structural.length)];
        return new Mutant(out, hits(s, e, p, p + 1) && out[p] != in[p], false, null,
            "byte " + (out[p] & 0xff) + " at " + p);
      }
      case 10 -> {
        if (ct == null || !ct.startsWith("text/event-stream")) {
          return new Mutant(in, false, true, null, "unchanged");
        }
        String ends = r.nextBoolean() ? "\r\n" : "\r";
        String text = new String(in, StandardCharsets.ISO_8859_1).replace("\n", ends);
        return new Mutant(text.getBytes(StandardCharsets.ISO_8859_1), false, true, null,
            "line ends " + (ends.length() == 2 ? "CRLF" : "CR")); // the usage span is unchanged in content
      }
      default -> {
        int p = r.nextInt(n);
        int keep = r.nextInt(p + 1);
        return new Mutant(Arrays.copyOf(in, keep), s >= 0 && keep < e, false, null, "truncated at " + keep);
      }
    }
  }

  private static boolean hits(int s, int e, int from, int to) {
    return s >= 0 && from < e && to > s;
  }

  private static boolean inside(int s, int e, int p) {
    return s >= 0 && p > s && p < e;
  }

  private static byte[] insert(byte[] in, int p, byte[] ins) {
    byte[] out = new byte[in.length + ins.length];
    System.arraycopy(in, 0, out, 0, p);
    System.arraycopy(ins, 0, out, p, ins.length);
    System.arraycopy(in, p, out, p + ins.length, in.length - p);
    return out;
  }

  private static byte[] delete(byte[] in, int p, int len) {
    byte[] out = new byte[in.length - len];
    System.arraycopy(in, 0, out, 0, p);
    System.arraycopy(in, p + len, out, p, in.length - p - len);
    return out;
  }

  private static byte[] replace(byte[] in, int p, int len, byte[] with) {
    return insert(delete(in, p, len), p, with);
  }

  private static List<int[]> digitRuns(byte[] in) {
    List<int[]> runs = new ArrayList<>();
    for (int i = 0; i < in.length; i++) {
      if (in[i] >= '0' && in[i] <= '9') {
        int j = i;
        while (j < in.length && in[j] >= '0' && in[j] <= '9') {
          j++;
        }
        runs.add(new int[] {i, j});
        i = j;
      }
    }
    return runs;
  }

  private static int lastIndexOf(byte[] hay, byte[] needle) {
    outer:
    for (int i = hay.length - needle.length; i >= 0; i--) {
      for (int j = 0; j < needle.length; j++) {
        if (hay[i + j] != needle[j]) {
          continue outer;
        }
      }
      return i;
    }
    return -1;
  }

  // ------------------------------------------------------------------ the run

  /** The pools, the server and the client every case goes through. */
  static final class Rig implements AutoCloseable {
    final Upstreams up = new Upstreams();
    final List<TokenUsage> records = new CopyOnWriteArrayList<>();
    final List<TokenUsage> lenientRecords = new CopyOnWriteArrayList<>();
    volatile MockResponse next;
    final ProviderPool strict;
    final ProviderPool lenient;
    final OkHttpClient client;
    final int port;

    Rig() {
      MockWebServer server = up.start(req -> next);
      port = server.getPort();
      FakeTicker ticker = new FakeTicker(); // never moves: a provider evicted by a 429 is still tried (fail open)
      // Reactive (quotaRouting(false)): a fuzzed 429's "0 left" headers must not keep the one provider out
      // (quota routing never fails open to it); this rig is about the usage tap.
      strict = ProviderPool.builder().ticker(ticker).quotaRouting(false).onUsage(records::add)
          .tier(Provider.builder("fuzz").baseUrl(Upstreams.baseUrl(server)).apiKey("sk-fuzz").build()).build();
      lenient = ProviderPool.builder().ticker(ticker).quotaRouting(false).virtualHost("lenient.llmpool.invalid")
          .failOnTruncatedStream(false).onUsage(lenientRecords::add)
          .tier(Provider.builder("fuzz").baseUrl(Upstreams.baseUrl(server)).apiKey("sk-fuzz").build()).build();
      // Two pool interceptors on one client: each routes its own virtual host, passes the other's through.
      client = up.client(strict).newBuilder().addInterceptor(lenient.interceptor()).build();
    }

    @Override
    public void close() {
      up.close();
    }
  }

  @Test
  void mutatedFixturesThroughARealPool() throws Exception {
    List<Base> bases = bases();
    long started = System.nanoTime();
    List<String> failures = new ArrayList<>();
    Map<String, Integer> ends = new TreeMap<>();
    int ran = 0;
    try (Rig rig = new Rig(); Leaks leaks = new Leaks()) {
      for (int k = 0; k < CASES; k++) {
        if (ONLY >= 0 && k != ONLY) {
          continue;
        }
        ran++;
        long caseSeed = SEED * 1_000_003L + k;
        Random r = new Random(caseSeed);
        Base b = bases.get(k % bases.size());
        Mutant m = mutate(b, r);
        String ctx = "case " + k + " (-Dfuzz.seed=" + SEED + " -Dfuzz.only=" + k + "), " + b.name() + ": " + m.what();
        try {
          String end = runCase(rig, b, m, r, ctx);
          ends.merge(end, 1, Integer::sum);
        } catch (AssertionError | RuntimeException | IOException x) {
          failures.add(ctx + "\n    " + x);
          if (failures.size() >= MAX_FAILURES) {
            break;
          }
        }
      }
      for (ProviderPool pool : List.of(rig.strict, rig.lenient)) {
        List<TokenUsage> recs = pool == rig.strict ? rig.records : rig.lenientRecords;
        ProviderSnapshot p = pool.snapshot().provider("fuzz").orElseThrow();
        assertEquals(0, p.inFlight());
        assertEquals(p.requests(), p.successes() + p.failures() + p.clientErrors(), p::toString);
        assertEquals(p.requests(), recs.size(), "one record per request");
        // Fuzzed counts reach Long.MAX_VALUE: a sum that no longer fits reads as MAX_VALUE in a snapshot.
        assertEquals(snapshotSum(recs.stream().filter(TokenUsage::reported).mapToLong(TokenUsage::totalTokens).sum()),
            p.totalTokens());
        assertEquals(snapshotSum(recs.stream().filter(TokenUsage::reported).mapToLong(u -> u.tokens().prompt()).sum()),
            p.tokens().prompt());
      }
      assertEquals(0, Leaks.inUse(rig.client.connectionPool()));
      leaks.detect(rig.client.connectionPool(), 1);
      assertEquals(List.of(), leaks.seenFor(List.of(rig.port)));
    }
    long ms = (System.nanoTime() - started) / 1_000_000;
    if (!failures.isEmpty()) {
      fail(failures.size() + " failing case(s) of " + ran + " (seed " + SEED + "):\n" + String.join("\n", failures));
    }
    System.out.println("TapFuzzTest: " + ran + " mutated responses from " + bases.size() + " fixtures through a real"
        + " pool in " + ms + " ms (-Dfuzz.seed=" + SEED + " -Dfuzz.cases=" + CASES + "), record ends " + ends
        + ": no unexpected exception, bytes identical, one record each");
  }

  /** One case; returns the record's end. */
  private static String runCase(Rig rig, Base b, Mutant m, Random r, String ctx) throws IOException {
    byte[] served = m.bytes();
    MockResponse.Builder resp = new MockResponse.Builder().code(b.status());
    for (String[] h : b.headers()) {
      resp.addHeader(h[0], h[1]);
    }
    if (b.headers().isEmpty()) {
      resp.addHeader("content-type", b.contentType());
    }
    String framing;
    if (r.nextBoolean()) {
      resp.body(new Buffer().write(served));
      framing = "content-length";
    } else {
      int[] sizes = {1, 2, 3, 7, 16, 61, 500, 4096};
      int chunk = sizes[r.nextInt(sizes.length)];
      resp.chunkedBody(new Buffer().write(served), chunk);
      framing = "chunked " + chunk;
    }
    rig.next = resp.build();
    boolean lenient = r.nextInt(4) == 0;
    ProviderPool pool = lenient ? rig.lenient : rig.strict;
    List<TokenUsage> records = lenient ? rig.lenientRecords : rig.records;
    boolean earlyClose = m.equivalent() && served.length > 1 && r.nextInt(10) == 0;
    int closeAfter = earlyClose ? r.nextInt(served.length) : -1;
    String how = ctx + ", " + framing + (lenient ? ", lenient pool" : "") + (earlyClose ? ", closed after "
        + closeAfter : "");

    UsageResult expected = oracle(b.contentType(), served);
    boolean truncated = expected.streamed() && !expected.terminated();
    int before = records.size();
    Buffer read = new Buffer();
    IOException readError = null;
    Request request = new Request.Builder().url(pool.baseUrl().resolve("chat/completions").toString())
        .post(RequestBody.create(Upstreams.CHAT, Upstreams.JSON)).build();
    int status;
    try (Response response = rig.client.newCall(request).execute()) {
      status = response.code();
      BufferedSource src = response.body().source();
      try {
        while (true) {
          long want = 1 + r.nextInt(r.nextBoolean() ? 16 : 8192);
          if (earlyClose) {
            want = Math.min(want, closeAfter - read.size());
            if (want <= 0) {
              break;
            }
          }
          if (src.read(read, want) == -1) {
            break;
          }
        }
      } catch (IOException x) {
        readError = x;
      }
    }
    assertEquals(b.status(), status, how);

    // What escaped to the caller.
    if (readError != null) {
      if (!(readError instanceof TruncatedStreamException) || lenient || earlyClose || !truncated) {
        throw new AssertionError("unexpected " + readError + ": " + how, readError);
      }
    } else if (truncated && !lenient && !earlyClose) {
      fail("a stream without its terminal event read to a clean end: " + how);
    }
    byte[] got = read.readByteArray();
    byte[] expectBytes = earlyClose ? Arrays.copyOf(served, closeAfter) : served;
    assertTrue(Arrays.equals(expectBytes, got), () -> "bytes read differ from bytes served (" + got.length + " vs "
        + expectBytes.length + "): " + how);

    // Exactly one record, in-flight back to 0.
    assertEquals(before + 1, records.size(), () -> "records: " + records.subList(before, records.size()) + ": " + how);
    TokenUsage u = records.get(before);
    assertEquals(0, pool.snapshot().inFlight(), how);
    assertEquals(List.of("fuzz", 1, b.status()), List.of(u.provider(), u.attempt(), u.status()), how);

    if (earlyClose) {
      assertTrue(u.end() == TokenUsage.End.CLOSED_EARLY || u.end() == TokenUsage.End.COMPLETE, how + " " + u);
      if (u.reported()) {
        assertEquals(counts(b.original()), counts(u), how);
      }
      return u.end() + "(early)";
    }

    // The record is what the parser makes of the same bytes in one piece.
    assertEquals(truncated ? TokenUsage.End.TRUNCATED : TokenUsage.End.COMPLETE, u.end(), how);
    assertEquals(List.of(expected.reported(), expected.streamed(), expected.errorEvent(), String.valueOf(
        expected.servedModel())), List.of(u.reported(), u.streamed(), u.errorEvent(), String.valueOf(u.servedModel().orElse(null))),
        () -> "record " + u + " vs parser " + expected + ": " + how);
    assertEquals(counts(expected), counts(u), how);

    // Against the fixture.
    if (u.reported()) {
      List<Long> c = counts(u);
      assertTrue(c.stream().allMatch(x -> x >= 0), () -> "negative count " + u + ": " + how);
      if (m.equivalent() || !m.touched()) {
        assertEquals(counts(b.original()), c, () -> "damage outside the usage object changed it: " + how);
      } else if (m.number() != null) {
        List<Long> o = counts(b.original());
        Long n = validCount(m.number());
        for (int i = 0; i < c.size(); i++) {
          long v = c.get(i);
          assertTrue(v == o.get(i) || (n != null && v == n), () -> "count " + v + " is neither the fixture's nor "
              + m.number() + ": " + how);
        }
      }
    } else if (m.equivalent()) {
      assertEquals(b.original().reported(), false, how);
    }
    if (m.equivalent()) {
      assertEquals(b.original(), expected, () -> "a change of line ends changed the parse: " + how);
    }
    return u.end().toString();
  }

  /** The count a JSON number stands for, when it is one: a non-negative integer fitting a long ({@code -0} is 0). */
  private static Long validCount(String number) {
    if (number.equals("-0")) {
      return 0L;
    }
    if (!number.matches("0|[1-9][0-9]{0,18}")) {
      return null;
    }
    try {
      return Long.parseLong(number);
    } catch (NumberFormatException e) {
      return null;
    }
  }

  /** A running sum as a snapshot shows it: wrapped past Long.MAX_VALUE, it saturates. */
  private static long snapshotSum(long wrapped) {
    return wrapped < 0 ? Long.MAX_VALUE : wrapped;
  }

  private static List<Long> counts(UsageResult r) {
    return List.of(r.promptTokens(), r.completionTokens(), r.totalTokens(), r.cachedTokens(), r.reasoningTokens());
  }

  private static List<Long> counts(TokenUsage u) {
    return List.of(u.tokens().prompt(), u.tokens().completion(), u.totalTokens(), u.tokens().cached(), u.tokens().reasoning());
  }
}
