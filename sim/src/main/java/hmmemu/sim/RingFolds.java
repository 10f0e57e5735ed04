package hmmemu.sim;

import java.util.IdentityHashMap;

/**
 * The fast-forward's folds of a checker ring's entries, kept from one picture to the next (session 21's ffring, ported
 * in session 24, ffchg): an entry ({@link hmmemu.checker.ChangeCounted}: an Invalidation of NotifierShadow's ended
 * ring) whose change count and id did not move since the last picture folds to what it folded to then, and the walk
 * registers the objects it met then at the same offsets, without walking it again ({@link StateWalkRings#window}). Only
 * entries whose walk met no object met before them and left no leaf out of the fold are kept, so a picture with these
 * folds is the picture without them, leaf for leaf ({@code -Dhmm.ff.checkFolds=true} takes every picture again without
 * them and throws on a difference). An emulator-only host mechanism, not a kernel structure.
 */
final class RingFolds {
  /** One entry's fold: its change count and id then, its hash, the leaves it counted, the objects it met and where. */
  record Fold(long count, long key, long hash, int leaves, Object[] objects, int[] at) {}

  /** The folds of the last picture, and the ones of the picture being taken. */
  private IdentityHashMap<Object, Fold> last = new IdentityHashMap<>(), next = new IdentityHashMap<>();

  /** Whether pictures use the kept folds ({@code -Dhmm.ff.ringFolds}, default true; off for tests and comparisons). */
  boolean on = !"false".equals(System.getProperty("hmm.ff.ringFolds"));
  /** Whether every picture is taken again without the kept folds and must be the same ({@code -Dhmm.ff.checkFolds}). */
  boolean check = Boolean.getBoolean("hmm.ff.checkFolds");

  /** Entries folded from the last picture, and walked (diagnostics). */
  long hits, walks;

  /** A picture starts: the folds the last one used or made are the ones it may reuse. */
  void turn() {
    IdentityHashMap<Object, Fold> t = last;
    last = next;
    next = t;
    next.clear();
  }

  /** The fold {@code entry} had under {@code key} at change count {@code count} in the last picture, or null. */
  Fold reusable(Object entry, long count, long key) {
    Fold f = last.get(entry);
    return f != null && f.count() == count && f.key() == key ? f : null;
  }

  /** {@code entry}'s fold is used (reused or made) by the picture being taken. */
  void keep(Object entry, Fold f) { next.put(entry, f); }
}
