package hmmemu.sim;

import java.util.Map;

/**
 * The fast-forward's refill of the checker's rings (NotifierShadow's ended invalidations, FolioLockShadow's released
 * reqIds): which ring count sites a jump refills, the refill itself, and when a refill could differ from the unskipped
 * run: in whole ({@link #refill}, n x d >= 4,096 entries) or in part ({@link #partialIds}, {@link #refillPartial}). An
 * emulator-only host mechanism, not a kernel structure.
 */
final class FastForwardRings {
  private FastForwardRings() {}

  /** The checker rings' counts of entries taken in (NotifierShadow, FolioLockShadow), whose rings a jump refills. */
  static final String ENDED_COUNT = "hmmemu.checker.NotifierShadow#endedCount",
      RELEASED_COUNT = "hmmemu.checker.FolioLockShadow#releasedCount";

  /** Per ring count site: the shadow's refill method and its ids' reader (NotifierShadow#refillEnded ...). */
  private static final Map<String, String[]> RING_REFILL = Map.of(
      ENDED_COUNT, new String[] {"refillEnded", "endedNewestFirst", "refillEndedPartial"},
      RELEASED_COUNT, new String[] {"refillReleased", "releasedNewestFirst", "refillReleasedPartial"});

  /**
   * A ring's refill, ids' reader and partial refill (accessible), by the ring count leaf's site: looked up once per
   * site (session 23, ringcost; a jump looked each up again), the ring's owner class being the site's.
   */
  private static java.lang.reflect.Method[] methods(StateWalk.Leaf ring) throws ReflectiveOperationException {
    java.lang.reflect.Method[] m = METHODS.get(ring.site());
    if (m != null && m[0].getDeclaringClass() == ring.owner().getClass()) return m;
    Class<?> c = ring.owner().getClass();
    String[] names = RING_REFILL.get(ring.site());
    m = new java.lang.reflect.Method[] {c.getDeclaredMethod(names[0], int.class, long.class, int.class),
        c.getDeclaredMethod(names[1]), c.getDeclaredMethod(names[2], int.class, int.class, long[].class)};
    for (java.lang.reflect.Method x : m) x.setAccessible(true);
    METHODS.put(ring.site(), m);
    return m;
  }

  private static final Map<String, java.lang.reflect.Method[]> METHODS = new java.util.concurrent.ConcurrentHashMap<>();

  /** Entries each of the checker's rings keeps (NotifierShadow.ENDED_INVALIDATIONS_KEPT, FolioLockShadow.RELEASED_KEPT). */
  static final int RING_KEPT = 4096;

  /** Whether {@code site} is a ring count a jump refills (emulator-only). */
  static boolean refills(String site) { return RING_REFILL.containsKey(site); }

  /** Refills the ring whose count leaf is {@code l} as {@code n} more periods of {@code d} entries leave it (emulator-only). */
  static void refill(StateWalk.Leaf l, int d, long n) throws ReflectiveOperationException {
    methods(l)[0].invoke(l.owner(), d, n, StateWalk.RING_WINDOW);
  }

  /**
   * Why a refill of the checker's rings could differ from the unskipped run, or null. A refilled ring keeps, in its
   * positions the newest entries' id pattern reaches, those ids ([lo, hi] per id family: a device's reqIds, which
   * interleave in the ring when two devices spin) for copies of the newest period's entries; so no id of a family
   * outside the ring may stay fixed in its family's [lo, hi] (it would find a copy, where the unskipped run finds its
   * old entry evicted), and none may move below its family's lo (its entry gets an unissued id: the unskipped run would
   * find it). A family with no kept id has none in the pattern either, provided the pattern spans a period.
   */
  static String refusal(StateWalk last, long[] delta, byte[] kind, long n) {
    PLANNED.get().clear(); // this look's partial refills' labels (refillPartial reads them)
    int[][] idLeaves = null; // the leaves at invId sites and at reqId sites, found once for both rings
    for (int r = 0; r < kind.length; r++) {
      if (kind[r] != 5) continue;
      StateWalk.Leaf ring = last.leaves.get(r);
      if (idLeaves == null) idLeaves = idLeaves(last);
      if (n > 0 && n * delta[r] < RING_KEPT) {
        if (FULL_ONLY) return "a leaf ahead (deadline, lease, wake, fault, the run's bounds) is too close";
        String why = partialRefusal(last, delta, idLeaves[ring.site().equals(ENDED_COUNT) ? 0 : 1], r, n);
        if (why != null) return why;
        continue;
      }
      long[] ids;
      try {
        ids = (long[]) methods(ring)[1].invoke(ring.owner());
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
      for (int k = 0; k < real; k++) { // lo: the family's oldest kept id; [min, max] of its kept ids
        long id = ids[k];
        long[] f = kept.computeIfAbsent(familyOf(id, inv), x -> new long[] {id, id, id, id});
        f[0] = id;
        f[2] = Math.min(f[2], id);
        f[3] = Math.max(f[3], id);
      }
      for (int i : idLeaves[inv ? 0 : 1]) {
        StateWalk.Leaf l = last.leaves.get(i);
        long v = l.value();
        long[] range = kept.get(familyOf(v, inv));
        if (range == null) {
          // no kept id of this family: the pattern the refill extrapolates holds none (if it spans a period)
          if (delta[i] != 0 && real < d) return "a moving id of a family a refilled ring's short pattern lacks: " + l.site();
          continue;
        }
        // [min, max], not [oldest, newest]: airtight when a period's ids are not monotone (the same range otherwise)
        if (delta[i] == 0 && v >= range[2] && v <= range[3]) return "a fixed id in a refilled ring's kept ids: " + l.site() + " " + v;
        if (delta[i] != 0 && v < range[0]) return "a moving id older than a refilled ring's kept ids: " + l.site() + " " + v;
      }
    }
    return null;
  }

  /**
   * Whether {@code n} periods refill the ring whose count is leaf {@code r} partially: fewer than {@value #RING_KEPT}
   * entries ({@link FastForward#tryJump} then calls {@link #refillPartial} instead of {@link #refill}).
   */
  static boolean partial(long[] delta, int r, long n) { return !FULL_ONLY && n * delta[r] < RING_KEPT; }

  /** Diagnostics: no partial refill, as before session 15's ffring2 (a jump refills n x d >= 4,096 entries or none). */
  static final boolean FULL_ONLY = Boolean.getBoolean("hmm.ff.fullRings");

  /**
   * The partial refill (k = n x d entries, fewer than the ring keeps). The unskipped run's ring after the n periods
   * is, newest first, the k entries of the skipped periods (the newest d's contents, ids advanced by the ring's step s
   * a period) and then the newest {@code RING_KEPT - k} entries the ring holds now, unchanged. The jumped run must hold
   * the same ring under the jump's identity convention: every moving id of a family stays where it is, i.e. is the
   * unskipped run's less n x its step a period, and every fixed id is the unskipped run's. So the labels are the
   * unskipped ids less n x sigma(family), sigma = s for a family of the newest period's entries, 0 for another:
   * a skipped entry q gets id[q mod d] - (q / d) x s (for q below the periodic pattern: its own id, as the full refill
   * keeps), and a kept entry gets its id less n x sigma. The kept entries of a moving family are relabelled: the
   * unskipped run's copy of an entry sits at a position k later under its own id, which the jumped run gives to the
   * extrapolated entry in front (the relabelled entry keeps its contents, and its id keeps its offset from its key,
   * so the pictures' folded leaf of it is unchanged). Returns null when the ring's newest two periods do not show its
   * step (fewer than 2d periodic entries) or an id is there twice; else the labels and the unskipped run's ids, newest
   * first. A label another entry took already (a family's ids less n x s reaching
   * below its first id, into another family's) is replaced by one no run issues: any injective labelling is exact
   * where {@link #partialRefusal} passes, which compares every id outside the ring with the labels themselves.
   */
  static long[][] partialIds(long[] ids, int d, long n, boolean inv) {
    if (d <= 0 || ids.length < 2 * d || hmmemu.checker.RingRefill.periodic(ids, d) < 2 * d) {
      return null;
    }
    long s = ids[0] - ids[d];
    long[] moving = new long[d]; // the families of the newest period's entries
    for (int j = 0; j < d; j++) moving[j] = familyOf(ids[j], inv);
    for (int j = d; j < 2 * d; j++) if (familyOf(ids[j], inv) != familyOf(ids[j - d], inv)) return null;
    int k = (int) (n * d);
    int total = (int) Math.min(RING_KEPT, (long) ids.length + k);
    long[] labels = new long[total], unskipped = new long[total];
    IdTable seen = new IdTable(total), seenU = new IdTable(total);
    long free = 0; // the next label no run issues to try (an earlier refill's may be kept: skipped when taken)
    for (int pass = 0; pass < 2; pass++) { // the kept entries first, then the extrapolated ones
      for (int q = pass == 0 ? k : 0; q < (pass == 0 ? total : Math.min(k, total)); q++) {
        long src = q < k ? ids[q % d] : ids[q - k];
        long sigma = contains(moving, familyOf(src, inv)) ? s : 0;
        unskipped[q] = q < k ? src + (n - q / d) * s : src;
        if (!seenU.putIfAbsent(unskipped[q], q)) return null; // an id twice in the unskipped ring (a reqId released twice)
        labels[q] = q < k ? src - (q / d) * s : src - n * sigma;
        // a label taken already (a device's first reqIds less n x s reach another device's range): one no run issues
        while (!seen.putIfAbsent(labels[q], q)) labels[q] = hmmemu.checker.RingRefill.UNISSUED + free++;
      }
    }
    return new long[][] {labels, unskipped};
  }

  /**
   * Why the partial refill of ring {@code r} ({@link #partialIds}) could differ from the unskipped run, or null: exact,
   * by membership, whatever the order or the family of a period's ids. An id outside the ring (a number at an id site of
   * the ring's kind) with value v in the jumped run and step e a period is v + n x e in the unskipped run: a lookup of
   * v in the jumped ring must find the entry at the same position as the unskipped run's lookup of v + n x e in its
   * ring, or neither may find one; else refused. (A moving id of a family that moves with the ring passes, as every
   * label is the unskipped id less n x its family's step; a fixed id passes unless it is, or labels, a kept entry of a
   * moving family.)
   */
  static String partialRefusal(StateWalk last, long[] delta, int[] idLeaves, int r, long n) {
    StateWalk.Leaf ring = last.leaves.get(r);
    boolean inv = ring.site().equals(ENDED_COUNT);
    long[] ids = newestFirst(ring);
    if (ids == null) return "cannot read a checker ring";
    int d = (int) delta[r];
    long[][] both = partialIds(ids, d, n, inv);
    if (both == null) return "a partially refilled ring whose newest two periods do not show one step, or an id twice";
    long[] jumpedIds = new long[idLeaves.length], unskippedIds = new long[idLeaves.length];
    for (int j = 0; j < idLeaves.length; j++) {
      jumpedIds[j] = last.leaves.get(idLeaves[j]).value();
      unskippedIds[j] = jumpedIds[j] + n * delta[idLeaves[j]];
    }
    int bad = misfound(jumpedIds, unskippedIds, both);
    if (bad >= 0) {
      // session 22 (c12bcost): labels led by the ids outside the ring (a fixed id keeps its entry's label), checked alike
      long[][] led = ledIds(ids, d, n, inv, jumpedIds, unskippedIds);
      if (led == null || misfound(jumpedIds, unskippedIds, led) >= 0) {
        StateWalk.Leaf l = last.leaves.get(idLeaves[bad]);
        return "an id outside a partially refilled ring finds another entry than the unskipped run's: " + l.site() + " "
            + l.value();
      }
      both = led;
    }
    PLANNED.get().put(ring.owner(), new Object[] {ids, d, n, both});
    return null;
  }

  /**
   * The first id outside the ring (j: jumped value {@code jumpedIds[j]}, unskipped value {@code unskippedIds[j]}, v + n
   * x its step) that, looked up in the jumped ring under {@code both}'s labels, finds another position than its
   * unskipped value finds in the unskipped ring (neither finding one counts as the same), or -1: the check of {@link
   * #partialRefusal}, whatever labelling {@code both} holds.
   */
  static int misfound(long[] jumpedIds, long[] unskippedIds, long[][] both) {
    IdTable jumped = new IdTable(both[0].length), unskipped = new IdTable(both[1].length);
    for (int q = 0; q < both[0].length; q++) { // labels and unskipped ids are each distinct (partialIds, ledIds)
      jumped.putIfAbsent(both[0][q], q);
      unskipped.putIfAbsent(both[1][q], q);
    }
    for (int j = 0; j < jumpedIds.length; j++) { // the same position, or neither finds one (-1)
      if (jumped.get(jumpedIds[j]) != unskipped.get(unskippedIds[j])) return j;
    }
    return -1;
  }

  /**
   * Labels led by the ids outside the ring (session 22, c12bcost), for a ring whose {@link #partialIds} labels an id
   * outside it would misfind: typically a fixed reqId of the spin's own family (a delivered FolioUnlockPut or
   * MakeDeviceExclusiveReply a completed step still holds, reqId 1) whose entry the family's shift relabels. Each id
   * outside the ring j with jumped value v ({@code jumpedIds[j]}) and unskipped value u = v + n x its step ({@code
   * unskippedIds[j]}) fixes the label of the entry the
   * unskipped ring holds under u to v (a fixed id: its entry keeps its own id), or, when the unskipped ring holds no u,
   * forbids v as a label; every other entry gets its {@link #partialIds} label unless that is taken or forbidden, then
   * one no run issues. Injective, so exact wherever {@link #misfound} then finds nothing (the argument of
   * {@link #partialIds}: any injective labelling is); null when the ring cannot be refilled partially at all. A label
   * v fixed here is an id the jumped run holds already, so no id it issues later meets it.
   */
  static long[][] ledIds(long[] ids, int d, long n, boolean inv, long[] jumpedIds, long[] unskippedIds) {
    long[][] plain = partialIds(ids, d, n, inv);
    if (plain == null) return null;
    long[] unskipped = plain[1];
    int total = unskipped.length;
    IdTable at = new IdTable(total);
    for (int q = 0; q < total; q++) at.putIfAbsent(unskipped[q], q);
    long[] labels = new long[total];
    boolean[] fixed = new boolean[total];
    IdTable seen = new IdTable(total + jumpedIds.length);
    for (int j = 0; j < jumpedIds.length; j++) {
      long v = jumpedIds[j], u = unskippedIds[j];
      int q = at.get(u);
      if (q < 0) {
        seen.putIfAbsent(v, -2); // forbidden: the unskipped lookup finds nothing, so must the jumped one
      } else if (!fixed[q]) {
        if (!seen.putIfAbsent(v, q)) return null; // v labels another entry already, or is forbidden: no labelling
        fixed[q] = true;
        labels[q] = v;
      } else if (labels[q] != v) {
        return null; // two ids outside the ring need one entry under two labels
      }
    }
    long free = 0;
    int k = (int) Math.min((long) total, n * d);
    for (int pass = 0; pass < 2; pass++) { // partialIds' order: the kept entries first, then the extrapolated ones
      for (int q = pass == 0 ? k : 0; q < (pass == 0 ? total : k); q++) {
        if (fixed[q]) continue;
        labels[q] = plain[0][q];
        while (!seen.putIfAbsent(labels[q], q)) labels[q] = hmmemu.checker.RingRefill.UNISSUED + free++;
      }
    }
    return new long[][] {labels, unskipped};
  }

  /**
   * Per thread, the labels of the partial refills the last {@link #refusal} passed, per ring owner (ids newest first,
   * d, n, labels and unskipped ids): {@link #refillPartial} writes exactly what was checked.
   */
  private static final ThreadLocal<java.util.IdentityHashMap<Object, Object[]>> PLANNED =
      ThreadLocal.withInitial(java.util.IdentityHashMap::new);

  /** Refills the ring whose count leaf is {@code l} partially as {@code n} more periods of {@code d} entries leave it. */
  static void refillPartial(StateWalk.Leaf l, int d, long n) throws ReflectiveOperationException {
    Object[] plan = PLANNED.get().get(l.owner());
    if (plan == null || (Integer) plan[1] != d || (Long) plan[2] != n
        || !java.util.Arrays.equals((long[]) plan[0], newestFirst(l))) {
      throw new IllegalStateException("fast-forward: a partial ring refill its check did not pass");
    }
    PLANNED.get().remove(l.owner());
    long[][] both = (long[][]) plan[3];
    methods(l)[2].invoke(l.owner(), d, (int) (n * d), both[0]);
  }

  /** The ring's ids newest first, or null. */
  private static long[] newestFirst(StateWalk.Leaf ring) {
    try {
      return (long[]) methods(ring)[1].invoke(ring.owner());
    } catch (ReflectiveOperationException e) {
      return null;
    }
  }

  private static boolean contains(long[] a, long v) {
    for (long x : a) if (x == v) return true;
    return false;
  }

  /** The leaves (indices) of numbers at invId sites and at reqId sites ({@link #invIdSite}, {@link #reqIdSite}), the rings' own aside. */
  private static int[][] idLeaves(StateWalk last) {
    int[] inv = new int[64], req = new int[64];
    int ni = 0, nr = 0;
    String lastSite = null;
    int bits = 0;
    for (int i = 0, size = last.size(); i < size; i++) {
      StateWalk.Leaf l = last.leaves.get(i);
      if (!l.number()) continue;
      String site = l.site();
      if (site != lastSite) { // one lookup per run of leaves of one site
        lastSite = site;
        bits = idSiteBits(site);
      }
      if (bits == 0) continue;
      if ((bits & 1) != 0 && !site.equals("hmmemu.checker.NotifierShadow#ended")) {
        if (ni == inv.length) inv = java.util.Arrays.copyOf(inv, 2 * ni);
        inv[ni++] = i;
      }
      if ((bits & 2) != 0 && !site.equals("hmmemu.checker.FolioLockShadow#released")) {
        if (nr == req.length) req = java.util.Arrays.copyOf(req, 2 * nr);
        req[nr++] = i;
      }
    }
    return new int[][] {java.util.Arrays.copyOf(inv, ni), java.util.Arrays.copyOf(req, nr)};
  }

  /** A table of distinct long ids to positions, open addressing without boxing (emulator-only: the refill's lookups). */
  private static final class IdTable {
    private static final long EMPTY = Long.MIN_VALUE;
    private final long[] keys;
    private final int[] values;
    private int emptyKeyValue = -1; // the value of the key EMPTY itself, if put

    IdTable(int n) {
      int cap = Integer.highestOneBit(Math.max(8, 2 * n - 1)) * 2; // at most half full
      keys = new long[cap];
      values = new int[cap];
      java.util.Arrays.fill(keys, EMPTY);
    }

    private int slot(long k) {
      int mask = keys.length - 1;
      int h = (int) ((k * 0x9E3779B97F4A7C15L) >>> 33) & mask;
      while (keys[h] != EMPTY && keys[h] != k) h = (h + 1) & mask;
      return h;
    }

    /** Puts k -> v unless k is there; whether it was absent. */
    boolean putIfAbsent(long k, int v) {
      if (k == EMPTY) {
        if (emptyKeyValue >= 0) return false;
        emptyKeyValue = v;
        return true;
      }
      int h = slot(k);
      if (keys[h] == k) return false;
      keys[h] = k;
      values[h] = v;
      return true;
    }

    /** k's value, or -1. */
    int get(long k) {
      if (k == EMPTY) return emptyKeyValue;
      int h = slot(k);
      return keys[h] == k ? values[h] : -1;
    }
  }

  /** An id's family: its device for a reqId ({@code Ids.deviceOfReq}), one family for invalidation ids. */
  private static long familyOf(long id, boolean inv) { return inv ? 0 : id >> hmmemu.protocol.msg.Ids.REQ_DEVICE_SHIFT; }

  /** Sites holding invalidation ids (a field named invId, or the notifier's next one). */
  static boolean invIdSite(String site) { return (idSiteBits(site) & 1) != 0; }

  /** Per site, what {@link #invIdSite} (bit 0) and {@link #reqIdSite} (bit 1) say of it (pure: the name decides). */
  private static final Map<String, Integer> ID_SITES = new java.util.concurrent.ConcurrentHashMap<>();

  private static int idSiteBits(String site) {
    Integer b = ID_SITES.get(site);
    if (b != null) return b;
    int v = (invIdSiteUncached(site) ? 1 : 0) | (reqIdSiteUncached(site) ? 2 : 0);
    ID_SITES.put(site, v);
    return v;
  }

  private static boolean invIdSiteUncached(String site) {
    String f = site.substring(site.indexOf('#') + 1);
    return f.equals("invId") || f.equals("nextInvId");
  }

  /**
   * Sites holding the drivers' reqIds (a field named ...reqId, or a table keyed by them: FastForwardSites.IDENTITY's); not
   * a CPU access's (a CPU loop's own or the controller's): the released ring holds make_device_exclusive's reqIds
   * (Trace.ExclusiveReturned) only, so a CPU access's id is never looked up there.
   */
  static boolean reqIdSite(String site) { return (idSiteBits(site) & 2) != 0; }

  private static boolean reqIdSiteUncached(String site) {
    if (site.equals("hmmemu.protocol.msg.HmmProtocol$CpuAccess#reqId")
        || site.equals("hmmemu.protocol.msg.HmmProtocol$CpuAccessDone#reqId")) return false;
    String f = site.substring(site.indexOf('#') + 1);
    return f.toLowerCase(java.util.Locale.ROOT).contains("reqid") || site.equals("hmmemu.gpu.core.driver.Replies#exclusive")
        || site.equals("hmmemu.cpu.core.DeviceExclusive#grants") || site.equals("hmmemu.checker.FolioLockShadow#holds")
        || site.equals("hmmemu.checker.FolioLockShadow#lockHolder");
  }
}
