package io.github.llmpool.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.io.InputStream;
import java.lang.module.ModuleDescriptor;
import java.lang.reflect.Constructor;
import java.lang.reflect.Executable;
import java.lang.reflect.Field;
import java.lang.reflect.GenericArrayType;
import java.lang.reflect.Member;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.lang.reflect.ParameterizedType;
import java.lang.reflect.Type;
import java.lang.reflect.TypeVariable;
import java.lang.reflect.WildcardType;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The public API is the product: this test lists it (every public or protected type, constructor,
 * method and field of the packages {@code module-info} exports) and compares the listing with the
 * committed {@code api/llmpool.api}, so every API change is a visible diff in review, as OkHttp
 * does with its {@code .api} files. Regenerate the file with
 * {@code mvn -B test -Dtest=ApiSurfaceTest -Dllmpool.api.update=true} after a deliberate change.
 * It also checks that no exported signature names a type of a package the module does not export.
 */
class ApiSurfaceTest {
  private static final Path CLASSES = Path.of("target/classes");
  private static final Path LISTING = Path.of("api/llmpool.api");

  static Set<String> exportedPackages() throws IOException {
    try (InputStream in = Files.newInputStream(CLASSES.resolve("module-info.class"))) {
      Set<String> out = new TreeSet<>();
      for (ModuleDescriptor.Exports e : ModuleDescriptor.read(in).exports()) {
        if (!e.isQualified()) {
          out.add(e.source());
        }
      }
      return out;
    }
  }

  /** Every public type of the exported packages, nested public types included, by name. */
  static List<Class<?>> exportedTypes() throws IOException {
    List<Class<?>> out = new ArrayList<>();
    for (String pkg : exportedPackages()) {
      Path dir = CLASSES.resolve(pkg.replace('.', '/'));
      try (Stream<Path> files = Files.list(dir)) {
        for (Path f : files.filter(p -> p.toString().endsWith(".class")).sorted().toList()) {
          String simple = f.getFileName().toString().replace(".class", "");
          if (simple.equals("package-info")) {
            continue;
          }
          Class<?> c;
          try {
            c = Class.forName(pkg + "." + simple, false, ApiSurfaceTest.class.getClassLoader());
          } catch (ClassNotFoundException e) {
            throw new AssertionError(e);
          }
          if (visible(c)) {
            out.add(c);
          }
        }
      }
    }
    out.sort((a, b) -> a.getName().compareTo(b.getName()));
    return out;
  }

  /** Public, and every enclosing type public too; anonymous and local classes are not API. */
  private static boolean visible(Class<?> c) {
    if (c.isAnonymousClass() || c.isLocalClass() || c.isSynthetic()) {
      return false;
    }
    for (Class<?> k = c; k != null; k = k.getEnclosingClass()) {
      if (!Modifier.isPublic(k.getModifiers())) {
        return false;
      }
    }
    return true;
  }

  private static boolean api(Member m) {
    int mod = m.getModifiers();
    return (Modifier.isPublic(mod) || Modifier.isProtected(mod)) && !m.isSynthetic()
        && !(m instanceof Method method && method.isBridge());
  }

  static String listing() throws IOException {
    StringBuilder sb = new StringBuilder();
    for (Class<?> c : exportedTypes()) {
      sb.append(header(c)).append(" {\n");
      Set<String> members = new TreeSet<>();
      for (Constructor<?> k : c.getDeclaredConstructors()) {
        if (api(k) && !c.isEnum()) {
          members.add("  " + k.toGenericString());
        }
      }
      for (Method m : c.getDeclaredMethods()) {
        if (api(m)) {
          members.add("  " + m.toGenericString());
        }
      }
      for (Field f : c.getDeclaredFields()) {
        if (api(f)) {
          members.add("  " + (f.isEnumConstant() ? "enum constant " + f.getName() : f.toGenericString()));
        }
      }
      for (String m : members) {
        sb.append(m).append('\n');
      }
      sb.append("}\n\n");
    }
    return sb.toString();
  }

  private static String header(Class<?> c) {
    StringBuilder sb = new StringBuilder(c.toGenericString());
    Type sup = c.getGenericSuperclass();
    if (sup != null && sup != Object.class && !c.isEnum() && !c.isRecord()) {
      sb.append(" extends ").append(sup.getTypeName());
    }
    Type[] ifaces = c.getGenericInterfaces();
    if (ifaces.length > 0) {
      sb.append(c.isInterface() ? " extends " : " implements ");
      for (int i = 0; i < ifaces.length; i++) {
        sb.append(i == 0 ? "" : ", ").append(ifaces[i].getTypeName());
      }
    }
    if (c.isSealed()) {
      sb.append(" permits ");
      Class<?>[] p = c.getPermittedSubclasses();
      for (int i = 0; i < p.length; i++) {
        sb.append(i == 0 ? "" : ", ").append(p[i].getName());
      }
    }
    return sb.toString();
  }

  @Test
  void thePublicApiIsTheCommittedListing() throws IOException {
    String actual = listing();
    if (Boolean.getBoolean("llmpool.api.update")) {
      Files.createDirectories(LISTING.getParent());
      Files.writeString(LISTING, actual, StandardCharsets.UTF_8);
    }
    assertTrue(Files.exists(LISTING), "no committed API listing at " + LISTING.toAbsolutePath());
    String committed = Files.readString(LISTING, StandardCharsets.UTF_8);
    if (!committed.equals(actual)) {
      Path out = Path.of("target/llmpool.api");
      Files.writeString(out, actual, StandardCharsets.UTF_8);
      fail("the public API differs from " + LISTING + ": compare it with " + out + " (diff " + LISTING + " " + out
          + "); if the change is deliberate, run mvn -B test -Dtest=ApiSurfaceTest -Dllmpool.api.update=true and"
          + " note it in CHANGELOG");
    }
  }

  @Test
  void exportedSignaturesNameOnlyExportedTypes() throws IOException {
    Set<String> exported = exportedPackages();
    Set<String> offenders = new TreeSet<>();
    for (Class<?> c : exportedTypes()) {
      List<Type> named = new ArrayList<>();
      if (c.getGenericSuperclass() != null) {
        named.add(c.getGenericSuperclass());
      }
      named.addAll(List.of(c.getGenericInterfaces()));
      for (Constructor<?> k : c.getDeclaredConstructors()) {
        if (api(k)) {
          signature(k, named);
        }
      }
      for (Method m : c.getDeclaredMethods()) {
        if (api(m)) {
          named.add(m.getGenericReturnType());
          signature(m, named);
        }
      }
      for (Field f : c.getDeclaredFields()) {
        if (api(f)) {
          named.add(f.getGenericType());
        }
      }
      for (Type t : named) {
        for (Class<?> r : raw(t, new ArrayList<>())) {
          String pkg = r.getPackageName();
          boolean ok = pkg.startsWith("java.") || exported.contains(pkg) || pkg.equals("okhttp3") || r.isPrimitive();
          if (!ok) {
            offenders.add(c.getName() + " names " + r.getName());
          }
        }
      }
    }
    assertEquals(Set.of(), offenders);
  }

  private static void signature(Executable e, List<Type> named) {
    named.addAll(List.of(e.getGenericParameterTypes()));
    named.addAll(List.of(e.getGenericExceptionTypes()));
  }

  private static List<Class<?>> raw(Type t, List<Class<?>> out) {
    if (t instanceof Class<?> c) {
      out.add(c.isArray() ? c.getComponentType() : c);
    } else if (t instanceof ParameterizedType p) {
      raw(p.getRawType(), out);
      for (Type a : p.getActualTypeArguments()) {
        raw(a, out);
      }
    } else if (t instanceof GenericArrayType g) {
      raw(g.getGenericComponentType(), out);
    } else if (t instanceof WildcardType w) {
      for (Type b : w.getUpperBounds()) {
        raw(b, out);
      }
      for (Type b : w.getLowerBounds()) {
        raw(b, out);
      }
    } else if (t instanceof TypeVariable<?> v) {
      for (Type b : v.getBounds()) {
        if (b != Object.class) {
          raw(b, out);
        }
      }
    }
    return out;
  }
}
