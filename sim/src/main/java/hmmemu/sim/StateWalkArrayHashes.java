package hmmemu.sim;

import java.util.Arrays;
import java.util.IdentityHashMap;

/**
 * The hashes of the large folded arrays of one simulator's fast-forward pictures ({@link StateWalk}'s foldedArray: a
 * latency histogram's ~47,000 counts), kept with a copy of the elements each was computed from: a later picture
 * whose array still holds exactly those elements (compared element by element) takes the kept hash instead of
 * hashing again, which is the value hashing again would give. Not a kernel structure (session 22, ffwake).
 */
final class StateWalkArrayHashes {
  /** Arrays shorter than this are hashed each time (a copy and a compare would cost as much). */
  static final int LEAST = 512;
  /** Arrays kept at most (a run that replaces its arrays often starts again from empty). */
  private static final int MOST = 64;

  /** One array's elements when its hash was computed, and that hash. */
  private record Kept(Object copy, int n, long hash) {}

  private final IdentityHashMap<Object, Kept> kept = new IdentityHashMap<>();

  /** {@link StateWalkClasses#arrayHash}{@code (a, n)}: the kept hash when a's first n elements are the kept ones. */
  long hash(Object a, int n) {
    if (n < LEAST) return StateWalkClasses.arrayHash(a, n);
    Kept k = kept.get(a);
    if (k != null && k.n() == n && same(a, k.copy(), n)) return k.hash();
    long h = StateWalkClasses.arrayHash(a, n);
    if (kept.size() >= MOST) kept.clear();
    Object copy = k != null && k.n() == n ? k.copy() : null;
    kept.put(a, new Kept(copyInto(a, copy, n), n, h));
    return h;
  }

  private static boolean same(Object a, Object copy, int n) {
    if (a instanceof long[] l) return Arrays.equals(l, 0, n, (long[]) copy, 0, n);
    if (a instanceof int[] l) return Arrays.equals(l, 0, n, (int[]) copy, 0, n);
    return Arrays.equals((byte[]) a, 0, n, (byte[]) copy, 0, n);
  }

  /** a's first n elements, in {@code into} when it is not null (an earlier copy of the same length). */
  private static Object copyInto(Object a, Object into, int n) {
    Object c = into != null ? into
        : a instanceof long[] ? new long[n] : a instanceof int[] ? new int[n] : new byte[n];
    System.arraycopy(a, 0, c, 0, n);
    return c;
  }
}
