package hmmemu.sim;

import hmmemu.protocol.model.ClassCache;
import java.lang.invoke.MethodHandle;
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
 * hash code); immutable values (strings, boxed primitives, enums, classes, value records, protobuf messages, classes
 * proven immutable, records and immutable JDK collections whose contents are all such values, and frozen instances of
 * {@link hmmemu.protocol.model.Frozen} classes, such as the checker's ended invalidations) are shared. How each
 * class is copied is decided once ({@link CopyPlan}); the originals' copies are kept in an open-addressing identity
 * table ({@link CopyIdentity}). Emulator-only host mechanism, not a kernel structure.
 */
public final class SimCopy {
  private static final sun.misc.Unsafe U = CopyPlan.U;
  private static final int SHARED = CopyPlan.SHARED, ARRAY = CopyPlan.ARRAY, LAMBDA = CopyPlan.LAMBDA,
      MAP = CopyPlan.MAP, SET = CopyPlan.SET, REFUSED = CopyPlan.REFUSED, RECORD = CopyPlan.RECORD,
      IMMUTABLE_HASHED = CopyPlan.IMMUTABLE_HASHED, IMMUTABLE_LIST = CopyPlan.IMMUTABLE_LIST, FROZEN = CopyPlan.FROZEN;
  /**
   * Originals to their copies. Sized from the last copy's count ({@link #lastSize}): a fixed 16,384 cleared a table
   * of 65,536 slots for every copy, a fifth of a short exhaustive search's CPU (docs/PERFORMANCE.md "Session 14").
   */
  private final CopyIdentity done = new CopyIdentity(lastSize);
  /** How many originals the last copy mapped (a size hint only, racy between threads: it never changes a copy). */
  private static volatile int lastSize = 1024;
  /** Records and lambdas being rebuilt (their components are being copied): where a reference to each must be patched. */
  private IdentityHashMap<Object, List<Runnable>> patches;
  /** The copy {@link #done} maps a record or lambda to while its components are being copied (it has none yet). */
  private static final Object PENDING = new Object();
  /**
   * Set when {@link #copy} returned an original being rebuilt (a cycle back to a record or lambda): its caller patches
   * the reference once the copy exists ({@link #patch}) or refuses ({@link #noPending}), and clears it.
   */
  private boolean back;
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
    long t0 = CopyStats.start();
    SimCopy c = new SimCopy();
    T out = (T) c.done(c.copy(root));
    if (CopyStats.ON) CopyStats.end(t0, c.objects);
    return out;
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

  /**
   * The records the caller declared values (shared, not copied), beyond those {@link CopyPlan} shares: the caller's
   * answers by class, through a direct-mapped cache ({@link #valuesOf}).
   */
  private ClassCache.OfInt valueClasses = NO_VALUES;
  private static final ClassCache.OfInt NO_VALUES = new ClassCache.OfInt(2, c -> 0);

  /** A caller's predicate and its answers cached by class. */
  private record Values(java.util.function.Predicate<Class<?>> values, ClassCache.OfInt cache) {}

  /** The last few predicates seen (one per call site of a method reference), replaced in turn; racy, never wrong. */
  private static final Values[] VALUES = new Values[8];
  private static int nextValues;

  /**
   * {@code values}' answers cached by class: asked once per class while the same predicate object comes (a method
   * reference without captures is one object per call site), where asking it per record cost a reflective call each
   * time (a scenario's predicate asks {@code Class.getEnclosingClass}, ~0.5 µs). The predicate must answer by class
   * alone.
   */
  private static ClassCache.OfInt valuesOf(java.util.function.Predicate<Class<?>> values) {
    Values[] vs = VALUES;
    for (Values v : vs) if (v != null && v.values == values) return v.cache;
    Values v = new Values(values, new ClassCache.OfInt(256, c -> values.test(c) ? 1 : 0));
    vs[nextValues++ & (vs.length - 1)] = v;
    return v.cache;
  }

  /** Whether the caller declared records of class {@code c} values. */
  private boolean declaredValue(Class<?> c) { return valueClasses.get(c) != 0; }

  /**
   * As {@link #copyOf(Object)}, sharing also the records of the classes {@code values} accepts (the caller knows them
   * to be values all the way down, e.g. a parsed scenario's steps, though their components are lists).
   */
  @SuppressWarnings("unchecked")
  public static <T> T copyOf(T root, java.util.function.Predicate<Class<?>> values) {
    long t0 = CopyStats.start();
    SimCopy c = new SimCopy();
    c.valueClasses = valuesOf(values);
    T out = (T) c.done(c.copy(root));
    if (CopyStats.ON) CopyStats.end(t0, c.objects);
    return out;
  }

  /** The copy of {@code o}: itself when shared, its copy when met before, else a new copy (see the class comment). */
  private Object copy(Object o) {
    if (o == null) return null;
    Class<?> c = o.getClass();
    CopyPlan p = CopyPlan.of(c);
    int how = p.how;
    if (how == SHARED || (how == RECORD && declaredValue(c))) return o;
    if (how == FROZEN && ((hmmemu.protocol.model.Frozen) o).freezeForCopy()) return o; // never changed again by either world
    int at = done.slot(o);
    if (at >= 0) {
      Object d = done.at(at);
      if (d != PENDING) return d;
      back = true; // a record or lambda being rebuilt: the caller patches it
      return o;
    }
    switch (how) {
      case ARRAY: counted(o); return array(o, c, at);
      case LAMBDA: counted(o); return lambda(o, c, at);
      case RECORD:
        if (p.getters == null) throw new UnsupportedOperationException("SimCopy: cannot rebuild " + c.getName());
        if (p.mayShare && shareable(o, p, DEPTH)) {
          done.putAt(at, o, o);
          if (CopyStats.CLASSES) CopyStats.checkedShared(o);
          return o;
        }
        counted(o);
        return record(o, p, at);
      case IMMUTABLE_HASHED:
        if (shareable(o, p, DEPTH)) {
          done.putAt(at, o, o);
          if (CopyStats.CLASSES) CopyStats.checkedShared(o);
          return o;
        }
        counted(o);
        return immutableHashed(o);
      case IMMUTABLE_LIST:
        if (shareable(o, p, DEPTH)) {
          done.putAt(at, o, o);
          if (CopyStats.CLASSES) CopyStats.checkedShared(o);
          return o;
        }
        break;
      case MAP: counted(o); return map((Map<?, ?>) o, c, at);
      case SET: counted(o); return set((Collection<?>) o, c, at);
      case REFUSED:
        throw new UnsupportedOperationException("SimCopy: cannot copy a " + c.getName() + " (identity-hashed layout)");
      default: break;
    }
    counted(o);
    Object n;
    try {
      n = U.allocateInstance(c);
    } catch (InstantiationException e) {
      throw new IllegalStateException(e);
    }
    done.putAt(at, o, n);
    long[] words = p.words;
    char[] kinds = p.kinds;
    for (int i = 0; i < words.length; i++) {
      long off = words[i];
      switch (kinds[i]) {
        case 'J' -> U.putLong(n, off, U.getLong(o, off));
        case 'I' -> U.putInt(n, off, U.getInt(o, off));
        case 'L' -> U.putObject(n, off, U.getObject(o, off)); // null or an immutable value: shared
        case 'Z' -> U.putBoolean(n, off, U.getBoolean(o, off));
        case 'B' -> U.putByte(n, off, U.getByte(o, off));
        case 'S' -> U.putShort(n, off, U.getShort(o, off));
        case 'C' -> U.putChar(n, off, U.getChar(o, off));
        case 'F' -> U.putFloat(n, off, U.getFloat(o, off));
        default -> U.putDouble(n, off, U.getDouble(o, off));
      }
    }
    for (long off : p.refs) {
      Object v = U.getObject(o, off);
      if (v == null) continue; // the new instance holds null already
      Object cv;
      if (CopyStats.CLASSES) { // measurement only: the objects copied below are counted as held by class c
        Class<?> outer = via;
        via = c;
        cv = copy(v);
        via = outer;
      } else {
        cv = copy(v);
      }
      U.putObject(n, off, cv);
      if (back) patch(v, () -> U.putObject(n, off, done.get(v)));
    }
    return n;
  }

  /** Counts {@code o} as copied (and by class with {@code -Dhmm-emu.copy.classes=true}, {@link CopyStats#count}). */
  private void counted(Object o) {
    objects++;
    if (CopyStats.CLASSES) CopyStats.count(o, via);
  }

  /** The plain object's class whose fields are being copied ({@link CopyStats#CLASSES} only), or null. */
  private Class<?> via;

  /** How deep {@link #shareable} looks into a record's or an immutable collection's values before it copies. */
  private static final int DEPTH = 4;

  /**
   * Whether {@code o} (a record or an immutable JDK collection: final fields only) holds only values that are
   * themselves shared or such shareable containers, {@code depth} levels down at most: then nothing in it can change
   * and it is shared rather than copied. A value already mapped to a copy, or being rebuilt, is not shareable.
   */
  private boolean shareable(Object o, CopyPlan p, int depth) {
    if (depth == 0) return false;
    if (p.how == RECORD) {
      MethodHandle[] get = p.getters;
      boolean[] ref = p.reference;
      for (int i = 0; i < get.length; i++) {
        if (ref[i] && !shareableValue(get(get[i], o), depth)) return false;
      }
      return true;
    }
    if (o instanceof Map<?, ?> m) {
      for (Map.Entry<?, ?> e : m.entrySet()) {
        if (!shareableValue(e.getKey(), depth) || !shareableValue(e.getValue(), depth)) return false;
      }
      return true;
    }
    for (Object x : (Collection<?>) o) if (!shareableValue(x, depth)) return false;
    return true;
  }

  /** Whether the value {@code v} can stay shared inside a shared container ({@link #shareable}). */
  private boolean shareableValue(Object v, int depth) {
    if (v == null) return true;
    Class<?> c = v.getClass();
    CopyPlan p = CopyPlan.of(c);
    int how = p.how;
    if (how == SHARED || (how == RECORD && declaredValue(c))) return true;
    if (how != RECORD && how != IMMUTABLE_LIST && how != IMMUTABLE_HASHED || (how == RECORD && !p.mayShare)) {
      return false;
    }
    int at = done.slot(v);
    if (at >= 0) return done.at(at) == v; // met before in this copy: shared only if it was found shareable then
    return shareable(v, p, depth - 1);
  }

  /** The value {@code getter} reads from {@code o}. */
  private static Object get(MethodHandle getter, Object o) {
    try {
      return (Object) getter.invokeExact(o);
    } catch (RuntimeException | Error e) {
      throw e;
    } catch (Throwable t) {
      throw new IllegalStateException(t);
    }
  }

  /** A record that holds more than values: rebuilt through its canonical constructor from its copied components. */
  private Object record(Object o, CopyPlan p, int at) {
    MethodHandle[] get = p.getters;
    Object[] args = new Object[get.length];
    done.putAt(at, o, PENDING);
    for (int i = 0; i < args.length; i++) {
      Object v = get(get[i], o);
      args[i] = p.reference[i] ? noPending(copy(v)) : v;
    }
    Object n = create(p.create, args);
    done.put(o, n);
    patched(o);
    return n;
  }

  @SuppressWarnings({"unchecked", "rawtypes"})
  private Object map(Map<?, ?> m, Class<?> c, int at) {
    Map n = c == java.util.HashMap.class ? new java.util.HashMap<>(Math.max(16, m.size() * 2))
        : c == java.util.LinkedHashMap.class ? new java.util.LinkedHashMap<>(Math.max(16, m.size() * 2))
        : c == IdentityHashMap.class ? new IdentityHashMap<>(m.size()) : new ConcurrentHashMap<>(m.size());
    done.putAt(at, m, n);
    for (Map.Entry<?, ?> e : m.entrySet()) n.put(noPending(copy(e.getKey())), noPending(copy(e.getValue())));
    return n;
  }

  @SuppressWarnings({"unchecked", "rawtypes"})
  private Object set(Collection<?> s, Class<?> c, int at) {
    Collection n = c == java.util.HashSet.class ? new java.util.HashSet<>(Math.max(16, s.size() * 2))
        : new java.util.LinkedHashSet<>(Math.max(16, s.size() * 2));
    done.putAt(at, s, n);
    for (Object x : s) n.add(noPending(copy(x)));
    return n;
  }

  /** An array's copy: a primitive array's clone; a reference array's clone with each copied value put in its slot. */
  private Object array(Object o, Class<?> c, int at) {
    int len = Array.getLength(o);
    slots += len;
    longest = Math.max(longest, len);
    if (c.getComponentType().isPrimitive()) {
      Object n = o instanceof long[] a ? a.clone() : o instanceof int[] a ? a.clone() : o instanceof boolean[] a
          ? a.clone() : o instanceof byte[] a ? a.clone() : o instanceof short[] a ? a.clone() : o instanceof char[] a
          ? a.clone() : o instanceof float[] a ? a.clone() : ((double[]) o).clone();
      done.putAt(at, o, n);
      return n;
    }
    Object[] a = (Object[]) o;
    Object[] n = a.clone(); // the same component type and the originals' slots; the copied ones are overwritten
    done.putAt(at, o, n);
    for (int i = 0; i < a.length; i++) {
      Object v = a[i];
      if (v == null) continue; // a sparse array's empty slots (a folio table's) are null in the clone already
      Object cv = copy(v);
      if (cv != v) {
        n[i] = cv;
      } else if (back) { // a record or lambda being rebuilt: its copy goes there once it exists
        final int index = i;
        patch(v, () -> n[index] = done.get(v));
      }
    }
    return n;
  }

  /** Clears {@link #back} and patches {@code v}'s reference with {@code r} once {@code v}'s copy exists. */
  private void patch(Object v, Runnable r) {
    back = false;
    if (patches == null) patches = new IdentityHashMap<>();
    patches.computeIfAbsent(v, k -> new ArrayList<>()).add(r);
  }

  /** Runs the patches waiting for {@code o}'s copy (now in {@link #done}). */
  private void patched(Object o) {
    List<Runnable> ps = patches == null ? null : patches.remove(o);
    if (ps != null) for (Runnable r : ps) r.run();
  }

  /** A reference to a lambda still being rebuilt, where it cannot be patched later (a hash key or value). */
  private Object noPending(Object v) {
    if (back) {
      back = false;
      throw new UnsupportedOperationException("SimCopy: a cycle through a lambda (" + v.getClass().getName() + ")");
    }
    return v;
  }

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

  /** A lambda (hidden class): rebuilt through its private constructor from its copied captured values. */
  private Object lambda(Object o, Class<?> c, int at) {
    Rebuild rb = REBUILD.get(c);
    if (rb.fields.length == 0) {
      done.putAt(at, o, o); // captures nothing: shared
      return o;
    }
    Constructor<?> k = rb.constructor;
    Object[] args = new Object[rb.fields.length];
    done.putAt(at, o, PENDING);
    try {
      for (int i = 0; i < args.length; i++) args[i] = noPending(copy(rb.fields[i].get(o)));
      Object n = rb.create != null ? create(rb.create, args) : k.newInstance(args);
      done.put(o, n);
      patched(o);
      return n;
    } catch (ReflectiveOperationException e) {
      throw new IllegalStateException("SimCopy: cannot rebuild " + c.getName(), e);
    }
  }
}
