package hmmemu.protocol.trace;

import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.RecordComponent;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The fields of a trace event that counts may be filtered by (a scenario's {@code trace { CpuFaulted { kind = anon
 * } }}): the record components of few distinct values, i.e. enums, booleans, strings and ints (kinds, causes,
 * errnos, events, flags, device/mm/thread ids, iteration counts); never longs (addresses, pfns, request ids, values).
 * A count by field is keyed {@code Type.field=value}, e.g. {@code CpuFaulted.kind=anon}, {@code
 * PteChanged.state=DEVEXCL}, {@code DriverFaultHandled.errno=EBUSY}.
 */
public final class TraceFields {
  private TraceFields() {}

  private static final ClassValue<Map<String, Method>> FIELDS = new ClassValue<>() {
    @Override
    protected Map<String, Method> computeValue(Class<?> type) {
      Map<String, Method> out = new LinkedHashMap<>();
      RecordComponent[] components = type.getRecordComponents();
      if (components == null) return Map.of();
      for (RecordComponent c : components) {
        Class<?> t = c.getType();
        if (t.isEnum() || t == boolean.class || t == String.class || t == int.class) out.put(c.getName(), c.getAccessor());
      }
      return Collections.unmodifiableMap(out);
    }
  };

  /** The filterable field names of an event type, in declaration order. */
  public static List<String> filterable(Class<? extends Trace.Event> type) {
    return List.copyOf(FIELDS.get(type).keySet());
  }

  /** The keys {@code Type.field=value} of one event, one per filterable field. */
  public static List<String> keys(Trace.Event e) {
    Map<String, Method> fields = FIELDS.get(e.getClass());
    List<String> out = new ArrayList<>(fields.size());
    String type = e.getClass().getSimpleName();
    for (Map.Entry<String, Method> f : fields.entrySet()) {
      try {
        out.add(key(type, f.getKey(), String.valueOf(f.getValue().invoke(e))));
      } catch (IllegalAccessException | InvocationTargetException x) {
        throw new IllegalStateException("cannot read " + type + "." + f.getKey(), x);
      }
    }
    return out;
  }

  /** The key of a count by field: {@code Type.field=value}. */
  public static String key(String type, String field, String value) { return type + "." + field + "=" + value; }
}
