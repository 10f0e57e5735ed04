package hmmemu.cpu.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import hmmemu.protocol.model.Page;
import hmmemu.protocol.msg.PageWords;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * An inspection's words ({@link Folio#wordList}, InspectPage's and InspectFolio's reply) are a {@link PageWords}
 * backed by a copy of the folio's words: for an all-zero, a sparse and a dense folio the same list, hash code and
 * string as the boxed list of {@link Folio#word} of every index, unchanged by later writes, and unmodifiable.
 */
class PageWordsTest {
  private static List<Long> boxed(Folio f) {
    List<Long> out = new ArrayList<>();
    for (int i = 0; i < Page.WORDS; i++) out.add(f.word(i));
    return List.copyOf(out);
  }

  private static void sameList(List<Long> want, PageWords got) {
    assertEquals(want, got);
    assertEquals(got, want);
    assertEquals(want.hashCode(), got.hashCode());
    assertEquals(want.toString(), got.toString());
    assertEquals(want.size(), got.size());
    for (int i = 0; i < want.size(); i++) assertEquals((long) want.get(i), got.word(i), "word " + i);
  }

  @Test
  void zeroSparseAndDenseFoliosGiveTheirWords() {
    Folio f = new Folio(0x1000, false);
    sameList(boxed(f), f.wordList()); // all zero
    f.setWord(0, 7);
    f.setWord(511, -1);
    f.setWord(17, Long.MIN_VALUE);
    PageWords sparse = f.wordList();
    sameList(boxed(f), sparse);
    assertEquals(3, sparse.stored(), "a sparse folio's reply holds its pairs, not 512 words");
    long[] asDense = new long[Page.WORDS];
    for (int i = 0; i < Page.WORDS; i++) asDense[i] = f.word(i);
    sameList(boxed(f), PageWords.wrap(asDense));
    assertEquals(PageWords.wrap(asDense), sparse);
    assertEquals(sparse, PageWords.wrap(asDense));
    assertThrows(IndexOutOfBoundsException.class, () -> sparse.word(Page.WORDS));
    List<Long> sparseWant = boxed(f);
    for (int i = 0; i < Page.WORDS; i++) f.setWord(i, 3L * i + 1); // past SPARSE_MAX: dense
    PageWords dense = f.wordList();
    sameList(boxed(f), dense);
    sameList(sparseWant, sparse); // a reply is a snapshot: later writes do not show in it
    List<Long> denseWant = boxed(f);
    f.setWord(5, 0);
    sameList(denseWant, dense);
    sameList(boxed(f), f.wordList());
    assertTrue(!dense.equals(f.wordList()), "one word differs");
  }

  @Test
  void aReplysWordsCannotBeChanged() {
    Folio f = new Folio(0x1000, false);
    f.setWord(3, 9);
    PageWords w = f.wordList();
    assertThrows(UnsupportedOperationException.class, () -> w.set(3, 1L));
    assertThrows(UnsupportedOperationException.class, () -> w.add(1L));
    assertThrows(UnsupportedOperationException.class, () -> new Folio(0x1001, false).wordList().set(0, 1L));
  }
}
