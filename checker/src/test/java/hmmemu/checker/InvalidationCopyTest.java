package hmmemu.checker;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;

import hmmemu.protocol.model.NotifyEvent;
import hmmemu.protocol.trace.Trace;
import java.lang.reflect.Array;
import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The fast-forward's ring refill copies an ended invalidation with {@link Invalidation#copyFor} (emulator-only): the
 * same copy as a reflective copy of every field ({@link #copyFields}: what the refill did before session 20), arrays
 * and tables copied, not shared; a field added to Invalidation and not copied fails here.
 */
class InvalidationCopyTest {
  private static Trace.InvalidateStarted start(long invId) {
    return new Trace.InvalidateStarted(invId, 1, 0x1000, 0x3000, NotifyEvent.CLEAR, 0, true, List.of(7L, 8L));
  }

  @Test
  void copyForIsTheReflectiveCopyOfEveryField() throws ReflectiveOperationException {
    for (int subs : new int[] {2, 12}) { // a few subscriptions, and more than INDEX_ABOVE (an index table)
      Invalidation inv = new Invalidation(start(5));
      for (int s = 0; s < subs; s++) inv.addTarget(100 + s, s % 3 == 0 ? -1 : 16 * (1 + s % 2), s == 4);
      for (int s = 0; s < subs; s += 2) inv.ack(100 + s);
      inv.ack(999);
      inv.end();
      Trace.InvalidateStarted other = start(77);
      Invalidation direct = inv.copyFor(other);
      Invalidation reflective = new Invalidation(other);
      copyFields(inv, reflective, "started");
      assertEquals(dump(reflective), dump(direct), "copyFor against the reflective copy, " + subs + " subscriptions");
      for (Field f : fields(Invalidation.class)) {
        Object v = f.get(direct);
        if (v != null && (v.getClass().isArray() || v instanceof LongTable<?>)) assertNotSame(f.get(inv), v, f.getName());
      }
    }
  }

  @Test
  void assignFromMakesTheCopyCopyForMakes() throws ReflectiveOperationException {
    // session 22 (ringreuse): the full ring refill updates an earlier copy in place; a field assignFrom leaves out fails
    for (int subs : new int[] {2, 12}) {
      for (int before : new int[] {1, 2, 12}) { // arrays of the same length (copied into) and of others (cloned)
        Invalidation inv = new Invalidation(start(5)), old = new Invalidation(start(9));
        for (int s = 0; s < subs; s++) inv.addTarget(100 + s, s % 3 == 0 ? -1 : 16 * (1 + s % 2), s == 4);
        for (int s = 0; s < subs; s += 2) inv.ack(100 + s);
        inv.end();
        for (int s = 0; s < before; s++) old.addTarget(300 + s, 48, false);
        old.assignFrom(inv);
        assertEquals(dump(inv.copyFor(old.started())), dump(old), subs + " subscriptions over " + before);
        assertEquals(subs <= 8, old.sameAs(inv), "alike but for the start's invId (an index table: not compared, false)");
        for (Field f : fields(Invalidation.class)) {
          Object v = f.get(old);
          if (v != null && (v.getClass().isArray() || v instanceof LongTable<?>)) assertNotSame(f.get(inv), v, f.getName());
        }
      }
    }
  }

  /** Copies every field of {@code from} to {@code to} but {@code except}, arrays and LongTables copied, not shared. */
  private static void copyFields(Object from, Object to, String except) throws ReflectiveOperationException {
    for (Field f : fields(from.getClass())) {
      if (!f.getName().equals(except)) f.set(to, copy(f.get(from)));
    }
  }

  private static Object copy(Object v) throws ReflectiveOperationException {
    if (v != null && v.getClass().isArray()) {
      int n = Array.getLength(v);
      Object out = Array.newInstance(v.getClass().getComponentType(), n);
      System.arraycopy(v, 0, out, 0, n);
      return out;
    }
    if (v instanceof LongTable<?> t) {
      LongTable<Object> out = new LongTable<>();
      copyFields(t, out, "");
      return out;
    }
    return v;
  }

  private static List<Field> fields(Class<?> c) {
    List<Field> out = new ArrayList<>();
    for (Field f : c.getDeclaredFields()) {
      if (Modifier.isStatic(f.getModifiers())) continue;
      if (f.getName().equals("changes")) continue; // this object's own count of its changes, not its contents (ffchg)
      f.setAccessible(true);
      out.add(f);
    }
    return out;
  }

  /** Every field, arrays and LongTables by content. */
  private static String dump(Object o) throws ReflectiveOperationException {
    StringBuilder b = new StringBuilder();
    for (Field f : fields(o.getClass())) {
      Object v = f.get(o);
      b.append(f.getName()).append('=');
      if (v instanceof LongTable<?> t) b.append('{').append(dump(t)).append('}');
      else if (v instanceof long[] a) b.append(Arrays.toString(a));
      else if (v instanceof int[] a) b.append(Arrays.toString(a));
      else if (v instanceof byte[] a) b.append(Arrays.toString(a));
      else if (v instanceof Object[] a) b.append(Arrays.toString(a));
      else b.append(v);
      b.append(';');
    }
    return b.toString();
  }
}
