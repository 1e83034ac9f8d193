package io.github.llmpool.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.io.IOException;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import javax.tools.JavaCompiler;
import javax.tools.ToolProvider;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The library works on the module path, as a consumer module sees it: a small module that
 * {@code requires io.github.llmpool} compiles against the exported API alone (and cannot compile
 * against an internal package), then runs in a child JVM on the module path, serving one chat
 * completion through a pool to a JDK HTTP server on loopback and reading its usage. There the check
 * of OkHttp's per-host limit cannot reach OkHttp's internal call class ({@code okhttp3} does not
 * export {@code okhttp3.internal.connection}): it is off, says so once at DEBUG, and the call works;
 * with {@code --add-exports okhttp3/okhttp3.internal.connection=io.github.llmpool} it is on.
 */
class ModulePathTest {
  /** The runtime dependencies the library's module needs, picked from the test class path by jar name. */
  private static final List<String> RUNTIME = List.of("okhttp-jvm", "okio-jvm", "kotlin-stdlib", "jackson-core",
      "jackson-databind", "jackson-annotations", "caffeine", "slf4j-api", "slf4j-simple", "jspecify",
      "error_prone_annotations");

  private static String modulePath() {
    List<String> entries = new ArrayList<>();
    entries.add(Path.of("target/classes").toAbsolutePath().toString());
    for (String e : System.getProperty("java.class.path").split(File.pathSeparator)) {
      String file = Path.of(e).getFileName().toString();
      if (file.endsWith(".jar") && RUNTIME.stream().anyMatch(file::startsWith)) {
        entries.add(e);
      }
    }
    return String.join(File.pathSeparator, entries);
  }

  private static final String MODULE_INFO = "module consumer { requires io.github.llmpool; requires jdk.httpserver; }";

  private static final String MAIN = """
      package consumer;

      import com.sun.net.httpserver.HttpServer;
      import io.github.llmpool.Provider;
      import io.github.llmpool.ProviderPool;
      import io.github.llmpool.TokenUsage;
      import java.net.InetSocketAddress;
      import java.nio.charset.StandardCharsets;
      import java.util.concurrent.atomic.AtomicReference;
      import okhttp3.MediaType;
      import okhttp3.OkHttpClient;
      import okhttp3.Request;
      import okhttp3.RequestBody;
      import okhttp3.Response;

      public final class Main {
        public static void main(String[] args) throws Exception {
          HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
          byte[] answer = ("{\\"id\\":\\"c\\",\\"object\\":\\"chat.completion\\",\\"model\\":\\"m\\",\\"choices\\":[{\\"index\\":0,"
              + "\\"message\\":{\\"role\\":\\"assistant\\",\\"content\\":\\"hi\\"},\\"finish_reason\\":\\"stop\\"}],"
              + "\\"usage\\":{\\"prompt_tokens\\":7,\\"completion_tokens\\":3,\\"total_tokens\\":10}}").getBytes(StandardCharsets.UTF_8);
          server.createContext("/", exchange -> {
            exchange.getRequestBody().readAllBytes();
            exchange.getResponseHeaders().add("Content-Type", "application/json");
            exchange.sendResponseHeaders(200, answer.length);
            exchange.getResponseBody().write(answer);
            exchange.close();
          });
          server.start();
          try {
            AtomicReference<TokenUsage> usage = new AtomicReference<>();
            ProviderPool pool = ProviderPool.builder()
                .tier(Provider.builder("local").baseUrl("http://127.0.0.1:" + server.getAddress().getPort() + "/v1").build())
                .onUsage(usage::set)
                .build();
            OkHttpClient http = new OkHttpClient.Builder().addInterceptor(pool.interceptor()).build();
            Request request = new Request.Builder().url(pool.baseUrl().resolve("chat/completions").toString())
                .post(RequestBody.create("{\\"model\\":\\"m\\",\\"messages\\":[]}", MediaType.get("application/json")))
                .build();
            try (Response r = http.newCall(request).execute()) {
              r.body().string();
              System.out.println("status=" + r.code() + " total=" + usage.get().totalTokens()
                  + " module=" + ProviderPool.class.getModule().getName());
            }
            http.dispatcher().executorService().shutdown();
            http.connectionPool().evictAll();
          } finally {
            server.stop(0);
          }
        }
      }
      """;

  private static String compile(Path src, Path out, String modulePath) {
    JavaCompiler javac = ToolProvider.getSystemJavaCompiler();
    List<String> files = new ArrayList<>();
    try (Stream<Path> s = Files.walk(src)) {
      s.filter(p -> p.toString().endsWith(".java")).forEach(p -> files.add(p.toString()));
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
    List<String> args = new ArrayList<>(List.of("--release", "17", "--module-path", modulePath, "-d", out.toString()));
    args.addAll(files);
    StringWriter errors = new StringWriter();
    java.io.PrintWriter pw = new java.io.PrintWriter(errors);
    int rc = javac.run(null, new java.io.PrintStream(java.io.OutputStream.nullOutputStream()),
        new java.io.PrintStream(new java.io.OutputStream() {
          @Override
          public void write(int b) {
            pw.write(b);
          }
        }, true), args.toArray(new String[0]));
    pw.flush();
    return rc == 0 ? null : errors.toString();
  }

  private static void write(Path dir, String module, String mainSource) throws IOException {
    Files.createDirectories(dir.resolve("consumer"));
    Files.writeString(dir.resolve("module-info.java"), module);
    Files.writeString(dir.resolve("consumer/Main.java"), mainSource);
  }

  @Test
  void aConsumerModuleCompilesAgainstTheApiAndRunsOnTheModulePath(@TempDir Path dir) throws Exception {
    String mp = modulePath();
    Path src = dir.resolve("src");
    Path out = dir.resolve("out");
    write(src, MODULE_INFO, MAIN);
    String errors = compile(src, out, mp);
    assertEquals(null, errors, "the consumer does not compile on the module path");

    String output = run(out, mp);
    assertTrue(output.contains("status=200 total=10 module=io.github.llmpool"), output);
    assertTrue(output.contains("DEBUG io.github.llmpool.dispatcher - llmpool: the check of OkHttp's per-host limit is"
        + " off (IllegalAccessException: OkHttp's RealCall.getClient() is not accessible here"), output);
    assertEquals(1, output.split("per-host limit is off", -1).length - 1, output);

    // with the package exported to the library, the check is on (and the call the same)
    String exported = run(out, mp, "--add-exports", "okhttp3/okhttp3.internal.connection=io.github.llmpool");
    assertTrue(exported.contains("status=200 total=10 module=io.github.llmpool"), exported);
    assertFalse(exported.contains("per-host limit is off"), exported);
  }

  /** Runs the consumer in a child JVM on the module path; returns its output (stdout and stderr). */
  private static String run(Path out, String mp, String... jvmArgs) throws Exception {
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    List<String> cmd = new ArrayList<>(List.of(java, "-Dorg.slf4j.simpleLogger.defaultLogLevel=warn",
        "-Dorg.slf4j.simpleLogger.log.io.github.llmpool.dispatcher=debug"));
    cmd.addAll(List.of(jvmArgs));
    cmd.addAll(List.of("--module-path", out + File.pathSeparator + mp, "-m", "consumer/consumer.Main"));
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    assertTrue(p.waitFor(60, TimeUnit.SECONDS), "the consumer did not finish");
    String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertEquals(0, p.exitValue(), output);
    return output;
  }

  @Test
  void aConsumerModuleCannotCompileAgainstAnInternalPackage(@TempDir Path dir) throws Exception {
    Path internal = Path.of("target/classes/io/github/llmpool/internal");
    String someInternal;
    try (Stream<Path> s = Files.walk(internal)) {
      Path first = s.filter(f -> f.toString().endsWith(".class") && !f.toString().contains("$")).sorted().findFirst()
          .orElseThrow();
      someInternal = Path.of("target/classes").relativize(first).toString().replace(File.separatorChar, '.')
          .replace(".class", "");
    }
    Path src = dir.resolve("src");
    write(src, MODULE_INFO, "package consumer;\npublic final class Main { " + someInternal + " x; }\n");
    String errors = compile(src, dir.resolve("out"), modulePath());
    assertFalse(errors == null, "a consumer compiled against " + someInternal);
    assertTrue(errors.contains("not visible") || errors.contains("does not export"), errors);
  }
}
