package hmmemu.protocol.trace;

import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.lang.reflect.Method;
import java.lang.reflect.RecordComponent;
import java.util.ArrayList;
import java.util.List;

/**
 * The fields of a trace event that counts may be filtered by (a scenario's {@code trace { CpuFaulted { kind = anon
 * } }}): the record components of few distinct values, i.e. enums, booleans, strings and ints (kinds, causes,
 * errnos, events, flags, device/mm/thread ids, iteration counts); never longs (addresses, pfns, request ids, values).
 * A count by field is keyed {@code Type.field=value}, e.g. {@code CpuFaulted.kind=anon}, {@code
 * PteChanged.state=DEVEXCL}, {@code DriverFaultHandled.errno=EBUSY}.
 *
 * <p>Emulator-only host mechanism. The invariant checker asks for the keys of every event it applies, so the
 * accessors are resolved once per event type (method handles, not Method.invoke) and the keys of enum and boolean
 * values and of small ints are built once and reused (issue 12: 8-11 % of a simulator run's CPU was spent here).
 */
public final class TraceFields {
  private TraceFields() {}

  /** Small non-negative int values whose keys are cached per field (ids, counts, iteration numbers). */
  private static final int CACHED_INTS = 64;
  private static final MethodType OBJECT_OF_OBJECT = MethodType.methodType(Object.class, Object.class);

  /** One filterable record component of an event type: its accessor and the keys already built for it. */
  private static final class Field {
    final String name;
    final Method accessor;
    /** The accessor as (Object)Object, or null if it cannot be unreflected (then Method.invoke, as before). */
    final MethodHandle handle;
    /** "Type.field=", the constant part of every key. */
    final String prefix;
    /** Keys by enum ordinal, by boolean (0 false, 1 true) or by small int value; null for strings. Lazily filled. */
    final String[] cache;
    final Class<?> type;

    Field(String typeName, RecordComponent c) {
      name = c.getName();
      accessor = c.getAccessor();
      type = c.getType();
      prefix = key(typeName, name, "");
      MethodHandle h;
      try {
        h = MethodHandles.lookup().unreflect(accessor).asType(OBJECT_OF_OBJECT);
      } catch (IllegalAccessException | RuntimeException x) {
        h = null;
      }
      handle = h;
      if (type.isEnum()) cache = new String[type.getEnumConstants().length];
      else if (type == boolean.class) cache = new String[2];
      else if (type == int.class) cache = new String[CACHED_INTS];
      else cache = null;
    }

    /** The key of this field's value in event e: {@code Type.field=value}. */
    String keyOf(Object e) throws Throwable {
      Object v = handle != null ? handle.invokeExact(e) : accessor.invoke(e);
      int slot = -1;
      if (cache == null || v == null) slot = -1;
      else if (v instanceof Enum<?> en) slot = en.ordinal();
      else if (v instanceof Boolean b) slot = b ? 1 : 0;
      else if (v instanceof Integer i && i >= 0 && i < CACHED_INTS) slot = i;
      if (slot < 0 || slot >= cache.length) return prefix + String.valueOf(v);
      String k = cache[slot];
      if (k == null) cache[slot] = k = prefix + String.valueOf(v);
      return k;
    }
  }

  private static final ClassValue<Field[]> FIELDS = new ClassValue<>() {
    @Override
    protected Field[] computeValue(Class<?> type) {
      RecordComponent[] components = type.getRecordComponents();
      if (components == null) return new Field[0];
      String typeName = type.getSimpleName();
      List<Field> out = new ArrayList<>();
      for (RecordComponent c : components) {
        Class<?> t = c.getType();
        if (t.isEnum() || t == boolean.class || t == String.class || t == int.class) out.add(new Field(typeName, c));
      }
      return out.toArray(new Field[0]);
    }
  };

  /** The filterable field names of an event type, in declaration order. */
  public static List<String> filterable(Class<? extends Trace.Event> type) {
    Field[] fields = FIELDS.get(type);
    List<String> out = new ArrayList<>(fields.length);
    for (Field f : fields) out.add(f.name);
    return List.copyOf(out);
  }

  /**
   * Readers of an event type's filterable fields, in {@link #filterable}'s order, each typed (Object)Object: for a
   * caller that counts the values themselves instead of spelling keys (the checker's counts by field).
   */
  public static MethodHandle[] readers(Class<? extends Trace.Event> type) {
    Field[] fields = FIELDS.get(type);
    MethodHandle[] out = new MethodHandle[fields.length];
    for (int i = 0; i < out.length; i++) {
      if (fields[i].handle == null) {
        throw new IllegalStateException("cannot read " + type.getSimpleName() + "." + fields[i].name);
      }
      out[i] = fields[i].handle;
    }
    return out;
  }

  /** The keys {@code Type.field=value} of one event, one per filterable field. */
  public static List<String> keys(Trace.Event e) {
    Field[] fields = FIELDS.get(e.getClass());
    List<String> out = new ArrayList<>(fields.length);
    for (Field f : fields) {
      try {
        out.add(f.keyOf(e));
      } catch (RuntimeException | Error x) {
        throw x;
      } catch (Throwable x) { // IllegalAccessException, InvocationTargetException: as Method.invoke reported them
        throw new IllegalStateException("cannot read " + e.getClass().getSimpleName() + "." + f.name, x);
      }
    }
    return out;
  }

  /** The key of a count by field: {@code Type.field=value}. */
  public static String key(String type, String field, String value) { return type + "." + field + "=" + value; }
}
