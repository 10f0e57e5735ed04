package hmmemu.checker;

import hmmemu.protocol.trace.Trace;
import hmmemu.protocol.trace.TraceFields;
import java.lang.invoke.MethodHandle;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Emulator-only host mechanism: the checker's counts of delivered events by filterable field value ({@link
 * TraceFields}: the scenario language's filtered trace counts), kept as value -> long[1] per event type and field, so
 * that counting an event reads its fields and bumps a counter each (the value boxed by the accessor is the key) and
 * builds no {@code Type.field=value} string; {@link InvariantChecker#fieldCounts()} spells those when asked. Each
 * event type's readers are {@link TraceFields#readers} (the method handles TraceFields resolves once for its keys),
 * kept per type beside {@link TraceFields#filterable}'s names, in its order.
 */
final class FieldCounts {
  private FieldCounts() {}

  /** An event type's filterable fields: their names (TraceFields order) and readers. */
  private record Fields(List<String> names, MethodHandle[] accessors) {}

  private static final ClassValue<Fields> FIELDS = new ClassValue<>() {
    @Override
    @SuppressWarnings("unchecked")
    protected Fields computeValue(Class<?> type) {
      if (!Trace.Event.class.isAssignableFrom(type)) return new Fields(List.of(), new MethodHandle[0]);
      Class<? extends Trace.Event> t = (Class<? extends Trace.Event>) type;
      return new Fields(TraceFields.filterable(t), TraceFields.readers(t));
    }
  };

  /** The filterable field names of an event type, in the order its counts are kept. */
  static List<String> names(Class<?> type) { return FIELDS.get(type).names(); }

  /** No field of an event type counted (countByField(Set) names none of its fields). */
  @SuppressWarnings("unchecked")
  private static final Map<Object, long[]>[] NONE = new Map[0];

  /**
   * Counts event e once per counted filterable field, under the field's value, in {@code counts}: every filterable
   * field when {@code counted} is null, else those named {@code Type.field} in it (the others' slots stay null, and a
   * type with none counted reads no field).
   */
  @SuppressWarnings("unchecked")
  static void count(Map<Class<?>, Map<Object, long[]>[]> counts, Trace.Event e, Set<String> counted) {
    Class<?> type = e.getClass();
    Map<Object, long[]>[] byField = counts.get(type);
    if (byField == null) {
      List<String> names = names(type);
      byField = new Map[names.size()];
      boolean any = false;
      for (int i = 0; i < byField.length; i++) {
        if (counted != null && !counted.contains(type.getSimpleName() + "." + names.get(i))) continue;
        byField[i] = new HashMap<>();
        any = true;
      }
      if (!any) byField = NONE;
      counts.put(type, byField);
    }
    if (byField.length == 0) return;
    MethodHandle[] accessors = FIELDS.get(type).accessors();
    for (int i = 0; i < accessors.length; i++) {
      Map<Object, long[]> byValue = byField[i];
      if (byValue == null) continue;
      Object v;
      try {
        v = accessors[i].invokeExact((Object) e);
      } catch (RuntimeException | Error x) {
        throw x;
      } catch (Throwable x) {
        throw new IllegalStateException("cannot read " + type.getSimpleName() + "." + names(type).get(i), x);
      }
      long[] n = byValue.get(v);
      if (n == null) byValue.put(v, n = new long[1]);
      n[0]++;
    }
  }
}
