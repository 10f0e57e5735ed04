package hmmemu.protocol.model;

/**
 * Not a kernel structure: an emulator object that can be frozen for good. Once {@link #frozen} answers true it answers
 * true for ever, every mutator of the object throws, and nothing it holds can change (its fields are private, its
 * arrays and tables are never handed out, what it holds by reference is immutable): a world copy (hmmemu.sim.SimCopy)
 * shares a frozen instance instead of copying it, and copies an unfrozen one field by field.
 */
public interface Frozen {
  /** Whether this object is frozen (never changed again by anyone). */
  boolean frozen();
}
