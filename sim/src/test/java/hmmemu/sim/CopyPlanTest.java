package hmmemu.sim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * {@link SimCopy}'s session-23 paths ({@link CopyPlan}, {@link CopyIdentity}): what is shared is proven immutable (a
 * class of final fields of immutable types; a record or an immutable JDK collection holding only such values), what
 * may change is copied, and a copy and its original diverge independently: changing one leaves the other as it was.
 */
class CopyPlanTest {
  /** Final fields of immutable types only: proven immutable, shared. */
  static final class Point {
    final long x;
    final String name;
    final Thread.State state;

    Point(long x, String name, Thread.State state) {
      this.x = x;
      this.name = name;
      this.state = state;
    }
  }

  /** Final fields, but one holds a mutable array: copied. */
  static final class Holder {
    final long[] values;

    Holder(long[] values) { this.values = values; }
  }

  /** One non-final field: copied. */
  static final class Counter {
    final String name;
    long count;

    Counter(String name) { this.name = name; }
  }

  /** A plain mutable object whose fields mix shared words ('L': a String, an enum) and copied references. */
  static final class Cell {
    String label;
    Thread.State state;
    Point at;
    Counter counter;
    Cell next;
    Object any;
  }

  record Pair(long a, List<Long> b) {}

  record Bag(String name, List<Object> items) {}

  @Test
  void aClassOfFinalImmutableFieldsIsSharedAndOneWithAMutableFieldIsCopied() {
    Point p = new Point(7, "p", Thread.State.NEW);
    Holder h = new Holder(new long[] {1, 2});
    Counter k = new Counter("k");
    assertSame(p, SimCopy.copyOf(p), "final fields of immutable types: shared");
    Holder hc = SimCopy.copyOf(h);
    assertNotSame(h, hc, "a final field holding an array: copied");
    h.values[0] = 99;
    assertEquals(1, hc.values[0], "the copy's array is its own");
    Counter kc = SimCopy.copyOf(k);
    assertNotSame(k, kc, "a non-final field: copied");
    k.count = 5;
    assertEquals(0, kc.count);
    kc.count = 3;
    assertEquals(5, k.count);
  }

  @Test
  void aPlainObjectsSharedWordsAndCopiedReferencesDivergeIndependently() {
    Cell a = new Cell();
    a.label = "a";
    a.state = Thread.State.RUNNABLE;
    a.at = new Point(1, "x", Thread.State.NEW);
    a.counter = new Counter("c");
    a.next = new Cell();
    a.next.next = a; // a cycle
    a.any = a.counter; // an alias: one object in the copy too
    Cell c = SimCopy.copyOf(a);
    assertNotSame(a, c);
    assertEquals("a", c.label);
    assertSame(Thread.State.RUNNABLE, c.state);
    assertSame(a.at, c.at, "an immutable value: shared");
    assertNotSame(a.counter, c.counter);
    assertSame(c, c.next.next, "the cycle closes on the copy");
    assertSame(c.counter, c.any, "the alias stays one object");
    a.label = "changed";
    a.state = Thread.State.BLOCKED;
    a.counter.count = 10;
    a.next.label = "n";
    assertEquals("a", c.label);
    assertSame(Thread.State.RUNNABLE, c.state);
    assertEquals(0, c.counter.count);
    assertEquals(null, c.next.label);
    c.counter.count = 4;
    assertEquals(10, a.counter.count, "changing the copy leaves the original as it was");
  }

  @Test
  void aRecordOfValuesIsSharedAndOneHoldingAMutableListIsCopied() {
    Pair p = new Pair(3, List.of(1L, 2L));
    assertSame(p, SimCopy.copyOf(p), "a record whose values are all immutable (List.of of Longs): shared");
    List<Object> items = new ArrayList<>(List.of("x"));
    Bag b = new Bag("b", items);
    Bag bc = SimCopy.copyOf(b);
    assertNotSame(b, bc);
    assertNotSame(b.items(), bc.items());
    items.add("y");
    assertEquals(List.of("x"), bc.items(), "the original's list changed; the copy's did not");
    bc.items().add("z");
    assertEquals(List.of("x", "y"), b.items());
    Object[] both = SimCopy.copyOf(new Object[] {b, b});
    assertSame(both[0], both[1], "a record met twice is copied once");
  }

  @Test
  void aCycleThroughARecordIsPatchedToTheRecordsCopy() {
    List<Object> items = new ArrayList<>();
    Bag b = new Bag("self", items);
    items.add(b); // the record's list holds the record
    Cell holder = new Cell();
    holder.any = b;
    Cell hc = SimCopy.copyOf(holder);
    Bag bc = (Bag) hc.any;
    assertNotSame(b, bc);
    assertSame(bc, bc.items().get(0), "the list's reference back to the record is the record's copy");
    items.add("more");
    assertEquals(1, bc.items().size());
  }

  @Test
  void immutableCollectionsAreSharedOnlyWhenAllTheyHoldIsImmutable() {
    List<Long> values = List.of(1L, 2L, 3L);
    assertSame(values, SimCopy.copyOf(values));
    Set<String> names = Set.of("a", "b", "c");
    assertSame(names, SimCopy.copyOf(names));
    Map<String, Long> m = Map.of("a", 1L, "b", 2L, "c", 3L);
    assertSame(m, SimCopy.copyOf(m));
    long[] arr = {5};
    List<long[]> arrays = List.of(arr, new long[] {6});
    List<long[]> ac = SimCopy.copyOf(arrays);
    assertNotSame(arrays, ac, "a List.of holding arrays: copied");
    arr[0] = 50;
    assertEquals(5, ac.get(0)[0], "its arrays too");
    Counter k = new Counter("k");
    Map<String, Counter> mk = Map.of("k", k, "j", new Counter("j"), "i", new Counter("i"));
    Map<String, Counter> mkc = SimCopy.copyOf(mk);
    assertNotSame(mk, mkc);
    k.count = 7;
    assertEquals(0, mkc.get("k").count);
  }

  @Test
  void aLargeGraphGrowsTheIdentityTableAndKeepsEveryAlias() {
    int n = 50_000;
    Counter[] counters = new Counter[n];
    for (int i = 0; i < n; i++) counters[i] = new Counter("c");
    Object[] root = {counters, counters.clone()}; // every counter reached twice
    Object[] c = SimCopy.copyOf(root);
    Counter[] c0 = (Counter[]) c[0];
    Counter[] c1 = (Counter[]) c[1];
    for (int i = 0; i < n; i++) {
      assertNotSame(counters[i], c0[i]);
      assertSame(c0[i], c1[i], "alias " + i);
    }
    counters[n - 1].count = 1;
    assertEquals(0, c0[n - 1].count);
  }

  @Test
  void recordsTheCallerDeclaresValuesAreSharedByClass() {
    Bag b = new Bag("b", new ArrayList<>(List.of("x")));
    java.util.function.Predicate<Class<?>> bags = c -> c == Bag.class;
    for (int i = 0; i < 3; i++) assertSame(b, SimCopy.copyOf(b, bags), "declared a value by the caller: shared");
    assertNotSame(b, SimCopy.copyOf(b, c -> false));
    assertNotSame(b, SimCopy.copyOf(b));
    assertTrue(CopyPlan.immutable(Point.class));
    assertTrue(!CopyPlan.immutable(Holder.class) && !CopyPlan.immutable(Counter.class));
  }

  /** Session 23 (xfreeze): a {@link hmmemu.protocol.model.Frozen} class, as the checker's ended invalidations. */
  static final class Ice implements hmmemu.protocol.model.Frozen {
    private final long[] values = new long[] {1, 2};
    private boolean frozen;

    void set(int i, long v) {
      if (frozen) throw new IllegalStateException("frozen");
      values[i] = v;
    }

    @Override
    public boolean frozen() { return frozen; }

    @Override
    public boolean freezeForCopy() { return frozen; }
  }

  @Test
  void aFrozenInstanceIsSharedAndAnUnfrozenOneCopied() {
    Ice open = new Ice(), shut = new Ice();
    shut.frozen = true;
    Object[] world = {open, shut, shut};
    Object[] copy = SimCopy.copyOf(world);
    assertSame(shut, copy[1], "frozen: shared");
    assertSame(copy[1], copy[2]);
    Ice openCopy = (Ice) copy[0];
    assertNotSame(open, openCopy, "not frozen: copied");
    assertNotSame(open.values, openCopy.values);
    openCopy.set(0, 9);
    assertEquals(1, open.values[0], "the copy changes alone");
    Object[] c = SimCopy.copyCounting(world);
    assertEquals(3, ((Number) c[1]).intValue(), "the array, the unfrozen one and its array; the frozen one shared");
  }
}
