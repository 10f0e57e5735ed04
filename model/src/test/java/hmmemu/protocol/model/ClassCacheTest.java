package hmmemu.protocol.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** ClassCache: each class's value as computed, once, whatever the slots' collisions. */
class ClassCacheTest {
  private static final List<Class<?>> CLASSES = List.of(String.class, Integer.class, Long.class, List.class,
      ArrayList.class, Object.class, int[].class, long[].class, Thread.class, Runnable.class, Test.class,
      ClassCache.class, ClassCacheTest.class, Character.class, Byte.class, Short.class, Double.class);

  @Test
  void everyClassGetsItsOwnValueThroughOneSlot() {
    List<Class<?>> computed = new ArrayList<>();
    ClassCache<String> names = new ClassCache<>(1, c -> {
      computed.add(c);
      return c == Object.class ? null : c.getName();
    });
    ClassCache.OfInt lengths = new ClassCache.OfInt(1, c -> c.getName().length());
    for (int round = 0; round < 3; round++) {
      for (Class<?> c : CLASSES) {
        if (c == Object.class) assertNull(names.get(c));
        else assertEquals(c.getName(), names.get(c));
        assertEquals(c.getName().length(), lengths.get(c));
      }
    }
    assertEquals(CLASSES, computed, "one computation per class, though every class shares the one slot");
  }

  @Test
  void slotsMustBeAPowerOfTwo() {
    assertThrows(IllegalArgumentException.class, () -> new ClassCache<>(3, Class::getName));
    assertThrows(IllegalArgumentException.class, () -> new ClassCache.OfInt(0, c -> 0));
    assertEquals(7, new ClassCache.OfInt(8, c -> 7).get(String.class));
  }
}
