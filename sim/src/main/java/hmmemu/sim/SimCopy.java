package hmmemu.sim;

import hmmemu.protocol.model.ClassCache;
import java.lang.reflect.Array;
import java.lang.reflect.Constructor;
import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.util.ArrayList;
import java.util.Collection;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A deep copy of everything reachable from a {@link Sim} (or any root), for snapshot-based schedule exploration
 * (issue 13): a search could restore a copy taken at a choice point instead of replaying the schedule's prefix. Plain
 * objects are copied field by field through {@code sun.misc.Unsafe} (no JVM flags: it reads JDK classes' fields
 * without opening their modules); the agenda's lambdas (hidden classes, whose final fields neither reflection nor
 * {@code sun.misc.Unsafe} can write) are rebuilt through their private constructor from their copied captured
 * values; hashed JDK maps and sets are rebuilt by re-inserting the copied entries (a copied key has a new identity
 * hash code); immutable values (strings, boxed primitives, enums, classes, records, protobuf messages) are shared.
 * Emulator-only host mechanism, not a kernel structure.
 */
public final class SimCopy {
  private static final sun.misc.Unsafe U = unsafe();
  /**
   * Originals to their copies. Sized from the last copy's count ({@link #lastSize}): a fixed 16,384 cleared a table
   * of 65,536 slots for every copy, a fifth of a short exhaustive search's CPU (docs/PERFORMANCE.md "Session 14").
   */
  private final IdentityHashMap<Object, Object> done = new IdentityHashMap<>(lastSize);
  /** How many originals the last copy mapped (a size hint only, racy between threads: it never changes a copy). */
  private static volatile int lastSize = 1024;
  /** Lambdas being rebuilt (their captured values are being copied): where a reference to each must be patched. */
  private final IdentityHashMap<Object, List<Runnable>> pending = new IdentityHashMap<>();
  private long objects;
  /** Array slots copied (primitive and reference), and the longest array met. */
  private long slots;
  private long longest;

  private SimCopy() {}

  /** A deep copy of {@code sim}: running the copy leaves the original untouched and vice versa. */
  public static Sim of(Sim sim) { return copyOf(sim); }

  /**
   * Uncounts the choice point {@code copy} was copied at ({@link Sim#choicePoints}): a copy taken while the scheduler
   * was asked at a choice point is resumed by running the event loop again, which picks that point again and counts it
   * then. Emulator-only host mechanism.
   */
  public static void unpick(Sim copy) { copy.skippedChoicePoints(-1); }

  /** A deep copy of everything reachable from {@code root} (immutable values shared). */
  @SuppressWarnings("unchecked")
  public static <T> T copyOf(T root) {
    SimCopy c = new SimCopy();
    return (T) c.done(c.copy(root));
  }

  /** Remembers this copy's size as the next copy's hint; returns {@code out}. */
  private Object done(Object out) {
    lastSize = Math.max(64, done.size() + done.size() / 8);
    return out;
  }

  /**
   * As {@link #copyOf}, also returning how many objects were copied (the rest was shared), the array slots copied
   * and the longest array: {copy, objects, slots, longest}.
   */
  public static Object[] copyCounting(Object root) {
    SimCopy c = new SimCopy();
    Object out = c.done(c.copy(root));
    return new Object[] {out, c.objects, c.slots, c.longest};
  }

  private static sun.misc.Unsafe unsafe() {
    try {
      Field f = sun.misc.Unsafe.class.getDeclaredField("theUnsafe");
      f.setAccessible(true);
      return (sun.misc.Unsafe) f.get(null);
    } catch (ReflectiveOperationException e) {
      throw new ExceptionInInitializerError(e);
    }
  }

  /** Whether instances of {@code c} are never changed after construction (shared, not copied). */
  private static boolean immutable(Class<?> c) {
    return c == String.class || c == Long.class || c == Integer.class || c == Boolean.class || c == Double.class
        || c == Short.class || c == Byte.class || c == Character.class || c == Float.class || c == Class.class
        || Enum.class.isAssignableFrom(c) || (c.isRecord() && valueRecord(c))
        || com.google.protobuf.MessageLite.class.isAssignableFrom(c)
        || com.google.protobuf.ByteString.class.isAssignableFrom(c) || c == Object.class
        || c.getName().startsWith("java.lang.invoke.") || c.getName().startsWith("java.lang.ref.")
        || Thread.class.isAssignableFrom(c) || ClassLoader.class.isAssignableFrom(c)
        || c == java.util.Collections.emptyList().getClass() || c == java.util.Collections.emptyMap().getClass();
  }

  /**
   * Whether a record holds only values (each component a primitive or of a type {@link #immutable} shares): shared.
   * A record with any other component (an array, a collection, a future, an interface) is copied: its components
   * may be changed in place (a pause point's held messages, a watch's future), so sharing it would share them.
   */
  private static boolean valueRecord(Class<?> c) {
    for (java.lang.reflect.RecordComponent rc : c.getRecordComponents()) {
      Class<?> t = rc.getType();
      if (!t.isPrimitive() && (t == c || !immutable(t))) return false;
    }
    return true;
  }

  /** A class's instance fields (superclasses first) as offsets and primitive kinds (0: a reference). */
  private record Plan(long[] offsets, char[] kinds) {}

  private static final Map<Class<?>, Plan> PLANS = new ConcurrentHashMap<>();

  private static Plan plan(Class<?> c) {
    return PLANS.computeIfAbsent(c, k -> {
      List<Field> fs = new ArrayList<>();
      for (Class<?> x = k; x != null && x != Object.class; x = x.getSuperclass()) {
        for (Field f : x.getDeclaredFields()) if (!Modifier.isStatic(f.getModifiers())) fs.add(f);
      }
      long[] off = new long[fs.size()];
      char[] kind = new char[fs.size()];
      for (int i = 0; i < off.length; i++) {
        Field f = fs.get(i);
        off[i] = U.objectFieldOffset(f);
        Class<?> t = f.getType();
        kind[i] = !t.isPrimitive() ? 0 : t == long.class ? 'J' : t == int.class ? 'I' : t == boolean.class ? 'Z'
            : t == byte.class ? 'B' : t == short.class ? 'S' : t == char.class ? 'C' : t == float.class ? 'F' : 'D';
      }
      return new Plan(off, kind);
    });
  }

  /** How instances of a class are copied: shared, array, lambda, hashed map, hashed set, refused, field by field. */
  private static final int SHARED = 0, ARRAY = 1, LAMBDA = 2, MAP = 3, SET = 4, REFUSED = 5, PLAIN = 6, RECORD = 7,
      IMMUTABLE_HASHED = 8;

  /** How a class's instances are copied ({@link #SHARED} ...), through a direct-mapped cache by class. */
  private static final ClassCache.OfInt HOW = new ClassCache.OfInt(512, c -> {
    if (immutable(c)) return SHARED;
    if (c.isArray()) return ARRAY;
    if (c.isHidden()) return LAMBDA;
    if (c.isRecord()) return RECORD;
    if (Map.class.isAssignableFrom(c) && hashed(c)) return MAP;
    if (Collection.class.isAssignableFrom(c) && hashed(c)) return SET;
    String n = c.getName();
    if (n.equals("java.util.ImmutableCollections$SetN") || n.equals("java.util.ImmutableCollections$MapN")) {
      return IMMUTABLE_HASHED;
    }
    if (n.equals("java.util.WeakHashMap") || n.equals("java.util.Hashtable")) {
      return REFUSED;
    }
    return PLAIN;
  });

  private static int how(Class<?> c) { return HOW.get(c); }

  /** Records the caller declared values (shared, not copied), beyond {@link #valueRecord}'s. */
  private java.util.function.Predicate<Class<?>> values = c -> false;

  /**
   * As {@link #copyOf(Object)}, sharing also the records of the classes {@code values} accepts (the caller knows them
   * to be values all the way down, e.g. a parsed scenario's steps, though their components are lists).
   */
  @SuppressWarnings("unchecked")
  public static <T> T copyOf(T root, java.util.function.Predicate<Class<?>> values) {
    SimCopy c = new SimCopy();
    c.values = values;
    return (T) c.done(c.copy(root));
  }

  private Object copy(Object o) {
    if (o == null) return null;
    Class<?> c = o.getClass();
    int how = how(c);
    if (how == SHARED || (how == RECORD && values.test(c))) return o;
    Object d = done.get(o);
    if (d != null) return d;
    if (!pending.isEmpty() && pending.containsKey(o)) return o; // a lambda being rebuilt: the caller patches it
    objects++;
    switch (how) {
      case ARRAY: return array(o, c);
      case LAMBDA: return lambda(o, c);
      case RECORD: return record(o, c);
      case IMMUTABLE_HASHED: return immutableHashed(o);
      case MAP: return map((Map<?, ?>) o, c);
      case SET: return set((Collection<?>) o, c);
      case REFUSED:
        throw new UnsupportedOperationException("SimCopy: cannot copy a " + c.getName() + " (identity-hashed layout)");
      default: break;
    }
    Object n;
    try {
      n = U.allocateInstance(c);
    } catch (InstantiationException e) {
      throw new IllegalStateException(e);
    }
    done.put(o, n);
    Plan p = plan(c);
    for (int i = 0; i < p.offsets.length; i++) {
      long off = p.offsets[i];
      switch (p.kinds[i]) {
        case 'J' -> U.putLong(n, off, U.getLong(o, off));
        case 'I' -> U.putInt(n, off, U.getInt(o, off));
        case 'Z' -> U.putBoolean(n, off, U.getBoolean(o, off));
        case 'B' -> U.putByte(n, off, U.getByte(o, off));
        case 'S' -> U.putShort(n, off, U.getShort(o, off));
        case 'C' -> U.putChar(n, off, U.getChar(o, off));
        case 'F' -> U.putFloat(n, off, U.getFloat(o, off));
        case 'D' -> U.putDouble(n, off, U.getDouble(o, off));
        default -> {
          Object v = U.getObject(o, off);
          Object cv = copy(v);
          U.putObject(n, off, cv);
          if (cv != null && cv == v && !pending.isEmpty() && pending.containsKey(v)) {
            pending.get(v).add(() -> U.putObject(n, off, done.get(v)));
          }
        }
      }
    }
    return n;
  }

  /** Whether {@code c} is a JDK hash table whose layout depends on its keys' hash codes (rebuilt, not copied). */
  private static boolean hashed(Class<?> c) {
    return c == java.util.HashMap.class || c == java.util.LinkedHashMap.class || c == java.util.HashSet.class
        || c == java.util.LinkedHashSet.class || c == IdentityHashMap.class || c == ConcurrentHashMap.class;
  }

  @SuppressWarnings({"unchecked", "rawtypes"})
  private Object map(Map<?, ?> m, Class<?> c) {
    Map n = c == java.util.HashMap.class ? new java.util.HashMap<>(Math.max(16, m.size() * 2))
        : c == java.util.LinkedHashMap.class ? new java.util.LinkedHashMap<>(Math.max(16, m.size() * 2))
        : c == IdentityHashMap.class ? new IdentityHashMap<>(m.size()) : new ConcurrentHashMap<>(m.size());
    done.put(m, n);
    for (Map.Entry<?, ?> e : m.entrySet()) n.put(noPending(copy(e.getKey())), noPending(copy(e.getValue())));
    return n;
  }

  @SuppressWarnings({"unchecked", "rawtypes"})
  private Object set(Collection<?> s, Class<?> c) {
    Collection n = c == java.util.HashSet.class ? new java.util.HashSet<>(Math.max(16, s.size() * 2))
        : new java.util.LinkedHashSet<>(Math.max(16, s.size() * 2));
    done.put(s, n);
    for (Object x : s) n.add(noPending(copy(x)));
    return n;
  }

  private Object array(Object o, Class<?> c) {
    int len = Array.getLength(o);
    slots += len;
    longest = Math.max(longest, len);
    if (c.getComponentType().isPrimitive()) {
      Object n = o instanceof long[] a ? a.clone() : o instanceof int[] a ? a.clone() : o instanceof boolean[] a
          ? a.clone() : o instanceof byte[] a ? a.clone() : o instanceof short[] a ? a.clone() : o instanceof char[] a
          ? a.clone() : o instanceof float[] a ? a.clone() : ((double[]) o).clone();
      done.put(o, n);
      return n;
    }
    Object[] a = (Object[]) o;
    Object[] n = a.clone(); // the same component type; every slot is overwritten below (cheaper than Array.newInstance)
    done.put(o, n);
    for (int i = 0; i < a.length; i++) {
      Object v = a[i];
      Object cv = copy(v);
      n[i] = cv;
      final int at = i;
      if (cv != null && cv == v && !pending.isEmpty() && pending.containsKey(v)) pending.get(v).add(() -> n[at] = done.get(v));
    }
    return n;
  }

  /** A reference to a lambda still being rebuilt, where it cannot be patched later (a hash key or value). */
  private Object noPending(Object v) {
    if (v != null && pending.containsKey(v)) {
      throw new UnsupportedOperationException("SimCopy: a cycle through a lambda (" + v.getClass().getName() + ")");
    }
    return v;
  }

  /** A lambda (hidden class): rebuilt through its private constructor from its copied captured values. */
  /**
   * A lambda class's captured fields in constructor order and its constructor (accessible), also as a method handle
   * taking the captured values as an array: reflection's {@code Constructor.newInstance} of a hidden class goes
   * through a native call every time (it never gets a generated accessor), ~2 % of an exploration's CPU.
   */
  private record Rebuild(Field[] fields, Constructor<?> constructor, java.lang.invoke.MethodHandle create) {}

  private static final ClassValue<Rebuild> REBUILD = new ClassValue<>() {
    @Override
    protected Rebuild computeValue(Class<?> c) {
      List<Field> inst = new ArrayList<>();
      for (Field f : c.getDeclaredFields()) if (!Modifier.isStatic(f.getModifiers())) inst.add(f);
      // the metafactory names captured values arg$1, arg$2, ... and its constructor takes them in that order
      inst.sort(java.util.Comparator.comparingInt(f -> Integer.parseInt(f.getName().substring(f.getName().indexOf('$') + 1))));
      for (Field f : inst) f.setAccessible(true);
      Constructor<?> k = c.getDeclaredConstructors()[0];
      k.setAccessible(true);
      java.lang.invoke.MethodHandle create;
      try {
        create = java.lang.invoke.MethodHandles.lookup().unreflectConstructor(k)
            .asSpreader(Object[].class, k.getParameterCount())
            .asType(java.lang.invoke.MethodType.methodType(Object.class, Object[].class));
      } catch (IllegalAccessException e) {
        create = null; // the reflective constructor then
      }
      return new Rebuild(inst.toArray(new Field[0]), k, create);
    }
  };

  /** A {@code Set.of}/{@code Map.of} table (its layout follows its keys' hash codes): rebuilt of the copied entries. */
  private Object immutableHashed(Object o) {
    Object n;
    if (o instanceof Map<?, ?> m) {
      Map<Object, Object> es = new java.util.LinkedHashMap<>();
      for (Map.Entry<?, ?> e : m.entrySet()) es.put(noPending(copy(e.getKey())), noPending(copy(e.getValue())));
      n = Map.copyOf(es);
    } else {
      List<Object> es = new ArrayList<>();
      for (Object x : (Collection<?>) o) es.add(noPending(copy(x)));
      n = java.util.Set.copyOf(es);
    }
    done.put(o, n);
    return n;
  }

  /** A record's accessors and canonical constructor (accessible). */
  private record Canonical(java.lang.reflect.Method[] accessors, Constructor<?> constructor) {}

  private static final ClassValue<Canonical> CANONICAL = new ClassValue<>() {
    @Override
    protected Canonical computeValue(Class<?> c) {
      java.lang.reflect.RecordComponent[] rcs = c.getRecordComponents();
      java.lang.reflect.Method[] acc = new java.lang.reflect.Method[rcs.length];
      Class<?>[] types = new Class<?>[rcs.length];
      for (int i = 0; i < rcs.length; i++) {
        acc[i] = rcs[i].getAccessor();
        acc[i].setAccessible(true);
        types[i] = rcs[i].getType();
      }
      try {
        Constructor<?> k = c.getDeclaredConstructor(types);
        k.setAccessible(true);
        return new Canonical(acc, k);
      } catch (NoSuchMethodException e) {
        throw new IllegalStateException(e);
      }
    }
  };

  /** A record that holds more than values: rebuilt through its canonical constructor from its copied components. */
  private Object record(Object o, Class<?> c) {
    Canonical k = CANONICAL.get(c);
    Object[] args = new Object[k.accessors.length];
    pending.put(o, new ArrayList<>());
    try {
      for (int i = 0; i < args.length; i++) args[i] = noPending(copy(k.accessors[i].invoke(o)));
      Object n = k.constructor.newInstance(args);
      done.put(o, n);
      for (Runnable r : pending.remove(o)) r.run();
      return n;
    } catch (ReflectiveOperationException e) {
      throw new IllegalStateException("SimCopy: cannot rebuild " + c.getName(), e);
    }
  }

  /** {@code create}'s instance of the captured values {@code args}. */
  private static Object create(java.lang.invoke.MethodHandle create, Object[] args) {
    try {
      return (Object) create.invokeExact(args);
    } catch (RuntimeException | Error e) {
      throw e;
    } catch (Throwable t) {
      throw new IllegalStateException(t);
    }
  }

  private Object lambda(Object o, Class<?> c) {
    Rebuild rb = REBUILD.get(c);
    if (rb.fields.length == 0) {
      done.put(o, o); // captures nothing: shared
      return o;
    }
    Constructor<?> k = rb.constructor;
    Object[] args = new Object[rb.fields.length];
    pending.put(o, new ArrayList<>());
    try {
      for (int i = 0; i < args.length; i++) args[i] = noPending(copy(rb.fields[i].get(o)));
      Object n = rb.create != null ? create(rb.create, args) : k.newInstance(args);
      done.put(o, n);
      for (Runnable r : pending.remove(o)) r.run();
      return n;
    } catch (ReflectiveOperationException e) {
      throw new IllegalStateException("SimCopy: cannot rebuild " + c.getName(), e);
    }
  }
}
