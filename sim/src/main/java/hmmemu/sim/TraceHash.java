package hmmemu.sim;

import hmmemu.protocol.model.ClassCache;
import hmmemu.protocol.msg.HmmProtocol;
import hmmemu.protocol.msg.PageWords;
import java.lang.invoke.LambdaMetafactory;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.lang.reflect.RecordComponent;
import java.util.List;
import java.util.function.Function;
import java.util.function.Predicate;
import java.util.function.ToLongFunction;

/**
 * A 64-bit hash of a run's full trace: every delivered trace event with its node, vector clock, model time and a
 * canonical encoding of the event record (its class name and components, recursively: numbers, booleans, strings,
 * enum names, lists and nested records), folded in order. The same seed gives the same hash on any JVM (no identity
 * hash codes, no {@code toString} formats of JDK classes). Not a kernel structure.
 */
public final class TraceHash {
  private static final long P1 = 0x9E3779B97F4A7C15L;
  private static final long P2 = 0xC2B2AE3D27D4EB4FL;

  /**
   * How a record component is read and folded, chosen once per record type from the component's declared type: a
   * long, an int, a boolean (no boxing), an enum (its constants' name hashes looked up once), a String, or anything
   * else (read as an object and folded by {@link #value}). Each kind folds exactly what {@link #value} folds for the
   * value it reads, so the hash does not depend on which kind reads a component.
   */
  private static final class Component {
    static final int LONG = 0, INT = 1, BOOLEAN = 2, OBJECT = 3, ENUM = 4, STRING = 5;
    final int kind;
    final ToLongFunction<Object> asLong;
    final Predicate<Object> asBoolean;
    final Function<Object, Object> asObject;
    final long[] enumNames;
    /**
     * A String component's recent strings and their hashes, by identity hash: such components mostly hold a few
     * literals (the same String objects: a PTE change's cause), so an identity hit skips the hashing. Shared by every
     * thread: each slot holds an immutable pair, replaced whole.
     */
    final StringHash[] recent = new StringHash[8];

    Component(int kind, ToLongFunction<Object> asLong, Predicate<Object> asBoolean, Function<Object, Object> asObject,
        long[] enumNames) {
      this.kind = kind;
      this.asLong = asLong;
      this.asBoolean = asBoolean;
      this.asObject = asObject;
      this.enumNames = enumNames;
    }

    long hashOf(String s) {
      int slot = System.identityHashCode(s) & (recent.length - 1);
      StringHash l = recent[slot];
      if (l != null && l.s == s) return l.h;
      long h = stringHash(s);
      recent[slot] = new StringHash(s, h);
      return h;
    }
  }

  /** A string and its {@link #stringHash}. */
  private static final class StringHash {
    final String s;
    final long h;

    StringHash(String s, long h) {
      this.s = s;
      this.h = h;
    }
  }

  /**
   * A record type's name hash and its component readers, in declaration order; {@code direct} is the record's case
   * in {@link TraceHashDirect} and {@code input} its case in {@link TraceHashInputDirect} (0: none, folded through
   * its readers).
   */
  private record Shape(long name, Component[] components, int direct, int input) {}

  /**
   * A record type's shape (null: not a record), through a direct-mapped cache by class ({@link ClassCache}): one load
   * and one compare per folded record where ClassValue.get costs several (about 4 % of an explored run's CPU).
   */
  private static final ClassCache<Shape> SHAPES = new ClassCache<>(256, type -> {
    if (!type.isRecord()) return null;
    RecordComponent[] rc = type.getRecordComponents();
    Component[] out = new Component[rc.length];
    for (int i = 0; i < rc.length; i++) out[i] = component(type, rc[i]);
    return new Shape(stringHash(type.getName()), out, TraceHashDirect.caseOf(type),
        TraceHashInputDirect.caseOf(type));
  });

  /** {@code SHAPES.get(type)}. */
  private static Shape shapeOf(Class<?> type) { return SHAPES.get(type); }

  /**
   * A reader of one component: a lambda made by LambdaMetafactory around the accessor (the JIT inlines it like a
   * plain call, where a MethodHandle held in an array is invoked through its LambdaForm and boxes its result).
   */
  @SuppressWarnings("unchecked")
  private static Component component(Class<?> type, RecordComponent rc) {
    try {
      MethodHandles.Lookup lookup = MethodHandles.lookup();
      MethodHandle mh = MethodHandles.publicLookup().unreflect(rc.getAccessor());
      Class<?> t = rc.getType();
      if (t == long.class || t == int.class) {
        ToLongFunction<Object> f = (ToLongFunction<Object>) LambdaMetafactory.metafactory(lookup, "applyAsLong",
            MethodType.methodType(ToLongFunction.class), MethodType.methodType(long.class, Object.class), mh,
            MethodType.methodType(long.class, type)).getTarget().invoke();
        return new Component(t == long.class ? Component.LONG : Component.INT, f, null, null, null);
      }
      if (t == boolean.class) {
        Predicate<Object> f = (Predicate<Object>) LambdaMetafactory.metafactory(lookup, "test",
            MethodType.methodType(Predicate.class), MethodType.methodType(boolean.class, Object.class), mh,
            MethodType.methodType(boolean.class, type)).getTarget().invoke();
        return new Component(Component.BOOLEAN, null, f, null, null);
      }
      Function<Object, Object> f = (Function<Object, Object>) LambdaMetafactory.metafactory(lookup, "apply",
          MethodType.methodType(Function.class), MethodType.methodType(Object.class, Object.class), mh,
          MethodType.methodType(t.isPrimitive() ? MethodType.methodType(t).wrap().returnType() : t, type))
          .getTarget().invoke();
      // An enum type's values are its constants (getDeclaringClass() is the type itself), a String's are Strings.
      if (t.isEnum()) return new Component(Component.ENUM, null, null, f, ENUM_NAMES.get(t));
      if (t == String.class) return new Component(Component.STRING, null, null, f, null);
      return new Component(Component.OBJECT, null, null, f, null);
    } catch (IllegalAccessException e) {
      throw new IllegalStateException("trace record " + type.getName() + " is not public", e);
    } catch (Throwable e) {
      throw new IllegalStateException("cannot read " + type.getName() + "." + rc.getName(), e);
    }
  }

  private static final ClassValue<long[]> ENUM_NAMES = new ClassValue<>() {
    @Override
    protected long[] computeValue(Class<?> type) {
      Object[] constants = type.getEnumConstants();
      long[] out = new long[constants.length];
      for (int i = 0; i < constants.length; i++) out[i] = stringHash(((Enum<?>) constants[i]).name());
      return out;
    }
  };

  private long h = 0x243F6A8885A308D3L;

  /** The hash so far. */
  public long value() { return h; }

  /**
   * Sets the hash so far to {@code value} (a value this hash had before, in a run that folded the same inputs: a
   * search run that skipped folding a replayed prefix, {@link Sim#resumeInputs}). Emulator-only host mechanism.
   */
  void set(long value) { h = value; }

  private void mix(long v) {
    h = Long.rotateLeft((h ^ v) * P1, 29) * P2;
  }

  /** {@link #mix} of {@code v} into the hash {@code h}, as a function (for {@link TraceHashDirect}). */
  static long mix(long h, long v) {
    return Long.rotateLeft((h ^ v) * P1, 29) * P2;
  }

  /** What {@link #value} folds for a String component's value (null included), through its recent strings. */
  static long stringOf(Object component, String s) {
    return s == null ? 0x5A5A : ((Component) component).hashOf(s);
  }

  /** What {@link #value} folds for an enum value of type {@code names}' enum (null included). */
  static long enumOf(long[] names, Enum<?> e) {
    return e == null ? 0x5A5A : names[e.ordinal()];
  }

  /** The name hashes of an enum type's constants, by ordinal. */
  static long[] enumNames(Class<?> type) {
    return ENUM_NAMES.get(type);
  }

  /** Folds a list (or any component value) into the hash {@code h} exactly as {@link #value} does. */
  static long valueOf(long h, Object o) {
    TraceHash t = new TraceHash();
    t.h = h;
    t.value(o);
    return t.h;
  }

  /** Folds one delivered trace event. */
  public void add(int node, long[] vc, long atMicros, Object event) {
    mix(node);
    for (long x : vc) mix(x);
    mix(atMicros);
    Shape shape = shapeOf(event.getClass());
    if (shape != null && shape.direct() != 0) {
      h = TraceHashDirect.fold(h, shape.direct(), shape.name(), event, shape.components());
    } else {
      record(event, shape);
    }
  }

  /**
   * The fold of one record by its component readers ({@code readers}) or by its {@link TraceHashDirect} case, from
   * hash {@code h}: the two must agree for every record with a case (TraceHashDirectTest).
   */
  static long foldForTest(long h, Object event, boolean readers) {
    TraceHash t = new TraceHash();
    t.h = h;
    Shape shape = shapeOf(event.getClass());
    if (!readers && shape.direct() == 0) throw new IllegalArgumentException("no direct case: " + event.getClass());
    if (readers) t.record(event, shape);
    else t.h = TraceHashDirect.fold(t.h, shape.direct(), shape.name(), event, shape.components());
    return t.h;
  }

  /**
   * Folds one input of a node's core (a message, or null for a tick) under {@code tag}: {@link Sim#stateKey}. A
   * message with a {@link TraceHashInputDirect} case is folded by it; any other as {@link #inputByReaders} folds it.
   * The trace hash ({@link #add}) never comes here.
   */
  public void addInput(int tag, Object input) {
    mix(tag);
    if (input == null) {
      mix(0x5A5A); // as value(null): a tick
      return;
    }
    Shape shape = shapeOf(input.getClass());
    if (shape != null && shape.input() != 0) h = TraceHashInputDirect.fold(h, shape.input(), shape.name(), input);
    else inputByReaders(input);
  }

  /**
   * An input (after its tag) through the component readers: a {@link HmmProtocol.PageInfo} (an inspection's reply,
   * 512 words a page) by {@link #pageInfo}, anything else by {@link #value}. What {@link TraceHashInputDirect}'s
   * cases must equal.
   */
  private void inputByReaders(Object input) {
    if (input instanceof HmmProtocol.PageInfo p) pageInfo(p);
    else value(input);
  }

  /**
   * The state key's fold of one input under {@code tag} from hash {@code h}, by the component readers
   * ({@code readers}) or by {@link #addInput} with the input's {@link TraceHashInputDirect} case: the two must agree
   * for every message with a case (TraceHashDirectTest).
   */
  static long foldInputForTest(long h, int tag, Object input, boolean readers) {
    TraceHash t = new TraceHash();
    t.h = h;
    if (readers) {
      t.mix(tag);
      t.inputByReaders(input);
    } else {
      if (shapeOf(input.getClass()).input() == 0) throw new IllegalArgumentException("no input case: " + input);
      t.addInput(tag, input);
    }
    return t.h;
  }

  private void value(Object o) {
    if (o == null) {
      mix(0x5A5A);
    } else if (o instanceof Long l) {
      mix(l);
    } else if (o instanceof Integer i) {
      mix(i);
    } else if (o instanceof Boolean b) {
      mix(b ? 0xB1 : 0xB0);
    } else if (o instanceof String s) {
      mix(stringHash(s));
    } else if (o instanceof Enum<?> e) {
      mix(ENUM_NAMES.get(e.getDeclaringClass())[e.ordinal()]); // stringHash(e.name()), computed once per constant
    } else if (o instanceof List<?> list) {
      int n = list.size();
      mix(n);
      if (list instanceof java.util.RandomAccess) {
        for (int i = 0; i < n; i++) value(list.get(i)); // the same elements in order, without an iterator's layers
      } else {
        for (Object x : list) value(x);
      }
    } else if (o instanceof long[] a) {
      mix(a.length);
      for (long x : a) mix(x);
    } else if (o instanceof Number n) {
      mix(Double.doubleToLongBits(n.doubleValue()));
    } else {
      Shape shape = shapeOf(o.getClass());
      if (shape != null) record(o, shape);
      else mix(stringHash(o.toString()));
    }
  }

  private void record(Object o, Shape shape) {
    if (shape == null) {
      mix(stringHash(o.toString()));
      return;
    }
    mix(shape.name());
    for (Component c : shape.components()) component(c, o);
  }

  /** Folds component {@code c} of record {@code o}. */
  private void component(Component c, Object o) {
    switch (c.kind) {
      case Component.LONG, Component.INT -> mix(c.asLong.applyAsLong(o)); // as value(Long) / value(Integer)
      case Component.BOOLEAN -> mix(c.asBoolean.test(o) ? 0xB1 : 0xB0); // as value(Boolean)
      case Component.ENUM -> { // as value(Enum) and value(null)
        Object v = c.asObject.apply(o);
        mix(v == null ? 0x5A5A : c.enumNames[((Enum<?>) v).ordinal()]);
      }
      case Component.STRING -> { // as value(String) and value(null)
        Object v = c.asObject.apply(o);
        mix(v == null ? 0x5A5A : c.hashOf((String) v));
      }
      default -> value(c.asObject.apply(o));
    }
  }

  /**
   * PageInfo's words: the one component {@link #pageInfo} folds by its non-zero words (found by name, so no other is
   * skipped).
   */
  private static final int PAGE_WORDS = componentIndex(HmmProtocol.PageInfo.class, "words");

  private static int componentIndex(Class<?> type, String name) {
    RecordComponent[] rc = type.getRecordComponents();
    for (int i = 0; i < rc.length; i++) if (rc[i].getName().equals(name)) return i;
    throw new IllegalStateException(type + " has no component " + name);
  }

  /**
   * Emulator-only host mechanism (the state key): a PageInfo as {@link #record} folds it, every component through its
   * reader, except its words, which {@link #pageWords} folds. Equal PageInfos fold equal; PageInfos that differ in any
   * component fold differently but for the chance of a 64-bit collision, as with the serial fold of every word
   * (TraceHashInputTest).
   */
  private void pageInfo(HmmProtocol.PageInfo p) {
    Shape shape = shapeOf(HmmProtocol.PageInfo.class);
    mix(shape.name());
    Component[] cs = shape.components();
    for (int i = 0; i < cs.length; i++) {
      if (i != PAGE_WORDS) {
        component(cs[i], p);
        continue;
      }
      h = pageWords(h, p.words());
    }
  }

  /**
   * What {@link #pageInfo} folds for a PageInfo's words {@code w} into {@code h}: null, or the size and the non-zero
   * words ({@link #words}).
   */
  static long pageWords(long h, List<Long> w) {
    if (w == null) return mix(h, 0x5A5A);
    return words(mix(h, w.size()), w instanceof PageWords pw ? pw : PageWords.wrap(longs(w)));
  }

  /** A list's Longs as {@link #value} folds them (a null element as value(null)). */
  private static long[] longs(List<Long> w) {
    long[] out = new long[w.size()];
    int i = 0;
    for (Long x : w) out[i++] = x == null ? 0x5A5A : x;
    return out;
  }

  /**
   * A page's words folded by their non-zero words: each one's index and value, in increasing index order, one
   * {@link #mix} each (the size is mixed in before, {@link #pageWords}). Two pages of one size fold equal exactly when
   * their words are equal (but for the chance of a 64-bit collision): the indices of the non-zero words and their
   * values are the words. A page keeps a few non-zero words ({@link PageWords#stored}: a sparse page's pairs), so this
   * costs those few rather than 512 words (until session 17 each word went into one of four lanes of mixes).
   */
  private static long words(long h, PageWords w) {
    for (int k = 0, n = w.stored(); k < n; k++) {
      long v = w.storedWord(k);
      if (v != 0) h = mix(mix(h, w.storedIndex(k)), v);
    }
    return h;
  }

  private static long stringHash(String s) {
    long x = 0xCBF29CE484222325L;
    for (int i = 0; i < s.length(); i++) x = (x ^ s.charAt(i)) * 0x100000001B3L;
    return x;
  }

  /** The hash as 16 hex digits. */
  public static String hex(long v) { return String.format("%016x", v); }
}
