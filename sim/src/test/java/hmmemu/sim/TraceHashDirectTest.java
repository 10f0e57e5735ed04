package hmmemu.sim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import java.lang.reflect.Constructor;
import java.lang.reflect.RecordComponent;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * {@link TraceHashDirect}'s per-type folds against the component readers of {@link TraceHash}: for every record type
 * with a case, records with distinct values in every component fold alike both ways, and changing any one component
 * changes the direct fold. Fails when a record gains, loses or reorders a component its case does not follow (the
 * pinned trace hashes would not notice a new component the direct fold leaves out).
 */
class TraceHashDirectTest {
  @Test
  void everyCaseFoldsAsTheReadersDo() throws Exception {
    for (Class<?> type : TraceHashDirect.CASES) {
      RecordComponent[] rc = type.getRecordComponents();
      for (int variant = 0; variant < 3; variant++) {
        Object e = make(type, rc, variant, -1);
        assertEquals(TraceHash.foldForTest(17, e, true), TraceHash.foldForTest(17, e, false),
            type.getSimpleName() + " variant " + variant + ": the direct case folds otherwise than the readers");
      }
      Object base = make(type, rc, 0, -1);
      long h = TraceHash.foldForTest(17, base, false);
      for (int k = 0; k < rc.length; k++) {
        Object changed = make(type, rc, 0, k);
        assertNotEquals(h, TraceHash.foldForTest(17, changed, false),
            type.getSimpleName() + "." + rc[k].getName() + " changed, the direct fold did not: the case leaves it out");
      }
    }
  }

  /** A record of {@code type} with a distinct value per component ({@code variant}); component {@code bump} other. */
  private static Object make(Class<?> type, RecordComponent[] rc, int variant, int bump) throws Exception {
    Class<?>[] types = new Class<?>[rc.length];
    Object[] args = new Object[rc.length];
    for (int i = 0; i < rc.length; i++) {
      types[i] = rc[i].getType();
      int v = 3 + i * 7 + variant * 101 + (i == bump ? 1 : 0);
      args[i] = value(types[i], v, i == bump);
    }
    Constructor<?> c = type.getDeclaredConstructor(types);
    c.setAccessible(true);
    return c.newInstance(args);
  }

  private static Object value(Class<?> t, int v, boolean bumped) {
    if (t == long.class) return (long) v * 1_000_003L;
    if (t == int.class) return v;
    if (t == boolean.class) return v % 2 == 0;
    if (t == String.class) return "s" + v;
    if (t.isEnum()) {
      Object[] k = t.getEnumConstants();
      return k[v % k.length];
    }
    if (t == List.class) return bumped ? List.of((long) v) : List.of();
    if (t == long[].class) return new long[] {v};
    throw new IllegalStateException("TraceHashDirectTest: no sample value for a component of type " + t);
  }
}
