package hmmemu.protocol.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * {@link LinkedLongTable} behaves as the {@code LinkedHashMap<Long, V>} it replaces: the same answers to get, put,
 * remove and containsKey, and the same iteration order (insertion order; a key put again keeps its place), through
 * holes, squeezes, growth past the linear scan and the hash index.
 */
class LinkedLongTableTest {
  private static <V> List<Object> entries(LinkedLongTable<V> t) {
    List<Object> out = new ArrayList<>();
    for (int i = 0; i < t.positions(); i++) {
      if (t.valueAt(i) == null) continue;
      out.add(t.keyAt(i));
      out.add(t.valueAt(i));
    }
    return out;
  }

  private static <V> List<Object> entries(Map<Long, V> m) {
    List<Object> out = new ArrayList<>();
    for (Map.Entry<Long, V> e : m.entrySet()) {
      out.add(e.getKey());
      out.add(e.getValue());
    }
    return out;
  }

  @Test
  void randomOperationsAnswerAndIterateAsALinkedHashMap() {
    for (int keySpace : new int[] {3, 12, 40, 300}) {
      Random r = new Random(keySpace);
      LinkedLongTable<Integer> t = new LinkedLongTable<>();
      Map<Long, Integer> m = new LinkedHashMap<>();
      for (int step = 0; step < 20_000; step++) {
        long key = (r.nextInt(keySpace) - keySpace / 2) * 0x1_0000_0001L; // negative keys and a shared low half
        int op = r.nextInt(10);
        String at = "keySpace " + keySpace + " step " + step;
        if (op < 4) assertEquals(m.put(key, step), t.put(key, step), at + ": put");
        else if (op < 8) assertEquals(m.remove(key), t.remove(key), at + ": remove");
        else assertEquals(m.get(key), t.get(key), at + ": get");
        assertEquals(m.containsKey(key), t.containsKey(key), at + ": containsKey");
        assertEquals(m.size(), t.size(), at + ": size");
        if (step % 97 == 0 || keySpace <= 12) {
          assertEquals(entries(m), entries(t), at + ": entries in order");
          assertEquals(new ArrayList<>(m.values()), t.valuesCopy(), at + ": valuesCopy");
          assertEquals(new ArrayList<>(m.values()), new ArrayList<>(t.values()), at + ": values");
          List<Integer> iterated = new ArrayList<>();
          for (Integer v : t) iterated.add(v);
          assertEquals(new ArrayList<>(m.values()), iterated, at + ": iterator");
        }
      }
    }
  }

  @Test
  void aFifoOfInFlightIdsKeepsItsOrderAndStaysSmall() {
    LinkedLongTable<String> t = new LinkedLongTable<>();
    for (long id = 1; id <= 10_000; id++) {
      t.put(id, "inv" + id);
      if (id > 3) assertEquals("inv" + (id - 3), t.remove(id - 3));
      assertEquals(Math.min(id, 3), t.size());
    }
    assertEquals(List.of("inv9998", "inv9999", "inv10000"), t.valuesCopy());
    assertEquals("{9998=inv9998, 9999=inv9999, 10000=inv10000}", t.toString());
    assertThrows(NullPointerException.class, () -> t.put(1, null));
  }
}
