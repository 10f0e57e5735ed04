package hmmemu.checker;

import java.lang.reflect.Array;
import java.lang.reflect.Field;
import java.lang.reflect.Modifier;

/**
 * Emulator-only host mechanism, not a kernel structure: helpers for the fast-forward (hmmemu.sim.FastForward) to
 * refill the checker's bounded rings (NotifierShadow's ended invalidations, FolioLockShadow's released reqIds) as the
 * skipped periods of a spin would have left them, instead of waiting for a spin to fill them.
 */
public final class RingRefill {
  private RingRefill() {}

  /**
   * The first id of the range no run issues (ids are issued from counters from 1 up: invIds, and reqIds of a device
   * number and a counter): a refilled ring's entries older than the spin's get ids from here up, in ring order.
   */
  public static final long UNISSUED = Long.MIN_VALUE / 4;

  /**
   * How many of the ring's newest ids (newest first) follow the pattern of the newest {@code d} with one step per
   * period: id k equals id (k mod d) minus (k / d) x the step of the newest period.
   */
  public static int periodic(long[] newestFirst, int d) {
    if (newestFirst.length < 2 * d) return Math.min(newestFirst.length, d);
    long step = newestFirst[0] - newestFirst[d];
    int k = 0;
    while (k < newestFirst.length && newestFirst[k] == newestFirst[k % d] - (long) (k / d) * step) k++;
    return k;
  }

  /**
   * The length of a ring's array holding {@code size} entries, as the rings grow it (from 16, doubling when full, up to
   * {@code kept}): so that a partially refilled ring has the unskipped run's shape.
   */
  static int lengthFor(int size, int kept) {
    int len = 16;
    while (len < size && len < kept) len *= 2;
    return Math.min(len, kept);
  }

  /** Copies every field of {@code from} to {@code to} but {@code except}, arrays and LongTables copied, not shared. */
  static void copyFields(Object from, Object to, String except) {
    try {
      for (Field f : FIELDS.get(from.getClass())) {
        if (f.getName().equals(except)) continue;
        f.set(to, copy(f.get(from)));
      }
    } catch (ReflectiveOperationException e) {
      throw new IllegalStateException("ring refill: cannot copy " + from.getClass().getName() + ": " + e, e);
    }
  }

  /** A class's own instance fields, made accessible once (the refill copies thousands of entries a jump). */
  private static final ClassValue<Field[]> FIELDS = new ClassValue<>() {
    @Override
    protected Field[] computeValue(Class<?> c) {
      java.util.List<Field> out = new java.util.ArrayList<>();
      for (Field f : c.getDeclaredFields()) {
        if (Modifier.isStatic(f.getModifiers())) continue;
        f.setAccessible(true);
        out.add(f);
      }
      return out.toArray(new Field[0]);
    }
  };

  private static Object copy(Object v) throws ReflectiveOperationException {
    if (v == null) return null;
    if (v.getClass().isArray()) {
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
}
