package hmmemu.sim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import hmmemu.protocol.model.ModelSwitches;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The fast-forward's picture of the simulator: deterministic per seed (no identity hashes), and it sees a difference. */
class StateWalkTest {
  private static List<Long> picture(long seed) {
    Sim[] sim = new Sim[1];
    SimExperiment.Result r = SimExperiment.run("kernel", SimConfig.of(seed, 1, ModelSwitches.kernel().withDriverDeadlineMicros(2_000)),
        new SimExperiment.Workload(1, 2, 3, 1, 5, 2, 1, seed, false), 3_600_000_000L, Long.MAX_VALUE, null, null,
        s -> sim[0] = s);
    assertTrue(r.ok(), "seed " + seed + ": " + r.liveness() + " " + r.violations());
    StateWalk w = StateWalk.of(sim[0]);
    assertNull(w.opaque, "every object of the simulator can be opened");
    List<Long> out = new ArrayList<>();
    for (StateWalk.Leaf l : w.leaves) {
      out.add(l.where());
      out.add(l.value());
    }
    StateWalk named = StateWalk.of(sim[0], true);
    assertEquals(w.leaves.size(), named.leaves.size(), "a named picture has the same leaves");
    assertEquals("sim.now", named.leaves.stream().filter(l -> l.path().equals("sim.now")).findFirst().orElseThrow().path());
    return out;
  }

  @Test
  void theSameSeedGivesTheSamePictureAndAnotherSeedAnother() {
    List<Long> a = picture(7), b = picture(7), c = picture(8);
    assertTrue(a.size() > 1000, "a picture of the whole simulator: " + a.size() / 2 + " leaves");
    assertEquals(a, b, "two runs of one seed: the same picture, leaf for leaf");
    assertNotEquals(a, c, "another seed: another picture");
  }

  /** A checker's NotifierShadow whose ring of ended invalidations holds ids 100..100+n-1, entry {@code odd} of another range. */
  private static Object notifierShadowWithEnded(int n, int odd) throws Exception {
    Class<?> shadowClass = Class.forName("hmmemu.checker.NotifierShadow");
    Class<?> invClass = Class.forName("hmmemu.checker.Invalidation");
    var make = shadowClass.getDeclaredConstructor();
    make.setAccessible(true);
    Object shadow = make.newInstance();
    var newInv = invClass.getDeclaredConstructor(hmmemu.protocol.trace.Trace.InvalidateStarted.class);
    newInv.setAccessible(true);
    var inFlight = shadowClass.getDeclaredField("inFlight");
    inFlight.setAccessible(true);
    var end = shadowClass.getDeclaredMethod("end", long.class);
    end.setAccessible(true);
    @SuppressWarnings("unchecked") hmmemu.protocol.model.LinkedLongTable<Object> flying =
        (hmmemu.protocol.model.LinkedLongTable<Object>) inFlight.get(shadow);
    for (int k = 0; k < n; k++) {
      long id = 100 + k;
      long start = k == odd ? 0x20_0000L : 0x10_0000L;
      flying.put(id, newInv.newInstance(new hmmemu.protocol.trace.Trace.InvalidateStarted(id, 1, start, start + 4096,
          hmmemu.protocol.model.NotifyEvent.UNMAP, 0, true, List.of(7L))));
      end.invoke(shadow, id);
    }
    return shadow;
  }

  private static List<Long> values(StateWalk w) {
    List<Long> out = new ArrayList<>();
    for (StateWalk.Leaf l : w.leaves) {
      out.add(l.where());
      out.add(l.value());
    }
    return out;
  }

  @Test
  void aRingOfEndedInvalidationsIsOneLeafThatSeesEveryEntry() throws Exception {
    StateWalk same = StateWalk.of(notifierShadowWithEnded(64, -1)), again = StateWalk.of(notifierShadowWithEnded(64, -1));
    assertNull(same.opaque);
    assertEquals(values(same), values(again), "equal rings: equal pictures");
    long hashes = same.leaves.stream().filter(l -> l.site().equals("hmmemu.checker.NotifierShadow#endedEntries")).count();
    assertEquals(1, hashes, "the entries are folded into one leaf");
    assertTrue(same.leaves.stream().noneMatch(l -> l.site().startsWith("hmmemu.checker.Invalidation#")
        || l.site().startsWith("hmmemu.protocol.trace.Trace$InvalidateStarted#")), "no leaf of an entry is left");
    for (int odd : new int[] {0, 31, 63}) {
      StateWalk other = StateWalk.of(notifierShadowWithEnded(64, odd));
      assertEquals(same.leaves.size(), other.leaves.size());
      assertNotEquals(values(same), values(other), "rings differing in entry " + odd + " only: different pictures");
    }
  }

  /** A checker's FolioLockShadow that released reqIds from..from+n-1, entry {@code odd} as reqId from+n+1000 instead. */
  private static Object folioLockShadowWithReleased(long from, int n, int odd) throws Exception {
    Class<?> shadowClass = Class.forName("hmmemu.checker.FolioLockShadow");
    var make = shadowClass.getDeclaredConstructor();
    make.setAccessible(true);
    Object shadow = make.newInstance();
    var release = shadowClass.getDeclaredMethod("release", long.class);
    release.setAccessible(true);
    for (int k = 0; k < n; k++) release.invoke(shadow, k == odd ? from + n + 1000 : from + k);
    return shadow;
  }

  private static long releasedHash(StateWalk w) {
    List<StateWalk.Leaf> h = w.leaves.stream().filter(l -> l.site().equals("hmmemu.checker.FolioLockShadow#releasedEntries")).toList();
    assertEquals(1, h.size(), "the released reqIds' values are folded into one leaf");
    return h.get(0).value();
  }

  @Test
  void aRingOfReleasedReqIdsKeepsItsKeysAndFoldsItsValues() throws Exception {
    StateWalk same = StateWalk.of(folioLockShadowWithReleased(100, 64, -1)),
        again = StateWalk.of(folioLockShadowWithReleased(100, 64, -1));
    assertNull(same.opaque);
    assertEquals(values(same), values(again), "equal rings: equal pictures");
    assertEquals(66, same.leaves.stream().filter(l -> l.site().equals("hmmemu.checker.FolioLockShadow#released")).count(),
        "the table's type, its size and its 64 keys stay leaves, its values do not");
    assertEquals(64, StateWalk.of(folioLockShadowWithReleased(100, 64, -1), true).leaves.stream()
        .filter(l -> l.site().equals("hmmemu.checker.FolioLockShadow#released") && l.path().endsWith(".k")).count(),
        "of which 64 keys");
    assertEquals(releasedHash(same), releasedHash(StateWalk.of(folioLockShadowWithReleased(900, 64, -1))),
        "a ring shifted by reqIds: the same hash leaf (it must not move for a jump)");
    for (int odd : new int[] {0, 31, 63}) {
      StateWalk other = StateWalk.of(folioLockShadowWithReleased(100, 64, odd));
      assertEquals(same.leaves.size(), other.leaves.size());
      assertNotEquals(values(same), values(other), "rings differing in entry " + odd + " only: different pictures");
    }
  }

  @Test
  void aRefilledRingOfEndedInvalidationsIsWhatTheSkippedPeriodsLeave() throws Exception {
    // 200 invalidations ended, then a jump of 5,000 periods of one each: as 5,200 ended, but for the ids
    Object jumped = notifierShadowWithEnded(200, -1), unskipped = notifierShadowWithEnded(5200, -1);
    var refill = jumped.getClass().getDeclaredMethod("refillEnded", int.class, long.class, int.class);
    refill.setAccessible(true);
    refill.invoke(jumped, 1, 5000L, StateWalk.RING_WINDOW);
    StateWalk a = StateWalk.of(jumped), b = StateWalk.of(unskipped);
    assertEquals(b.leaves.size(), a.leaves.size(), "a full ring of 4,096");
    for (int i = 0; i < a.leaves.size(); i++) {
      StateWalk.Leaf x = a.leaves.get(i), y = b.leaves.get(i);
      assertEquals(y.where(), x.where(), "the same shape at leaf " + i);
      if (!FastForwardSites.identity(x.site())) assertEquals(y.value(), x.value(), "leaf " + i + " at " + x.site());
    }
    var newest = jumped.getClass().getDeclaredMethod("endedNewestFirst");
    newest.setAccessible(true);
    long[] ids = (long[]) newest.invoke(jumped);
    assertEquals(4096, ids.length);
    for (int k = 0; k < StateWalk.RING_WINDOW; k++) assertEquals(299 - k, ids[k], "the newest ids keep their place");
    assertTrue(ids[StateWalk.RING_WINDOW] < hmmemu.checker.RingRefill.UNISSUED + 4096,
        "older positions get ids no run issues: " + ids[StateWalk.RING_WINDOW]);
    var find = jumped.getClass().getDeclaredMethod("find", long.class);
    find.setAccessible(true);
    for (long old = 100; old < 236; old++) assertNull(find.invoke(jumped, old), "invId " + old + " evicted, as unskipped");
  }

  /** A histogram's counts, as a latency histogram holds them (an inert site: its elements can only stay put). */
  static final class Counts {
    long[] counts = new long[1000];
    int[] small = new int[8];
  }

  @Test
  void aFastForwardPictureFoldsALongInertArrayIntoOneLeafThatSeesEveryElement() {
    Counts c = new Counts();
    assertTrue(StateWalkClasses.inert(Counts.class.getName() + "#counts"), "a histogram's counts bound, advance and identify nothing");
    StateWalk whole = StateWalk.of(c), before = StateWalk.window(c, false, false);
    assertTrue(whole.size() > 1000, "a picture for comparisons keeps a leaf per element: " + whole.size());
    assertTrue(before.size() < 20, "the fast-forward's picture folds the 1,000 counts: " + before.size() + " leaves");
    for (int i : new int[] {0, 499, 999}) {
      c.counts[i]++;
      StateWalk after = StateWalk.window(c, false, false);
      assertEquals(before.size(), after.size(), "the same shape");
      int differ = 0;
      for (int k = 0; k < after.size(); k++) {
        assertEquals(before.where(k), after.where(k), "the same shape at leaf " + k);
        if (before.value(k) != after.value(k)) differ++;
      }
      assertEquals(1, differ, "element " + i + " changed: the folded leaf moves");
      c.counts[i]--;
    }
    c.small[3]++;
    StateWalk small = StateWalk.window(c, false, false);
    assertEquals(before.size(), small.size(), "a short array keeps its leaves");
  }
}
