package hmmemu.protocol.model;

/** Kind of memory access, as in nouveau's fault access types (READ < WRITE < ATOMIC priority). */
public enum Access {
  READ, WRITE,
  /** 64-bit fetch-and-add: returns the old value, stores old + value. */
  ATOMIC;

  public boolean isWrite() { return this != READ; }
}
