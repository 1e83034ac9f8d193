package io.github.llmpool.redis;

import java.io.BufferedReader;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * A real Redis server for the tests, started by them on a free loopback port with persistence
 * off ({@code --save "" --appendonly no}): a {@code redis-server} or {@code valkey-server} found
 * on {@code PATH}, or else the Redis 6.2 linux-amd64 binary inside the test dependency
 * {@code com.github.codemonstur:embedded-redis} (extracted to a temporary file). When neither
 * can run, {@link #start} throws with a message saying what to install: tests never skip. Also
 * the fleet experiment's Redis ({@code benchmarks/}, through this module's test-jar, which holds
 * this class alone; benchmarks.jar shades the embedded binary).
 *
 * <p>It can be stopped and started again on the same port (a restart: persistence off, so it
 * comes back empty), and stalled with {@code SIGSTOP} / resumed with {@code SIGCONT}.
 */
public final class RedisServerProcess implements AutoCloseable {
  private static final String EMBEDDED = "redis-server-6.2.6-v5-linux-amd64";
  private static volatile Path binary;

  private final int port;
  private final List<String> extra;
  private final Path dir;
  private Process process;

  private RedisServerProcess(int port, List<String> extra) throws IOException {
    this.port = port;
    this.extra = List.copyOf(extra);
    this.dir = Files.createTempDirectory("llmpool-redis");
  }

  /** Starts a server on a free loopback port; {@code extra} are more redis-server arguments. */
  public static RedisServerProcess start(String... extra) {
    IOException last = null;
    for (int i = 0; i < 3; i++) { // a free port may be taken between the probe and the start
      try {
        RedisServerProcess r = new RedisServerProcess(freePort(), List.of(extra));
        r.startProcess();
        return r;
      } catch (IOException e) {
        last = e;
      }
    }
    throw new IllegalStateException("could not start a Redis server (llmpool-redis tests, benchmarks' fleet experiment): "
        + last.getMessage(), last);
  }

  int port() {
    return port;
  }

  public String uri() {
    return "redis://127.0.0.1:" + port;
  }

  /** Where the binary comes from (for the report of a run). */
  public static String binaryDescription() {
    return binary().toString();
  }

  private void startProcess() throws IOException {
    List<String> cmd = new ArrayList<>(List.of(binary().toString(), "--port", Integer.toString(port),
        "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", dir.toString(),
        "--protected-mode", "no", "--daemonize", "no", "--loglevel", "notice"));
    cmd.addAll(extra);
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    CompletableFuture<Boolean> ready = new CompletableFuture<>();
    StringBuilder output = new StringBuilder();
    Thread reader = new Thread(() -> {
      try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
        String line;
        while ((line = r.readLine()) != null) {
          synchronized (output) {
            if (output.length() < 8_000) {
              output.append(line).append('\n');
            }
          }
          if (line.contains("Ready to accept connections")) {
            ready.complete(true);
          }
        }
      } catch (IOException ignored) {
        // the process ended
      }
      ready.complete(false);
    }, "redis-server-" + port);
    reader.setDaemon(true);
    reader.start();
    boolean ok;
    try {
      ok = ready.get(15, TimeUnit.SECONDS);
    } catch (Exception e) {
      ok = false;
    }
    if (!ok) {
      p.destroyForcibly();
      synchronized (output) {
        throw new IOException("redis-server on port " + port + " did not become ready:\n" + output);
      }
    }
    process = p;
  }

  /** Stops the server (SIGTERM, then SIGKILL) and waits for it to exit. */
  void stop() {
    Process p = process;
    if (p == null) {
      return;
    }
    resume(); // a stopped process would not handle SIGTERM
    p.destroy();
    try {
      if (!p.waitFor(10, TimeUnit.SECONDS)) {
        p.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    process = null;
  }

  /** Starts the server again on the same port (empty: persistence is off). */
  void restart() {
    stop();
    try {
      startProcess();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Freezes the server process (SIGSTOP): connections stay open, nothing is answered. */
  void stall() {
    signal("-STOP");
  }

  /** Lets a stalled server go on (SIGCONT). */
  void resume() {
    if (process != null) {
      signal("-CONT");
    }
  }

  private void signal(String sig) {
    try {
      Process k = new ProcessBuilder("kill", sig, Long.toString(process.pid())).inheritIO().start();
      if (!k.waitFor(10, TimeUnit.SECONDS) || k.exitValue() != 0) {
        throw new IllegalStateException("kill " + sig + " failed");
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  @Override
  public void close() {
    stop();
  }

  private static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return s.getLocalPort();
    }
  }

  /** {@code redis-server} / {@code valkey-server} on PATH, else the embedded-redis binary; or a clear failure. */
  private static Path binary() {
    Path b = binary;
    if (b != null) {
      return b;
    }
    synchronized (RedisServerProcess.class) {
      if (binary != null) {
        return binary;
      }
      String path = System.getenv("PATH");
      if (path != null) {
        for (String name : List.of("redis-server", "valkey-server")) {
          for (String d : path.split(File.pathSeparator)) {
            Path candidate = Path.of(d, name);
            if (Files.isExecutable(candidate)) {
              return binary = candidate;
            }
          }
        }
      }
      String os = System.getProperty("os.name", "").toLowerCase(Locale.ROOT);
      String arch = System.getProperty("os.arch", "").toLowerCase(Locale.ROOT);
      boolean linuxAmd64 = os.contains("linux") && (arch.equals("amd64") || arch.equals("x86_64"));
      try (InputStream in = RedisServerProcess.class.getClassLoader().getResourceAsStream(EMBEDDED)) {
        if (!linuxAmd64 || in == null) {
          throw new IllegalStateException("no Redis server: none of redis-server, valkey-server is on PATH"
              + (linuxAmd64 ? ", and " + EMBEDDED + " (from com.github.codemonstur:embedded-redis) is not on the"
              + " class path" : ", and the embedded binary is for linux-amd64 only (this is " + os + "/" + arch + ")")
              + ". Install Redis or Valkey (Debian: apt-get install redis-server) and run again.");
        }
        Path tmp = Files.createTempFile("llmpool-redis-server", "");
        Files.copy(in, tmp, StandardCopyOption.REPLACE_EXISTING);
        if (!tmp.toFile().setExecutable(true)) {
          throw new IllegalStateException("cannot make " + tmp + " executable");
        }
        tmp.toFile().deleteOnExit();
        return binary = tmp;
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
  }
}
