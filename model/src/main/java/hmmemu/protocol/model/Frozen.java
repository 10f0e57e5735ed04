package hmmemu.protocol.model;

/**
 * Not a kernel structure: an emulator object that can be frozen for good. Once {@link #frozen} answers true it answers
 * true for ever, every mutator of the object throws, and nothing it holds can change (its fields are private, its
 * arrays and tables are never handed out, what it holds by reference is immutable): a world copy (hmmemu.sim.SimCopy)
 * asks {@link #freezeForCopy} and shares a frozen instance instead of copying it, and copies an unfrozen one field by
 * field. Its owner changes a frozen one by putting an unfrozen copy in its place.
 */
public interface Frozen {
  /** Whether this object is frozen (never changed again by anyone). */
  boolean frozen();

  /**
   * Freezes this if its owner is done changing it in place (e.g. an ended invalidation), as a world copy is about to
   * share it; whether it is frozen now.
   */
  boolean freezeForCopy();

  /**
   * Whether {@code list} is null or one of the JDK's immutable lists ({@code List.of}, {@code List.copyOf}), whose
   * class alone proves that no method changes it: what a frozen object may hold by reference as a list.
   */
  static boolean jdkImmutableList(java.util.List<?> list) {
    if (list == null) return true;
    Class<?> c = list.getClass();
    return c == JdkLists.LIST12 || c == JdkLists.LISTN;
  }

  /** The JDK's immutable list classes (List.of() and lists of three or more are ListN, of one or two List12). */
  final class JdkLists {
    static final Class<?> LIST12 = java.util.List.of(1L).getClass(), LISTN = java.util.List.of(1L, 2L, 3L).getClass();

    private JdkLists() {}
  }
}
