package hmmemu.cluster.scenario;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.HashMap;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * {@link KeyTable} answers as the {@code HashMap<Long, Integer>} and {@code HashSet<Long>} it replaced in
 * {@link Explorer}: over random operations on keys that are state keys, small sources, 0, negatives and keys that
 * share a slot, every get, add, putMin and size agrees with the map's.
 */
class KeyTableTest {
  @Test
  void answersAsAHashMap() {
    SplittableRandom rng = new SplittableRandom(13);
    KeyTable t = new KeyTable();
    Map<Long, Integer> m = new HashMap<>();
    long[] pool = new long[5000];
    for (int i = 0; i < pool.length; i++) {
      pool[i] = switch (i % 5) {
        case 0 -> rng.nextLong(); // a state key
        case 1 -> i; // a link lane's source
        case 2 -> -i; // an event's own source
        case 3 -> (long) i << 40; // keys whose low bits agree
        default -> i == 4 ? 0 : Long.MIN_VALUE + i;
      };
    }
    for (int op = 0; op < 200_000; op++) {
      long k = pool[rng.nextInt(pool.length)];
      int v = rng.nextInt(-5, 1000);
      switch (rng.nextInt(4)) {
        case 0 -> {
          t.put(k, v);
          m.put(k, v);
        }
        case 1 -> assertEquals(m.putIfAbsent(k, 0) == null, t.add(k), "add " + k);
        case 2 -> {
          t.putMin(k, v);
          m.merge(k, v, Math::min);
        }
        default -> assertEquals(m.getOrDefault(k, KeyTable.ABSENT), t.get(k), "get " + k);
      }
      assertEquals(m.size(), t.size());
    }
    for (long k : pool) assertEquals(m.getOrDefault(k, KeyTable.ABSENT), t.get(k), "get " + k);
  }
}
