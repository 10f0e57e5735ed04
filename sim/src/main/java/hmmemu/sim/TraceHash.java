package hmmemu.sim;

import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.reflect.RecordComponent;
import java.util.List;

/**
 * A 64-bit hash of a run's full trace: every delivered trace event with its node, vector clock, model time and a
 * canonical encoding of the event record (its class name and components, recursively: numbers, booleans, strings,
 * enum names, lists and nested records), folded in order. The same seed gives the same hash on any JVM (no identity
 * hash codes, no {@code toString} formats of JDK classes). Not a kernel structure.
 */
public final class TraceHash {
  private static final long P1 = 0x9E3779B97F4A7C15L;
  private static final long P2 = 0xC2B2AE3D27D4EB4FL;

  private static final ClassValue<MethodHandle[]> COMPONENTS = new ClassValue<>() {
    @Override
    protected MethodHandle[] computeValue(Class<?> type) {
      if (!type.isRecord()) return null;
      RecordComponent[] rc = type.getRecordComponents();
      MethodHandle[] out = new MethodHandle[rc.length];
      MethodHandles.Lookup lookup = MethodHandles.publicLookup();
      for (int i = 0; i < rc.length; i++) {
        try {
          out[i] = lookup.unreflect(rc[i].getAccessor()).asType(java.lang.invoke.MethodType.methodType(Object.class, Object.class));
        } catch (IllegalAccessException e) {
          throw new IllegalStateException("trace record " + type.getName() + " is not public", e);
        }
      }
      return out;
    }
  };

  private static final ClassValue<Long> NAMES = new ClassValue<>() {
    @Override
    protected Long computeValue(Class<?> type) { return stringHash(type.getName()); }
  };

  private long h = 0x243F6A8885A308D3L;

  /** The hash so far. */
  public long value() { return h; }

  private void mix(long v) {
    h = Long.rotateLeft((h ^ v) * P1, 29) * P2;
  }

  /** Folds one delivered trace event. */
  public void add(int node, long[] vc, long atMicros, Object event) {
    mix(node);
    for (long x : vc) mix(x);
    mix(atMicros);
    record(event, COMPONENTS.get(event.getClass()));
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
      mix(stringHash(e.name()));
    } else if (o instanceof List<?> list) {
      mix(list.size());
      for (Object x : list) value(x);
    } else if (o instanceof long[] a) {
      mix(a.length);
      for (long x : a) mix(x);
    } else if (o instanceof Number n) {
      mix(Double.doubleToLongBits(n.doubleValue()));
    } else {
      MethodHandle[] components = COMPONENTS.get(o.getClass());
      if (components != null) record(o, components);
      else mix(stringHash(o.toString()));
    }
  }

  private void record(Object o, MethodHandle[] components) {
    if (components == null) {
      mix(stringHash(o.toString()));
      return;
    }
    mix(NAMES.get(o.getClass()));
    try {
      for (MethodHandle mh : components) value((Object) mh.invokeExact(o));
    } catch (Throwable t) {
      throw new IllegalStateException("cannot hash " + o.getClass().getName(), t);
    }
  }

  private static long stringHash(String s) {
    long x = 0xCBF29CE484222325L;
    for (int i = 0; i < s.length(); i++) x = (x ^ s.charAt(i)) * 0x100000001B3L;
    return x;
  }

  /** The hash as 16 hex digits. */
  public static String hex(long v) { return String.format("%016x", v); }
}
