package hmmemu.sim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import hmmemu.protocol.model.PteState;
import hmmemu.protocol.msg.HmmProtocol;
import hmmemu.protocol.msg.HmmProtocol.PageInfo;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.Test;

/**
 * The state key's fold of an inspection's reply ({@link TraceHash#addInput} of a {@link PageInfo}, issue 13): it
 * folds a page's words by its non-zero words (index and value) instead of one serial chain of every word, so its
 * values differ from the trace hash's fold of the same record, but it must keep that fold's equalities: equal replies (whatever list holds the words) give equal
 * keys, and replies that differ in one word, one component or the order of their words give different keys.
 */
class TraceHashInputTest {
  private static final int WORDS = 512;

  private static PageInfo page(long reqId, PteState pte, long pfn, boolean write, int refcount, long word0,
      List<Long> words) {
    return new PageInfo(reqId, pte, pfn, write, true, true, false, refcount, 1, true, true, word0, words);
  }

  private static List<Long> words(UnaryOperator<long[]> change) {
    long[] w = new long[WORDS];
    for (int i = 0; i < WORDS; i++) w[i] = 512L * 7 + i; // a page filled with its word index (fill = index)
    w = change.apply(w);
    List<Long> out = new ArrayList<>();
    for (long x : w) out.add(x);
    return out;
  }

  private static PageInfo base(List<Long> words) {
    return page(108, PteState.PRESENT, 0x1004, true, 1, words == null || words.isEmpty() ? 0 : words.get(0), words);
  }

  /** The state key's fold: addInput under tag 0, as Sim.replyToController folds a reply. */
  private static long key(Object... inputs) {
    TraceHash t = new TraceHash();
    for (Object in : inputs) t.addInput(0, in);
    return t.value();
  }

  /** The fold every input had before lanes: the tag, then the record through its component readers. */
  private static long serial(Object... inputs) {
    long h = new TraceHash().value();
    for (Object in : inputs) h = TraceHash.valueOf(TraceHash.mix(h, 0), in);
    return h;
  }

  @Test
  void equalRepliesGiveEqualKeysWhateverListHoldsTheirWords() {
    List<Long> w = words(x -> x);
    long k = key(base(w));
    assertEquals(k, key(base(List.copyOf(w))));
    assertEquals(k, key(base(new LinkedList<>(w))));
    assertEquals(k, key(base(Arrays.asList(w.toArray(new Long[0])))));
    assertEquals(k, key(base(java.util.Collections.unmodifiableList(new ArrayList<>(w)))));
    assertEquals(key(base(List.of())), key(base(new ArrayList<>())));
  }

  /**
   * A page stored sparsely (the CPU node's reply for a folio with a few non-zero words, {@link
   * hmmemu.protocol.msg.PageWords#sparse}) folds as the same words in a dense PageWords and in any list, a stored zero
   * word included; one word changed, added or moved gives another key.
   */
  @Test
  void aSparsePageFoldsAsTheSameWordsInAnyList() {
    long[] dense = new long[WORDS];
    dense[0] = 7;
    dense[17] = Long.MIN_VALUE;
    dense[511] = -1;
    List<Long> boxed = new ArrayList<>();
    for (long x : dense) boxed.add(x);
    long k = key(base(boxed));
    assertEquals(k, key(base(hmmemu.protocol.msg.PageWords.wrap(dense.clone()))));
    assertEquals(k, key(base(hmmemu.protocol.msg.PageWords.sparse(new long[] {0, 7, 17, Long.MIN_VALUE, 511, -1}, 3,
        WORDS))));
    assertEquals(k, key(base(hmmemu.protocol.msg.PageWords.sparse(new long[] {0, 7, 5, 0, 17, Long.MIN_VALUE, 511, -1,
        99, 99}, 4, WORDS))), "a stored zero word, and pairs past the count");
    Set<Long> keys = new HashSet<>(List.of(k));
    long[][] others = {{0, 7, 17, Long.MIN_VALUE}, {0, 7, 17, Long.MIN_VALUE, 510, -1}, {0, 7, 17, Long.MIN_VALUE, 511, -2},
        {1, 7, 17, Long.MIN_VALUE, 511, -1}, {0, 7, 16, Long.MIN_VALUE, 511, -1}, {0, 7, 17, Long.MIN_VALUE, 300, 1, 511, -1},
        {0, 17, 17, 7, 511, -1}};
    for (long[] o : others) {
      long got = key(base(hmmemu.protocol.msg.PageWords.sparse(o, o.length / 2, WORDS)));
      assertNotEquals(k, got, Arrays.toString(o));
      keys.add(got);
    }
    assertEquals(others.length + 1, keys.size());
    assertNotEquals(k, key(base(hmmemu.protocol.msg.PageWords.sparse(new long[] {0, 7, 17, Long.MIN_VALUE, 511, -1}, 3,
        WORDS + 1))), "one word more");
    assertEquals(key(base(hmmemu.protocol.msg.PageWords.wrap(new long[WORDS]))),
        key(base(hmmemu.protocol.msg.PageWords.sparse(new long[0], 0, WORDS))), "every word zero");
  }

  @Test
  void oneWordDifferentAnywhereGivesAnotherKey() {
    long k = key(base(words(x -> x)));
    Set<Long> keys = new HashSet<>();
    keys.add(k);
    int n = 1;
    for (int i = 0; i < WORDS; i++) {
      final int at = i;
      for (UnaryOperator<Long> c : List.<UnaryOperator<Long>>of(v -> v + 1, v -> v ^ Long.MIN_VALUE, v -> 0L)) {
        long got = key(base(words(x -> {
          x[at] = c.apply(x[at]);
          return x;
        })));
        assertNotEquals(k, got, "word " + at);
        keys.add(got);
        n++;
      }
    }
    assertEquals(n, keys.size(), "every one-word change a key of its own");
  }

  @Test
  void wordsInAnotherOrderGiveAnotherKey() {
    long k = key(base(words(x -> x)));
    for (int[] swap : new int[][] {{0, 1}, {0, 4}, {3, 7}, {100, 101}, {100, 104}, {0, 511}, {508, 511}}) {
      long got = key(base(words(x -> {
        long t = x[swap[0]];
        x[swap[0]] = x[swap[1]];
        x[swap[1]] = t;
        return x;
      })));
      assertNotEquals(k, got, "words " + swap[0] + " and " + swap[1] + " swapped");
    }
    assertNotEquals(k, key(base(words(x -> Arrays.copyOf(x, WORDS - 1)))), "one word fewer");
    assertNotEquals(key(base(words(x -> new long[WORDS]))), key(base(words(x -> new long[WORDS - 1]))));
    assertNotEquals(key(base(List.of())), key(base(null)));
  }

  @Test
  void everyComponentCounts() {
    List<Long> w = words(x -> x);
    long k = key(base(w));
    List<PageInfo> others = List.of(
        page(109, PteState.PRESENT, 0x1004, true, 1, w.get(0), w),
        page(108, PteState.DEVEXCL, 0x1004, true, 1, w.get(0), w),
        page(108, PteState.PRESENT, 0x1005, true, 1, w.get(0), w),
        page(108, PteState.PRESENT, 0x1004, false, 1, w.get(0), w),
        page(108, PteState.PRESENT, 0x1004, true, 2, w.get(0), w),
        page(108, PteState.PRESENT, 0x1004, true, 1, w.get(0) + 1, w),
        new PageInfo(108, PteState.PRESENT, 0x1004, true, false, true, false, 1, 1, true, true, w.get(0), w),
        new PageInfo(108, PteState.PRESENT, 0x1004, true, true, false, false, 1, 1, true, true, w.get(0), w),
        new PageInfo(108, PteState.PRESENT, 0x1004, true, true, true, true, 1, 1, true, true, w.get(0), w),
        new PageInfo(108, PteState.PRESENT, 0x1004, true, true, true, false, 1, 2, true, true, w.get(0), w),
        new PageInfo(108, PteState.PRESENT, 0x1004, true, true, true, false, 1, 1, false, true, w.get(0), w),
        new PageInfo(108, PteState.PRESENT, 0x1004, true, true, true, false, 1, 1, true, false, w.get(0), w),
        new PageInfo(108, null, 0x1004, true, true, true, false, 1, 1, true, true, w.get(0), w));
    Set<Long> keys = new HashSet<>(List.of(k));
    for (PageInfo o : others) {
      assertNotEquals(k, key(o), o.toString().substring(0, 120));
      keys.add(key(o));
    }
    assertEquals(others.size() + 1, keys.size());
  }

  /**
   * Over a corpus of replies and sequences of replies (and other inputs, which fold as before), two inputs have equal
   * keys exactly when the serial fold gave them equal keys: the same equalities, other values.
   */
  @Test
  void theSameEqualitiesAsTheSerialFold() {
    List<Object[]> corpus = new ArrayList<>();
    List<Long> w = words(x -> x);
    PageInfo a = base(w);
    PageInfo b = base(words(x -> {
      x[17] = 0;
      return x;
    }));
    PageInfo zero = page(7, PteState.PRESENT, 0x2000, true, 1, 0, words(x -> new long[WORDS]));
    PageInfo none = page(7, PteState.NONE, 0, false, 0, 0, List.of());
    HmmProtocol.InspectPage ask = new HmmProtocol.InspectPage(7, 1, 0x7f0000000000L);
    corpus.add(new Object[] {a});
    corpus.add(new Object[] {base(List.copyOf(w))});
    corpus.add(new Object[] {b});
    corpus.add(new Object[] {zero});
    corpus.add(new Object[] {page(7, PteState.PRESENT, 0x2000, true, 1, 0, new LinkedList<>(words(x -> new long[WORDS])))});
    corpus.add(new Object[] {none});
    corpus.add(new Object[] {page(7, PteState.NONE, 0, false, 0, 0, new ArrayList<>())});
    corpus.add(new Object[] {a, b});
    corpus.add(new Object[] {b, a});
    corpus.add(new Object[] {a, zero});
    corpus.add(new Object[] {base(new ArrayList<>(w)), zero});
    corpus.add(new Object[] {ask});
    corpus.add(new Object[] {ask, a});
    corpus.add(new Object[] {null});
    corpus.add(new Object[] {null, zero});
    corpus.add(new Object[] {null, page(7, PteState.PRESENT, 0x2000, true, 1, 0, Arrays.asList(new Long[WORDS]))});
    Map<Long, Long> serialOfKey = new HashMap<>();
    Map<Long, Long> keyOfSerial = new HashMap<>();
    for (int i = 0; i < corpus.size(); i++) {
      Object[] in = corpus.get(i);
      long k = key(in);
      long s = serial(in);
      assertEquals(k, (long) keyOfSerial.computeIfAbsent(s, x -> k), "input " + i + ": equal before, equal now");
      assertEquals(s, (long) serialOfKey.computeIfAbsent(k, x -> s), "input " + i + ": different before, different now");
    }
    assertEquals(12, keyOfSerial.size(), "the corpus's distinct inputs");
    assertEquals(serial(ask), key(ask), "any other input folds as the trace hash does");
    assertEquals(serial((Object) null), key((Object) null));
  }
}
