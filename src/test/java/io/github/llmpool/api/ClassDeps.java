package io.github.llmpool.api;

import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * The classes each compiled class refers to, read from its constant pool (class entries, and the
 * descriptors and generic signatures of its fields, methods and attributes), as javac wrote them:
 * what the code really uses, not what its import lines say. Only names under {@code prefix} are
 * kept. Stateless helper for the architecture tests.
 */
final class ClassDeps {
  private static final Pattern DESCRIPTOR_CLASS = Pattern.compile("L([\\w/$]+)[;<]");

  private ClassDeps() {}

  /** Class name (dots, nested classes with {@code $}) to the names it refers to, for every class under {@code root}. */
  static Map<String, Set<String>> read(Path root, String prefix) throws IOException {
    Map<String, Set<String>> out = new TreeMap<>();
    try (Stream<Path> files = Files.walk(root)) {
      for (Path f : files.filter(p -> p.toString().endsWith(".class")).toList()) {
        String name = root.relativize(f).toString().replace('\\', '/').replace(".class", "").replace('/', '.');
        if (name.endsWith("module-info") || name.endsWith("package-info")) {
          continue;
        }
        try (InputStream in = Files.newInputStream(f)) {
          Set<String> refs = new TreeSet<>();
          for (String r : references(in)) {
            String dotted = r.replace('/', '.');
            if (dotted.startsWith(prefix) && !dotted.equals(name)) {
              refs.add(dotted);
            }
          }
          out.put(name, refs);
        }
      }
    }
    return out;
  }

  /** Internal names (slashes) found in the constant pool of one class file. */
  static Set<String> references(InputStream raw) throws IOException {
    DataInputStream in = new DataInputStream(raw);
    if (in.readInt() != 0xCAFEBABE) {
      throw new IOException("not a class file");
    }
    in.readUnsignedShort();
    in.readUnsignedShort();
    int count = in.readUnsignedShort();
    String[] utf8 = new String[count];
    int[] classIndex = new int[count];
    for (int i = 1; i < count; i++) {
      int tag = in.readUnsignedByte();
      switch (tag) {
        case 1 -> utf8[i] = in.readUTF();
        case 7 -> classIndex[i] = in.readUnsignedShort();
        case 8, 16, 19, 20 -> in.readUnsignedShort();
        case 3, 4 -> in.readInt();
        case 5, 6 -> {
          in.readLong();
          i++; // takes two entries
        }
        case 9, 10, 11, 12, 17, 18 -> in.readInt();
        case 15 -> {
          in.readUnsignedByte();
          in.readUnsignedShort();
        }
        default -> throw new IOException("unknown constant pool tag " + tag);
      }
    }
    Set<String> out = new TreeSet<>();
    for (int i = 1; i < count; i++) {
      if (classIndex[i] != 0) {
        String n = utf8[classIndex[i]];
        if (n != null) {
          out.add(n.startsWith("[") ? strip(n) : n);
        }
      }
      if (utf8[i] != null && utf8[i].indexOf('L') >= 0 && utf8[i].indexOf(';') > 0) {
        Matcher m = DESCRIPTOR_CLASS.matcher(utf8[i]);
        while (m.find()) {
          out.add(m.group(1));
        }
      }
    }
    return out;
  }

  private static String strip(String arrayName) {
    Matcher m = DESCRIPTOR_CLASS.matcher(arrayName);
    return m.find() ? m.group(1) : arrayName;
  }

  /** The package of a class name (dots). */
  static String packageOf(String className) {
    int dot = className.lastIndexOf('.');
    return dot < 0 ? "" : className.substring(0, dot);
  }

  /** The top-level class of a (possibly nested) class name. */
  static String topLevel(String className) {
    int d = className.indexOf('$');
    return d < 0 ? className : className.substring(0, d);
  }
}
