package hmmemu.checker;

/**
 * Not a kernel structure: an object of the checker's state that counts its own changes (emulator-only), so that the
 * fast-forward's picture of a ring (hmmemu.sim.StateWalkRings) may reuse the fold of an entry whose count did not move
 * since it was last walked instead of walking it again (session 24, ffchg; first built as session 21's ffring).
 */
public interface ChangeCounted {
  /**
   * A count that moves at every change of everything a picture of this object walks (its fields, the arrays and tables
   * only it holds, what its fields reach), or -1 when the object cannot vouch for something it reaches.
   */
  long changeCount();
}
