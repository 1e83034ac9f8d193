package io.github.llmpool.opentelemetry;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.sdk.OpenTelemetrySdk;
import io.opentelemetry.sdk.metrics.SdkMeterProvider;
import io.opentelemetry.sdk.metrics.data.HistogramPointData;
import io.opentelemetry.sdk.metrics.data.LongPointData;
import io.opentelemetry.sdk.metrics.data.MetricData;
import io.opentelemetry.sdk.metrics.data.PointData;
import io.opentelemetry.sdk.testing.exporter.InMemoryMetricReader;
import io.opentelemetry.sdk.testing.exporter.InMemorySpanExporter;
import io.opentelemetry.sdk.trace.SdkTracerProvider;
import io.opentelemetry.sdk.trace.data.SpanData;
import io.opentelemetry.sdk.trace.export.SimpleSpanProcessor;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/** A real OpenTelemetry SDK with the in-memory metric reader and span exporter, and lookups over what they hold. */
final class Otel implements AutoCloseable {
  final InMemorySpanExporter spans = InMemorySpanExporter.create();
  final InMemoryMetricReader reader = InMemoryMetricReader.create();
  final OpenTelemetrySdk sdk = OpenTelemetrySdk.builder()
      .setTracerProvider(SdkTracerProvider.builder().addSpanProcessor(SimpleSpanProcessor.create(spans)).build())
      .setMeterProvider(SdkMeterProvider.builder().registerMetricReader(reader).build())
      .build();
  private Collection<MetricData> collected;

  Collection<MetricData> collect() {
    collected = reader.collectAllMetrics();
    return collected;
  }

  Collection<MetricData> metrics() {
    return collected != null ? collected : collect();
  }

  Optional<MetricData> find(String name) {
    return metrics().stream().filter(m -> m.getName().equals(name)).findFirst();
  }

  MetricData metric(String name) {
    return find(name).orElseThrow(() -> new AssertionError("no metric " + name + " in "
        + metrics().stream().map(MetricData::getName).sorted().toList()));
  }

  /** The points of {@code name} whose attributes hold every {@code key, value} pair given. */
  List<PointData> points(String name, String... kv) {
    List<PointData> out = new ArrayList<>();
    for (PointData p : metric(name).getData().getPoints()) {
      if (matches(p.getAttributes(), kv)) {
        out.add(p);
      }
    }
    return out;
  }

  HistogramPointData histogram(String name, String... kv) {
    List<PointData> ps = points(name, kv);
    assertEquals(1, ps.size(), name + " " + List.of(kv) + ": " + metric(name).getData().getPoints());
    return (HistogramPointData) ps.get(0);
  }

  long sum(String name, String... kv) {
    long total = 0;
    for (PointData p : points(name, kv)) {
      total += ((LongPointData) p).getValue();
    }
    return total;
  }

  double doubleSum(String name, String... kv) {
    double total = 0;
    for (PointData p : points(name, kv)) {
      total += ((io.opentelemetry.sdk.metrics.data.DoublePointData) p).getValue();
    }
    return total;
  }

  static boolean matches(Attributes a, String... kv) {
    Map<String, String> text = asText(a);
    for (int i = 0; i < kv.length; i += 2) {
      String v = text.get(kv[i]);
      if (v == null || !String.valueOf(v).equals(kv[i + 1])) {
        return false;
      }
    }
    return true;
  }

  /** Attributes as a sorted name -> value map (values as text), for exact comparison. */
  static Map<String, String> asText(Attributes a) {
    Map<String, String> m = new TreeMap<>();
    a.forEach((k, v) -> m.put(k.getKey(), String.valueOf(v)));
    return m;
  }

  List<SpanData> spans() {
    return spans.getFinishedSpanItems();
  }

  List<SpanData> childrenOf(SpanData parent) {
    return spans().stream().filter(s -> s.getParentSpanId().equals(parent.getSpanId()))
        .sorted(java.util.Comparator.comparingLong(SpanData::getStartEpochNanos)).toList();
  }

  SpanData span(String name) {
    List<SpanData> found = spans().stream().filter(s -> s.getName().equals(name)).toList();
    assertTrue(!found.isEmpty(), "no span " + name + " in " + spans().stream().map(SpanData::getName).toList());
    return found.get(0);
  }

  /** The one request span (the span that carries {@code llmpool.pool}). */
  SpanData requestSpan() {
    List<SpanData> found = spans().stream()
        .filter(s -> s.getAttributes().get(AttributeKey.stringKey("llmpool.pool")) != null).toList();
    assertEquals(1, found.size(), spans().toString());
    return found.get(0);
  }

  static <T> T attr(SpanData s, AttributeKey<T> key) {
    return s.getAttributes().get(key);
  }

  @Override
  public void close() {
    sdk.close();
  }
}
