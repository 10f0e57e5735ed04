package hmmemu.sim;

import hmmemu.protocol.model.ClassCache;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.lang.reflect.Constructor;
import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.lang.reflect.RecordComponent;
import java.util.ArrayList;
import java.util.Collection;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * How {@link SimCopy} copies the instances of one class, decided once per class and read through a direct-mapped
 * cache ({@link ClassCache}): shared (immutable), an array, a lambda, a hashed map or set, a record, an immutable JDK
 * collection, shared once frozen ({@link hmmemu.protocol.model.Frozen}), or field by field (the field offsets, the references whose declared type is immutable read as plain
 * words). Immutability is proven per class: the JDK's value classes, enums, records and classes whose every instance
 * field (superclasses included) is final and of a primitive or an immutable final type; a class with any other field
 * is copied. Emulator-only host mechanism, not a kernel structure.
 */
final class CopyPlan {
  /** How instances are copied. */
  static final int SHARED = 0, ARRAY = 1, LAMBDA = 2, MAP = 3, SET = 4, REFUSED = 5, PLAIN = 6, RECORD = 7,
      IMMUTABLE_HASHED = 8, IMMUTABLE_LIST = 9, FROZEN = 10;

  static final sun.misc.Unsafe U = unsafe();

  final int how;
  /** PLAIN: the offsets of reference fields whose values are copied. */
  final long[] refs;
  /** PLAIN: the offsets of the other fields and their kinds ('J', 'I', ...; 'L' a reference to an immutable value). */
  final long[] words;
  final char[] kinds;
  /** RECORD: each component's getter ({@code (Object) -> Object}), whether it is a reference; the constructor. */
  final MethodHandle[] getters;
  final boolean[] reference;
  final MethodHandle create;
  /** RECORD: whether an instance may hold only shared values (no component is declared an array, which never is). */
  final boolean mayShare;

  /** A plan that never shares a record instance (see {@link #mayShare}). */
  private CopyPlan(int how, long[] refs, long[] words, char[] kinds, MethodHandle[] getters, boolean[] reference,
      MethodHandle create) {
    this(how, refs, words, kinds, getters, reference, create, false);
  }

  /** A plan of the given parts (null where the way of copying needs none). */
  private CopyPlan(int how, long[] refs, long[] words, char[] kinds, MethodHandle[] getters, boolean[] reference,
      MethodHandle create, boolean mayShare) {
    this.how = how;
    this.refs = refs;
    this.words = words;
    this.kinds = kinds;
    this.getters = getters;
    this.reference = reference;
    this.create = create;
    this.mayShare = mayShare;
  }

  private static final ClassCache<CopyPlan> PLANS = new ClassCache<>(512, CopyPlan::compute);

  /** The plan of class {@code c}. */
  static CopyPlan of(Class<?> c) { return PLANS.get(c); }

  /** {@code sun.misc.Unsafe}'s instance (read reflectively: no JVM flag needed). */
  private static sun.misc.Unsafe unsafe() {
    try {
      Field f = sun.misc.Unsafe.class.getDeclaredField("theUnsafe");
      f.setAccessible(true);
      return (sun.misc.Unsafe) f.get(null);
    } catch (ReflectiveOperationException e) {
      throw new ExceptionInInitializerError(e);
    }
  }

  /** The plan of class {@code c}, computed once ({@link #of} caches it). */
  private static CopyPlan compute(Class<?> c) {
    int how = how(c);
    if (how == PLAIN || how == IMMUTABLE_LIST || how == FROZEN) return plain(c, how);
    if (how == RECORD) return record(c);
    return new CopyPlan(how, null, null, null, null, null, null);
  }

  /** How instances of {@code c} are copied ({@link #SHARED} ...). */
  private static int how(Class<?> c) {
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
    if (n.equals("java.util.ImmutableCollections$List12") || n.equals("java.util.ImmutableCollections$ListN")
        || n.equals("java.util.ImmutableCollections$Set12") || n.equals("java.util.ImmutableCollections$Map1")) {
      return IMMUTABLE_LIST;
    }
    if (n.equals("java.util.WeakHashMap") || n.equals("java.util.Hashtable")) return REFUSED;
    // session 23 (xfreeze): shared per instance once frozen (the class's contract: hmmemu.protocol.model.Frozen), else
    // copied field by field as PLAIN
    if (hmmemu.protocol.model.Frozen.class.isAssignableFrom(c)) return FROZEN;
    return PLAIN;
  }

  /** Whether {@code c} is a JDK hash table whose layout depends on its keys' hash codes (rebuilt, not copied). */
  private static boolean hashed(Class<?> c) {
    return c == java.util.HashMap.class || c == java.util.LinkedHashMap.class || c == java.util.HashSet.class
        || c == java.util.LinkedHashSet.class || c == IdentityHashMap.class || c == ConcurrentHashMap.class;
  }

  /** Whether instances of {@code c} are never changed after construction (shared, not copied). */
  static boolean immutable(Class<?> c) { return known(c) || finalFields(c, new ArrayList<>()); }

  /** The classes shared before this plan (session 8's list): JDK values, enums, value records, protobuf messages... */
  private static boolean known(Class<?> c) {
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
   * Whether a record holds only values (each component a primitive or of a type {@link #known} shares): shared. A
   * record with any other component (an array, a collection, a future, an interface) is copied, or shared when its
   * components' values are all shared ({@link SimCopy}'s check per instance).
   */
  private static boolean valueRecord(Class<?> c) {
    for (RecordComponent rc : c.getRecordComponents()) {
      Class<?> t = rc.getType();
      if (!t.isPrimitive() && (t == c || !known(t))) return false;
    }
    return true;
  }

  /**
   * Whether every instance field of {@code c} (its superclasses' too) is final and holds a primitive or a value no
   * copy changes (an enum, or an instance of a final class that is itself {@link #known} or proven so): nothing in an
   * instance can change after its constructor. {@code open} holds the classes being decided (a class reached again
   * through its fields is not proven).
   */
  private static boolean finalFields(Class<?> c, List<Class<?>> open) {
    if (c.isArray() || c.isHidden() || c.isInterface() || c.isRecord() || c.isPrimitive()) return false;
    if (open.contains(c) || open.size() > 8) return false;
    open.add(c);
    try {
      for (Class<?> x = c; x != null && x != Object.class; x = x.getSuperclass()) {
        for (Field f : x.getDeclaredFields()) {
          int m = f.getModifiers();
          if (Modifier.isStatic(m)) continue;
          if (!Modifier.isFinal(m)) return false;
          Class<?> t = f.getType();
          if (t.isPrimitive() || t.isEnum()) continue;
          if (!Modifier.isFinal(t.getModifiers()) || t.isArray() || t.isHidden()) return false;
          if (!known(t) && !finalFields(t, open)) return false;
        }
      }
      return true;
    } finally {
      open.remove(open.size() - 1);
    }
  }

  /** Whether a field declared {@code t} always holds null or a shared value (read and written as a plain word). */
  private static boolean sharedField(Class<?> t) {
    return t.isEnum() || (Modifier.isFinal(t.getModifiers()) && !t.isArray() && !t.isHidden() && immutable(t));
  }

  /** A field-by-field plan: the copied references' offsets; the other fields' offsets and kinds. */
  private static CopyPlan plain(Class<?> c, int how) {
    List<Long> refs = new ArrayList<>();
    List<Long> words = new ArrayList<>();
    StringBuilder kinds = new StringBuilder();
    for (Class<?> x = c; x != null && x != Object.class; x = x.getSuperclass()) {
      for (Field f : x.getDeclaredFields()) {
        if (Modifier.isStatic(f.getModifiers())) continue;
        long off = U.objectFieldOffset(f);
        Class<?> t = f.getType();
        if (!t.isPrimitive() && !sharedField(t)) {
          refs.add(off);
          continue;
        }
        words.add(off);
        kinds.append(!t.isPrimitive() ? 'L' : t == long.class ? 'J' : t == int.class ? 'I' : t == boolean.class ? 'Z'
            : t == byte.class ? 'B' : t == short.class ? 'S' : t == char.class ? 'C' : t == float.class ? 'F' : 'D');
      }
    }
    return new CopyPlan(how, refs.stream().mapToLong(Long::longValue).toArray(),
        words.stream().mapToLong(Long::longValue).toArray(), kinds.toString().toCharArray(), null, null, null);
  }

  /** A record's plan: a getter per component field and the canonical constructor taking the components as an array. */
  private static CopyPlan record(Class<?> c) {
    RecordComponent[] rcs = c.getRecordComponents();
    MethodHandle[] get = new MethodHandle[rcs.length];
    boolean[] ref = new boolean[rcs.length];
    Class<?>[] types = new Class<?>[rcs.length];
    boolean mayShare = true;
    MethodHandles.Lookup lookup = MethodHandles.lookup();
    try {
      for (int i = 0; i < rcs.length; i++) {
        types[i] = rcs[i].getType();
        ref[i] = !types[i].isPrimitive();
        if (types[i].isArray()) mayShare = false;
        Field f = c.getDeclaredField(rcs[i].getName()); // a record's component field: what its accessor returns
        f.setAccessible(true);
        get[i] = lookup.unreflectGetter(f).asType(MethodType.methodType(Object.class, Object.class));
      }
      Constructor<?> k = c.getDeclaredConstructor(types);
      k.setAccessible(true);
      MethodHandle create = lookup.unreflectConstructor(k).asSpreader(Object[].class, rcs.length)
          .asType(MethodType.methodType(Object.class, Object[].class));
      return new CopyPlan(RECORD, null, null, null, get, ref, create, mayShare);
    } catch (ReflectiveOperationException | RuntimeException e) {
      // no handles (a record whose fields this module cannot read): shared if its caller declares it a value, else
      // refused when met (as session 8's reflective rebuild refused it)
      return new CopyPlan(RECORD, null, null, null, null, null, null);
    }
  }
}
