package hmmemu.sim;

import java.util.Map;

/**
 * The fast-forward's refill of the checker's rings (NotifierShadow's ended invalidations, FolioLockShadow's released
 * reqIds): which ring count sites a jump refills, the refill itself, and when a refill could differ from the unskipped
 * run. An emulator-only host mechanism, not a kernel structure; moved out of {@link FastForward} unchanged.
 */
final class FastForwardRings {
  private FastForwardRings() {}

  /** The checker rings' counts of entries taken in (NotifierShadow, FolioLockShadow), whose rings a jump refills. */
  static final String ENDED_COUNT = "hmmemu.checker.NotifierShadow#endedCount",
      RELEASED_COUNT = "hmmemu.checker.FolioLockShadow#releasedCount";

  /** Per ring count site: the shadow's refill method and its ids' reader (NotifierShadow#refillEnded ...). */
  private static final Map<String, String[]> RING_REFILL = Map.of(
      ENDED_COUNT, new String[] {"refillEnded", "endedNewestFirst"},
      RELEASED_COUNT, new String[] {"refillReleased", "releasedNewestFirst"});

  /** Entries each of the checker's rings keeps (NotifierShadow.ENDED_INVALIDATIONS_KEPT, FolioLockShadow.RELEASED_KEPT). */
  static final int RING_KEPT = 4096;

  /** Whether {@code site} is a ring count a jump refills (emulator-only). */
  static boolean refills(String site) { return RING_REFILL.containsKey(site); }

  /** Refills the ring whose count leaf is {@code l} as {@code n} more periods of {@code d} entries leave it (emulator-only). */
  static void refill(StateWalk.Leaf l, int d, long n) throws ReflectiveOperationException {
    java.lang.reflect.Method refill = l.owner().getClass().getDeclaredMethod(RING_REFILL.get(l.site())[0], int.class,
        long.class, int.class);
    refill.setAccessible(true);
    refill.invoke(l.owner(), d, n, StateWalk.RING_WINDOW);
  }

  /**
   * Why a refill of the checker's rings could differ from the unskipped run, or null. A refilled ring keeps, in its
   * positions the newest entries' id pattern reaches, those ids ([lo, hi] per id family: a device's reqIds, which
   * interleave in the ring when two devices spin) for copies of the newest period's entries; so no id of a family
   * outside the ring may stay fixed in its family's [lo, hi] (it would find a copy, where the unskipped run finds its
   * old entry evicted), and none may move below its family's lo (its entry gets an unissued id: the unskipped run would
   * find it). A family with no kept id has none in the pattern either, provided the pattern spans a period.
   */
  static String refusal(StateWalk last, long[] delta, byte[] kind) {
    for (int r = 0; r < kind.length; r++) {
      if (kind[r] != 5) continue;
      StateWalk.Leaf ring = last.leaves.get(r);
      long[] ids;
      try {
        java.lang.reflect.Method m = ring.owner().getClass().getDeclaredMethod(RING_REFILL.get(ring.site())[1]);
        m.setAccessible(true);
        ids = (long[]) m.invoke(ring.owner());
      } catch (ReflectiveOperationException e) {
        return "cannot read a checker ring: " + e;
      }
      int d = (int) delta[r];
      if (ids.length < d || d > StateWalk.RING_WINDOW / 2) return "a checker ring takes in more than its window shows a period";
      int real = Math.min(hmmemu.checker.RingRefill.periodic(ids, d), StateWalk.RING_WINDOW);
      boolean inv = ring.site().equals(ENDED_COUNT);
      // per id family (a device's reqIds: Ids.deviceOfReq; invIds: one family), the kept ids [lo, hi]: ids of
      // different devices are never compared, so ranges of interleaved families must not be merged (two GPU nodes)
      Map<Long, long[]> kept = new java.util.HashMap<>();
      for (int k = 0; k < real; k++) { // lo: the family's oldest kept id, hi: its newest (as for one family before)
        long id = ids[k];
        kept.computeIfAbsent(familyOf(id, inv), f -> new long[] {id, id})[0] = id;
      }
      String ringSite = inv ? "hmmemu.checker.NotifierShadow#ended" : "hmmemu.checker.FolioLockShadow#released";
      for (int i = 0; i < kind.length; i++) {
        StateWalk.Leaf l = last.leaves.get(i);
        if (!l.number() || l.site().equals(ringSite) || !(inv ? invIdSite(l.site()) : reqIdSite(l.site()))) continue;
        long v = l.value();
        long[] range = kept.get(familyOf(v, inv));
        if (range == null) {
          // no kept id of this family: the pattern the refill extrapolates holds none (if it spans a period)
          if (delta[i] != 0 && real < d) return "a moving id of a family a refilled ring's short pattern lacks: " + l.site();
          continue;
        }
        if (delta[i] == 0 && v >= range[0] && v <= range[1]) return "a fixed id in a refilled ring's kept ids: " + l.site() + " " + v;
        if (delta[i] != 0 && v < range[0]) return "a moving id older than a refilled ring's kept ids: " + l.site() + " " + v;
      }
    }
    return null;
  }

  /** An id's family: its device for a reqId ({@code Ids.deviceOfReq}), one family for invalidation ids. */
  private static long familyOf(long id, boolean inv) { return inv ? 0 : id >> hmmemu.protocol.msg.Ids.REQ_DEVICE_SHIFT; }

  /** Sites holding invalidation ids (a field named invId, or the notifier's next one). */
  static boolean invIdSite(String site) {
    String f = site.substring(site.indexOf('#') + 1);
    return f.equals("invId") || f.equals("nextInvId");
  }

  /**
   * Sites holding the drivers' reqIds (a field named ...reqId, or a table keyed by them: FastForward.IDENTITY's); not
   * a CPU access's (a CPU loop's own or the controller's): the released ring holds make_device_exclusive's reqIds
   * (Trace.ExclusiveReturned) only, so a CPU access's id is never looked up there.
   */
  static boolean reqIdSite(String site) {
    if (site.equals("hmmemu.protocol.msg.HmmProtocol$CpuAccess#reqId")
        || site.equals("hmmemu.protocol.msg.HmmProtocol$CpuAccessDone#reqId")) return false;
    String f = site.substring(site.indexOf('#') + 1);
    return f.toLowerCase(java.util.Locale.ROOT).contains("reqid") || site.equals("hmmemu.gpu.core.driver.Replies#exclusive")
        || site.equals("hmmemu.cpu.core.DeviceExclusive#grants") || site.equals("hmmemu.checker.FolioLockShadow#holds")
        || site.equals("hmmemu.checker.FolioLockShadow#lockHolder");
  }
}
