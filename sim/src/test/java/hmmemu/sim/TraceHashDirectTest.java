package hmmemu.sim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import hmmemu.protocol.model.PteState;
import hmmemu.protocol.msg.HmmProtocol;
import hmmemu.protocol.msg.PageWords;
import java.lang.reflect.Constructor;
import java.lang.reflect.RecordComponent;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * {@link TraceHashDirect}'s per-type folds (trace events) and {@link TraceHashInputDirect}'s (the state key's input
 * messages) against the component readers of {@link TraceHash}: for every record type with a case, records with
 * distinct values in every component (and with every object component null) fold alike both ways, and changing any
 * one component changes the direct fold. Fails when a record gains, loses or reorders a component its case does not
 * follow (the pinned trace hashes and explore reports would not notice a new component the direct fold leaves out).
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
      Object nulls = make(type, rc, NULLS, -1);
      assertEquals(TraceHash.foldForTest(17, nulls, true), TraceHash.foldForTest(17, nulls, false),
          type.getSimpleName() + " with null object components: the direct case folds otherwise than the readers");
      Object base = make(type, rc, 0, -1);
      long h = TraceHash.foldForTest(17, base, false);
      for (int k = 0; k < rc.length; k++) {
        Object changed = make(type, rc, 0, k);
        assertNotEquals(h, TraceHash.foldForTest(17, changed, false),
            type.getSimpleName() + "." + rc[k].getName() + " changed, the direct fold did not: the case leaves it out");
      }
    }
  }

  @Test
  void everyInputCaseFoldsAsTheReadersDo() throws Exception {
    for (Class<?> type : TraceHashInputDirect.CASES) {
      RecordComponent[] rc = type.getRecordComponents();
      for (int tag = 0; tag < 3; tag++) {
        for (int variant = 0; variant < 3; variant++) {
          Object m = make(type, rc, variant, -1);
          assertEquals(TraceHash.foldInputForTest(17, tag, m, true), TraceHash.foldInputForTest(17, tag, m, false),
              type.getSimpleName() + " variant " + variant + " tag " + tag
                  + ": the direct input case folds otherwise than the readers");
        }
      }
      Object nulls = make(type, rc, NULLS, -1);
      assertEquals(TraceHash.foldInputForTest(17, 1, nulls, true), TraceHash.foldInputForTest(17, 1, nulls, false),
          type.getSimpleName() + " with null object components: the direct input case folds otherwise than the readers");
      Object base = make(type, rc, 0, -1);
      long h = TraceHash.foldInputForTest(17, 1, base, false);
      for (int k = 0; k < rc.length; k++) {
        Object changed = make(type, rc, 0, k);
        assertNotEquals(h, TraceHash.foldInputForTest(17, 1, changed, false), type.getSimpleName() + "."
            + rc[k].getName() + " changed, the direct input fold did not: the case leaves it out");
      }
    }
  }

  /** An inspection's reply with a page of 512 words, in every list that can hold them, folds as the readers do. */
  @Test
  void aFullPageInfoFoldsAsTheReadersDo() {
    long[] w = new long[512];
    for (int i = 0; i < w.length; i++) w[i] = 0x1000L * i + 7;
    List<Long> boxed = new ArrayList<>();
    for (long x : w) boxed.add(x);
    List<Long> withNull = new ArrayList<>(boxed);
    withNull.set(5, null);
    for (List<Long> words : List.<List<Long>>of(PageWords.wrap(w), boxed, new LinkedList<>(boxed),
        Arrays.asList(boxed.toArray(new Long[0])), withNull, boxed.subList(0, 511), List.of())) {
      HmmProtocol.PageInfo p = new HmmProtocol.PageInfo(108, PteState.PRESENT, 0x1004, true, true, false, true, 3,
          1, false, true, w[0], words);
      assertEquals(TraceHash.foldInputForTest(5, 0, p, true), TraceHash.foldInputForTest(5, 0, p, false),
          "PageInfo with " + words.size() + " words in a " + words.getClass().getSimpleName()
              + ": the direct input case folds otherwise than the readers");
    }
  }

  /** A tick (null input) folds as value(null) after its tag, as before the direct cases. */
  @Test
  void aTickFoldsAsBefore() {
    TraceHash t = new TraceHash();
    long h0 = t.value();
    t.addInput(2, null);
    assertEquals(TraceHash.valueOf(TraceHash.mix(h0, 2), null), t.value());
  }

  /** {@link #make}'s variant whose object components (enums, Strings, lists) are all null. */
  private static final int NULLS = -1;

  /** A record of {@code type} with a distinct value per component ({@code variant}); component {@code bump} other. */
  private static Object make(Class<?> type, RecordComponent[] rc, int variant, int bump) throws Exception {
    Class<?>[] types = new Class<?>[rc.length];
    Object[] args = new Object[rc.length];
    for (int i = 0; i < rc.length; i++) {
      types[i] = rc[i].getType();
      int v = 3 + i * 7 + Math.max(variant, 0) * 101 + (i == bump ? 1 : 0);
      args[i] = variant == NULLS && !types[i].isPrimitive() ? null : value(types[i], v, i == bump);
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
