package hmmemu.sim;

import hmmemu.protocol.model.LinkedLongTable;
import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.util.ArrayList;
import java.util.Collection;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;

/**
 * A flat, deterministic picture of everything reachable from the simulator: every primitive the object graph holds,
 * as (path, value) leaves in a fixed order, for {@link FastForward}'s cycle detection. The order never depends on
 * identity hash codes or on the tie keys of the agenda: fields in declaration order (superclass first), lists and
 * sorted collections in their order, hashed maps and sets sorted by the leaves of their keys (a tie there makes the
 * picture {@link #opaque}), the agenda in firing order (time, then tie) with the tie itself left out, an object met
 * again as a back reference to the leaf index where it was first met. A {@link TraceHash} is left out (the jump folds
 * a record of itself into it); so is the fast-forward's own state. A JDK object the walk cannot open (its fields are
 * not accessible and it is no collection) makes the picture opaque: a fast-forward then never jumps. Not a kernel
 * structure.
 */
final class StateWalk {
  /**
   * One leaf: where it is (path), its value, how to write it (a plain field of a plain object: owner and field; an
   * element of a long[] or int[]: owner the array and index >= 0; else owner null), the site (the declaring class
   * and name of the nearest field it was reached through, "class#field"; everything under a {@link #SUBTREES} field
   * has that field's site), its path as text (named pictures only), and whether it is a number the state holds
   * (not a type, a size, a null or a back reference: those never bound a jump nor hold an id).
   */
  record Leaf(long where, long value, Object owner, Field field, int index, String site, String path, boolean number) {
    /** Whether the jump can write this leaf. */
    boolean writable() { return owner != null; }

    /** Writes {@code v} to the leaf (see {@link #writable}). */
    void write(long v) throws IllegalAccessException {
      if (owner instanceof long[] a) a[index] = v;
      else if (owner instanceof java.util.concurrent.atomic.AtomicLong a) a.set(v);
      else if (owner instanceof int[] a) a[index] = Math.toIntExact(v);
      else if (field.getType() == long.class) field.setLong(owner, v);
      else field.setInt(owner, Math.toIntExact(v));
    }
  }

  /**
   * Observers that record what the simulation did and that nothing in it reads (a run record being written): their
   * contents are left out of the picture (only their type is in it).
   */
  static final java.util.Set<String> OBSERVERS = java.util.Set.of("hmmemu.report.RunRecorder");

  /** A picture stops (opaque) past this many leaves (a spinner's is ~42,000, its ended ring folded): a history. */
  static final int MAX_LEAVES = 1_000_000;

  static final String TOO_LARGE = "more than 1,000,000 leaves (a growing history)";

  /** Fields whose whole subtree keeps their site (a history whose entries are records of other classes). */
  static final java.util.Set<String> SUBTREES = java.util.Set.of("hmmemu.checker.Reporter#ring",
      "hmmemu.checker.InvariantChecker#current");

  /** The leaves (empty in a light picture, {@link #window(Object, boolean, boolean)}: see {@link #where}, {@link #value}). */
  final List<Leaf> leaves = new ArrayList<>();
  /** Every leaf's where and value, in order (light and full pictures alike). */
  private long[] wheres = new long[16], values = new long[16];
  private int size;
  /** Whether {@link #leaves} is filled (a light picture keeps the wheres and values only). */
  private boolean full = true;

  /** Leaves in the picture. */
  int size() { return size; }

  /** Objects the walk met (each walked once; a size for the next picture's table). */
  int objects() { return seen.size(); }

  /** Leaf {@code i}'s where (a hash of its path). */
  long where(int i) { return wheres[i]; }

  /** Leaf {@code i}'s value. */
  long value(int i) { return values[i]; }
  /** Why the picture cannot be trusted (null: it can). */
  String opaque;
  IdentityHashMap<Object, Integer> seen;
  private final boolean writable;

  private final boolean named;
  /** The large folded arrays' hashes kept between pictures of one simulator (see {@link StateWalkArrayHashes}), or null. */
  private StateWalkArrayHashes hashes;

  /** Whether the checker's rings show only their newest {@link #RING_WINDOW} entries (see {@link #window}). */
  private boolean windowed;

  private StateWalk(boolean writable, boolean named) {
    this(writable, named, 8192, 4 * 8192);
  }

  /** A walk expecting about {@code objects} objects and {@code leaves} leaves (a whole simulator's: thousands; a key's: a few). */
  private StateWalk(boolean writable, boolean named, int objects, int leaves) {
    this.seen = new IdentityHashMap<>(objects);
    if (leaves > 16) {
      wheres = new long[leaves];
      values = new long[leaves];
    }
    this.writable = writable;
    this.named = named;
  }

  /**
   * The fast-forward's picture: as {@link #of(Object, boolean)}, but the checker's rings of ids (NotifierShadow's
   * ended invalidations, FolioLockShadow's released reqIds) show only their newest {@link #RING_WINDOW} entries and
   * how many they took in (a leaf a jump advances by refilling the ring, FastForward), not their older entries nor
   * their fill: so a spin is looked at before its entries fill the rings (4,096 rounds).
   */
  static StateWalk window(Object root, boolean named) { return window(root, named, true); }

  /**
   * As {@link #window(Object, boolean)}; with {@code full} false a light picture: the leaves' wheres and values only,
   * no {@link Leaf} records (the fast-forward's pictures but its last one read nothing else).
   */
  static StateWalk window(Object root, boolean named, boolean full) { return window(root, named, full, 0, 8192, null, null); }

  /**
   * As {@link #window(Object, boolean, boolean)}, sized for about {@code leaves} leaves and {@code objects} objects (a
   * previous picture's {@link #size} and {@link #objects}: the arrays and the table of objects met are allocated once),
   * with the large folded arrays' hashes kept in {@code hashes} (or null) between pictures, and the checker rings'
   * entry folds in {@code folds} (or null, or off: {@link RingFolds#on}).
   */
  static StateWalk window(Object root, boolean named, boolean full, int leaves, int objects, StateWalkArrayHashes hashes,
      RingFolds folds) {
    StateWalk w = new StateWalk(true, named, Math.max(64, objects + objects / 4 + 1), leaves + leaves / 8 + 16);
    w.full = full;
    w.hashes = hashes;
    w.folds = folds != null && folds.on ? folds : null;
    if (w.folds != null) w.folds.turn();
    if (full) ((ArrayList<Leaf>) w.leaves).ensureCapacity(leaves + leaves / 8 + 16); // sized once, as the arrays
    w.windowed = true;
    w.walk(root, new P("sim", 1), null, null);
    return w;
  }

  /** Entries of a checker ring a windowed picture shows (newest ones; they must repeat period after period). */
  static final int RING_WINDOW = 64;

  /** The picture of everything reachable from {@code root} (leaves keyed by a hash of their path). */
  static StateWalk of(Object root) { return of(root, false); }

  /** As {@link #of(Object)}, with each leaf's path as text as well when {@code named} (slower: diagnostics). */
  static StateWalk of(Object root, boolean named) {
    StateWalk w = new StateWalk(true, named);
    w.walk(root, new P("sim", 1), null, null);
    return w;
  }

  /** A path: its hash, and its text when the walk is named. */
  record P(String text, long hash) {}

  P p(P parent, String name) {
    return p(parent, StateWalkClasses.nameHash(name), name);
  }

  /** As {@link #p(P, String)}, with the name's hash ({@link #stringHash}) already known. */
  private P p(P parent, long nameHash, String name) {
    long h = Long.rotateLeft((parent.hash ^ nameHash) * 0x9E3779B97F4A7C15L, 27);
    return new P(named ? parent.text + name : null, h);
  }

  /** A path's element {@code i} of an array or collection (kind '[', '{' or '<'). */
  P p(P parent, char kind, int i, String after) {
    long h = Long.rotateLeft((parent.hash ^ (kind * 0x1000003L + i) ^ StateWalkClasses.nameHash(after))
        * 0xC2B2AE3D27D4EB4FL, 31);
    return new P(named ? parent.text + kind + i + (kind == '[' ? "]" : kind == '{' ? "}" : ">") + after : null, h);
  }

  /**
   * A long primitive array at an {@link StateWalkClasses#inert} site, in a fast-forward's picture: one leaf, a 64-bit hash of its
   * elements, instead of a leaf each (a latency histogram's counts: ~47,000). Its elements all stay put across the
   * pictures exactly when the hash does (but for a 64-bit collision, as {@link StateWalkClasses#FOLDED}'s rings); an element that moves
   * refuses the jump either way, since an inert leaf can only stay. The leaves it stands for are counted, so back
   * references keep their values.
   */
  private void foldedArray(Object a, int n, P path) {
    long h = hashes != null ? hashes.hash(a, n) : StateWalkClasses.arrayHash(a, n);
    counted += n - 1;
    P q = p(path, ".folded");
    add(q.hash, h, null, null, -1, q.text, false);
  }

  /** {@code p(path, '[', i, "")}'s hash without the P (a primitive array's element: thousands of them). */
  private static long elementHash(P path, int i) {
    return Long.rotateLeft((path.hash ^ ('[' * 0x1000003L + i) ^ StateWalkClasses.EMPTY) * 0xC2B2AE3D27D4EB4FL, 31);
  }

  /** {@code p(path, '[', i, "")}'s text (named pictures only), else null. */
  private String elementText(P path, int i) { return named ? path.text + '[' + i + "]" : null; }


  /** A walk of a small object's values only (no paths, no writers): a key of a hashed map or set. */
  static StateWalk small() {
    StateWalk w = new StateWalk(false, false, 16, 16);
    w.full = false;
    return w;
  }

  /** The values of the leaves so far. */
  long[] valuesSoFar() { return java.util.Arrays.copyOf(values, size); }

  /** The site of the leaves being walked (see {@link Leaf#site}). */
  String site = "sim";

  private void leaf(P path, char kind, int i, long v) { leaf(path, kind, i, v, null); }

  /** Leaves met so far, folded ones included (a back reference names the leaf where its object was first met). */
  int counted;

  /** The folded ring's hash while one is being walked (see {@link StateWalkRings#foldedRing}), and the id of its entry. */
  boolean folding;
  long foldHash, foldKey;
  /** The folded ring's own site: a leaf there inside an entry is the table's value itself (see {@link #add}). */
  String foldSite;
  /**
   * While a windowed ring's entry is folded on its own ({@link StateWalkRings#window}): the leaves counted before it
   * (else -1), whether it met an object met before it or left a leaf out of the fold (its fold is then not kept), and
   * the objects it met with their offsets from its first leaf (when its fold may be kept).
   */
  int entryStart = -1;
  /** The place in its window of the entry being folded (see {@link #entryStart}). */
  long entryPlace;
  boolean entryOpen;
  boolean entryKept;
  /** The objects an entry met (while {@link #entryKept}) and their offsets, {@link #entryMet} of them (buffers reused). */
  Object[] entryObjects;
  int[] entryAt;
  int entryMet;
  /** The rings' entry folds kept between pictures (the fast-forward's, {@link RingFolds}), or null. */
  RingFolds folds;
  /** The last site {@link StateWalkClasses#foldable} was asked of (leaves come in runs of a site), its ring and answer. */
  private String foldableSite, foldableFold;
  private int foldableHow;

  private int foldable(String s) {
    foldableSite = s;
    foldableFold = foldSite;
    return foldableHow = StateWalkClasses.foldable(s);
  }

  /**
   * Adds a leaf at the current site, or folds it into the ring's hash (see {@link StateWalkClasses#FOLDED}); {@code number}: the leaf
   * is a value the state holds (not a type, a size, a null or a back reference), so an id when its site is an identity.
   */
  void add(long where, long v, Object owner, Field f, int index, String text, boolean number) {
    counted++;
    // a leaf at the ring's own site inside an entry is the table's value itself, as itself: FolioLockShadow#released's
    // TRUE (not an id, nor an instant although "released" reads as one to instantSite); the ended ring's
    // Invalidation has only its type there
    int how = !folding ? 0 : site == foldableSite && foldSite == foldableFold ? foldableHow
        : site.equals(foldSite) ? 1 : foldable(site);
    if (how == 0 && entryStart >= 0) { // a leaf of the entry outside its fold: the entry's fold is not kept, and the
      entryOpen = true; // leaf's where tells its entry's place in the window (the entries share one path)
      where = Long.rotateLeft((where ^ entryPlace) * 0xC2B2AE3D27D4EB4FL, 31);
    }
    if (how != 0) {
      long x = how == 2 && number ? v - foldKey : v; // an id of the entry's family: as its offset from the entry's id
      foldHash = Long.rotateLeft((foldHash ^ where) * 0x9E3779B97F4A7C15L, 29);
      foldHash = Long.rotateLeft((foldHash ^ x) * 0xC2B2AE3D27D4EB4FL, 31);
      return;
    }
    if (size == wheres.length) {
      wheres = java.util.Arrays.copyOf(wheres, 2 * size);
      values = java.util.Arrays.copyOf(values, 2 * size);
    }
    wheres[size] = where;
    values[size++] = v;
    if (full) leaves.add(new Leaf(where, v, owner, f, index, site, text, number || owner != null));
  }

  /** An element {@code i} of an array or ring; {@code array} (a long[] or int[]) when it can be written there. */
  private void leaf(P path, char kind, int i, long v, Object array) {
    P q = p(path, kind, i, "");
    add(q.hash, v, writable ? array : null, null, i, q.text, true);
  }

  void leaf(P path, String suffix, long v, Object owner, Field f) {
    P q = suffix.isEmpty() ? path : p(path, suffix);
    add(q.hash, v, writable && f != null ? owner : null, f, -1, q.text, suffix.isEmpty());
  }

  /** Walks {@code o} reached through a field whose site is {@code fieldSite} ("class#field", FieldInfo#site: one string). */
  private void walkField(Object o, P path, String fieldSite) {
    String before = site;
    if (!SUBTREES.contains(site)) site = fieldSite;
    walk(o, path, null, null);
    site = before;
  }

  /**
   * Fields ("declaring class name#field") left out of every picture: empty, except in a diagnostic that asks what
   * else moves once a known history is set aside (FastForwardProbeTest). A jump must never rely on it.
   */
  static volatile java.util.Set<String> leftOut = java.util.Set.of();

  void walk(Object o, P path, Object owner, Field field) {
    if (o == null) {
      leaf(path, "=null", 0x5A5A, null, null);
      return;
    }
    if (o instanceof Long l) {
      leaf(path, "", l, owner, field);
      return;
    }
    if (o instanceof Integer i) {
      leaf(path, "", i, owner, field);
      return;
    }
    if (o instanceof Short || o instanceof Byte) {
      leaf(path, "", ((Number) o).longValue(), owner, field);
      return;
    }
    if (o instanceof Character c) {
      leaf(path, "", c, owner, field);
      return;
    }
    if (o instanceof Boolean b) {
      leaf(path, "", b ? 1 : 0, owner, field);
      return;
    }
    if (o instanceof Double d) {
      leaf(path, ":d", Double.doubleToLongBits(d), null, null);
      return;
    }
    if (o instanceof Float f) {
      leaf(path, ":f", Float.floatToIntBits(f), null, null);
      return;
    }
    if (o instanceof String s) {
      leaf(path, ":s", stringHash(s), null, null);
      return;
    }
    if (o instanceof Enum<?> e) {
      StateWalkClasses.EnumInfo info = StateWalkClasses.ENUMS.get(e.getDeclaringClass());
      P q = p(path, info.suffixHash(), info.suffix());
      add(q.hash, info.names()[e.ordinal()], null, null, -1, q.text, false);
      return;
    }
    if (o instanceof Class<?> c) {
      leaf(path, ":class", stringHash(c.getName()), null, null);
      return;
    }
    if (o instanceof TraceHash) return;
    Integer at = seen.get(o);
    if (at != null) { // inside a ring's entry: to an object of the entry, as its offset; else ~at (and not kept)
      if (entryStart >= 0 && at < entryStart) entryOpen = true;
      leaf(path, "@ref", entryStart < 0 ? at : at >= entryStart ? at - entryStart : ~at, null, null);
      return;
    }
    seen.put(o, counted);
    if (fresh != null) fresh.add(o);
    if (entryKept) {
      if (entryMet == entryAt.length) {
        entryObjects = java.util.Arrays.copyOf(entryObjects, 2 * entryMet);
        entryAt = java.util.Arrays.copyOf(entryAt, 2 * entryMet);
      }
      entryObjects[entryMet] = o;
      entryAt[entryMet++] = counted - entryStart;
    }
    Class<?> c = o.getClass();
    StateWalkClasses.ClassInfo ci = StateWalkClasses.CLASSES.get(c);
    leaf(path, ":type", ci.typeHash(), null, null);
    if (ci.observer()) return;
    if (size > MAX_LEAVES) {
      if (opaque == null) opaque = TOO_LARGE;
      return;
    }
    if (ci.kind() == StateWalkClasses.ClassInfo.FIELDS) {
      fields(o, c, ci, path);
    } else if (o instanceof EventQueue q) {
      agenda(q, path);
    } else if (o instanceof PeriodicLog<?> log) {
      periodicLog(log, path);
    } else if (c.isArray()) {
      array(o, path);
    } else if (o instanceof Map<?, ?> m) {
      StateWalkCollections.map(this, m, path);
    } else if (o instanceof LinkedLongTable<?> t) {
      StateWalkCollections.linkedLongTable(this, t, path);
    } else if (o instanceof Collection<?> col) {
      StateWalkCollections.collection(this, col, path);
    } else if (c.getName().equals("hmmemu.checker.LongTable")) {
      StateWalkRings.longTable(this, o, path);
    } else if (o instanceof java.util.concurrent.atomic.AtomicLong a) {
      P q = p(path, ".value"); // a host's counter: the jump may write it (Leaf#write)
      add(q.hash, a.get(), writable ? a : null, null, -1, q.text, true);
    } else if (o instanceof java.util.concurrent.atomic.AtomicInteger a) {
      leaf(path, ".value", a.get(), null, null);
    } else if (o instanceof java.util.Optional<?> op) {
      walk(op.orElse(null), p(path, ".value"), null, null);
    } else if (o instanceof java.util.concurrent.CompletableFuture<?> f) {
      // a host's pending step: whether it is done, its value, how many continuations wait (their closures are not
      // opened: they are registered once per step, never per round)
      leaf(path, ".done", f.isDone() ? 1 : 0, null, null);
      leaf(path, ".dependents", f.getNumberOfDependents(), null, null);
      walk(f.isDone() && !f.isCompletedExceptionally() ? f.getNow(null) : null, p(path, ".value"), null, null);
    } else if (o instanceof java.time.Duration d) {
      leaf(path, ".nanos", d.toNanos(), null, null);
    } else if (o instanceof java.util.BitSet b) {
      walk(b.toLongArray(), p(path, ".bits"), null, null);
    } else {
      fields(o, c, ci, path);
    }
  }

  /** An object of no kind the walk knows (no collection, no array, no boxed value): its fields, in {@link StateWalkClasses#fieldsOf}'s order. */
  private void fields(Object o, Class<?> c, StateWalkClasses.ClassInfo ci, P path) {
    {
      Field[] fs = ci.fields();
      StateWalkClasses.FieldInfo[] infos = ci.infos();
      if (fs == null) {
        if (opaque == null) opaque = "cannot open " + c.getName() + (named ? " at " + path.text : "");
        return;
      }
      boolean plain = ci.plain();
      String ringField = ci.ringField();
      boolean recent = ci.recent();
      for (int fi = 0; fi < fs.length; fi++) {
        Field f = fs[fi];
        StateWalkClasses.FieldInfo info = infos[fi];
        try {
          if (recent && f.getName().equals("ring")) {
            String before = site;
            site = "hmmemu.checker.Reporter#ring";
            recentRing(o, fs, p(path, ".ring"));
            site = before;
            continue;
          }
          if (ringField != null && f.getName().equals(ringField + "Next")) continue; // read with the ring
          if (ringField != null && windowed && (f.getName().equals(ringField) || f.getName().equals(ringField + "Order"))) {
            if (f.getName().equals(ringField)) {
              String before = site;
              site = c.getName() + "#" + ringField;
              StateWalkRings.window(this, o, ringField, p(path, "." + ringField));
              site = before;
            }
            continue;
          }
          if (ringField != null && windowed && f.getName().equals(ringField + "Full")) continue; // the ring's fill
          if (ringField != null && f.getName().equals(ringField + "Order")) {
            String before = site;
            site = c.getName() + "#" + f.getName();
            idRing(o, fs, ringField + "Next", (long[]) f.get(o), p(path, "." + f.getName()));
            site = before;
            continue;
          }
          Class<?> t = f.getType();
          P p = p(path, info.dotNameHash(), info.dotName());
          String before = site;
          if (!SUBTREES.contains(site)) site = info.site();
          Object writeOwner = plain && !Modifier.isFinal(f.getModifiers()) ? o : null;
          Field writeField = writeOwner == null ? null : f;
          if (t == long.class) leaf(p, "", f.getLong(o), writeOwner, writeField);
          else if (t == int.class) leaf(p, "", f.getInt(o), writeOwner, writeField);
          else if (t == boolean.class) leaf(p, "", f.getBoolean(o) ? 1 : 0, null, null);
          else if (t == double.class) leaf(p, ":d", Double.doubleToLongBits(f.getDouble(o)), null, null);
          else if (t.isPrimitive()) leaf(p, "", ((Number) StateWalkClasses.wrapNumber(f.get(o))).longValue(), null, null);
          else walk(f.get(o), p, null, null);
          site = before;
        } catch (IllegalAccessException e) {
          if (opaque == null) opaque = "cannot read " + c.getName() + "." + f.getName();
        }
      }
    }
  }

  private void array(Object a, P path) {
    int n = java.lang.reflect.Array.getLength(a);
    leaf(path, ".length", n, null, null);
    if (windowed && n >= StateWalkClasses.FOLD_ARRAY && (a instanceof long[] || a instanceof int[] || a instanceof byte[])
        && StateWalkClasses.inert(site)) {
      foldedArray(a, n, path);
    } else if (a instanceof byte[] l) { // as Array.get's boxed Byte would be walked, unboxed
      for (int i = 0; i < n; i++) add(elementHash(path, i), l[i], null, null, -1, elementText(path, i), true);
    } else if (windowed && a instanceof Object[] l) {
      for (int i = 0; i < n; i++) {
        if (l[i] != null) {
          walk(l[i], p(path, '[', i, ""), null, null);
          continue;
        }
        int j = i; // a run of nulls (a memmap chunk's free pfns: thousands), one leaf: its length at its first index
        while (j + 1 < n && l[j + 1] == null) j++;
        P q = p(path, '[', i, "=nulls");
        add(q.hash, j - i + 1, null, null, -1, q.text, false);
        counted += j - i;
        i = j;
      }
    } else if (a instanceof long[] l) {
      for (int i = 0; i < n; i++) add(elementHash(path, i), l[i], writable ? l : null, null, i, elementText(path, i), true);
    } else if (a instanceof int[] l) {
      for (int i = 0; i < n; i++) add(elementHash(path, i), l[i], writable ? l : null, null, i, elementText(path, i), true);
    } else if (a instanceof Object[] l) {
      for (int i = 0; i < n; i++) walk(l[i], p(path, '[', i, ""), null, null);
    } else {
      for (int i = 0; i < n; i++) walk(java.lang.reflect.Array.get(a, i), p(path, '[', i, ""), null, null);
    }
  }

  /** The checker's rings of ids (class -> ring name: the fields NAMEOrder, a long[], and NAMENext, its oldest slot). */
  static final Map<String, String> RINGS = Map.of("hmmemu.checker.NotifierShadow", "ended",
      "hmmemu.checker.FolioLockShadow", "released");

  /**
   * A checker ring of the last ids (NotifierShadow's ended invIds, FolioLockShadow's released reqIds; oldest at the
   * next slot once full) in logical order, oldest first, so that a ring that turned by one entry per id looks the same
   * shifted by ids.
   */
  private void idRing(Object shadow, Field[] fs, String nextField, long[] ring, P path) throws IllegalAccessException {
    int next = 0;
    for (Field f : fs) if (f.getName().equals(nextField)) next = f.getInt(shadow);
    leaf(path, ".length", ring.length, null, null);
    for (int i = 0; i < ring.length; i++) leaf(path, '[', i, ring[(next + i) % ring.length]);
  }

  /**
   * The checker's Reporter ring of recent events (slot recorded % length is the oldest once full), oldest first, each
   * entry walked apart from the rest, as if nothing else were met (session 18, r9ff): a jump leaves this report-only
   * ring behind, so whether its events are held elsewhere too (the checker's current event, an ended invalidation's
   * start, which a ring refill replaces by a relabelled copy) must neither hide them there nor shape the ring.
   */
  private void recentRing(Object reporter, Field[] fs, P path) throws IllegalAccessException {
    // session 24 (xrep): the ring is the Reporter's RecentEvents; its slots are read through Reporter.entry
    RecentRing ring = RECENT_RING.get(reporter.getClass());
    long recorded = 0;
    for (Field f : fs) if (f.getName().equals("recorded")) recorded = f.getLong(reporter);
    int start = (int) (recorded % ring.slots);
    leaf(path, ".length", ring.slots, null, null);
    if (windowed) return; // a fast-forward's picture: a jump leaves the ring as it is and nothing but a report reads it
    IdentityHashMap<Object, Integer> outer = seen;
    seen = new IdentityHashMap<>();
    for (int i = 0; i < ring.slots; i++) {
      seen.clear();
      Object stamped;
      try {
        stamped = ring.entry.invoke(reporter, (start + i) % ring.slots);
      } catch (java.lang.reflect.InvocationTargetException e) {
        throw new IllegalStateException("StateWalk: the Reporter's ring entry " + i, e.getCause());
      }
      walk(stamped, p(path, '[', i, ""), null, null);
    }
    seen = outer;
  }

  /** The checker Reporter's ring as the walk reads it: its slots ({@code RECENT_KEPT}) and {@code entry(int)}. */
  private record RecentRing(int slots, java.lang.reflect.Method entry) {}

  private static final ClassValue<RecentRing> RECENT_RING = new ClassValue<>() {
    @Override
    protected RecentRing computeValue(Class<?> c) {
      try {
        Field slots = c.getDeclaredField("RECENT_KEPT");
        slots.setAccessible(true);
        java.lang.reflect.Method entry = c.getDeclaredMethod("entry", int.class);
        entry.setAccessible(true);
        return new RecentRing(slots.getInt(null), entry);
      } catch (ReflectiveOperationException e) {
        throw new IllegalStateException("StateWalk: cannot read the checker Reporter's ring", e);
      }
    }
  };

  /** Objects first met while walking one entry of a {@link PeriodicLog}'s window (forgotten after it), or null. */
  List<Object> fresh;

  /**
   * A {@link PeriodicLog}: its size (the leaf a jump advances by appending the period's entries again) and its last
   * {@link PeriodicLog#WINDOW} entries, each walked as if met for the first time (a repeated block holds the same
   * objects again where the unskipped run holds equal ones: back references among them would tell them apart).
   */
  private void periodicLog(PeriodicLog<?> log, P path) {
    String before = site;
    site = "hmmemu.sim.PeriodicLog#size";
    P q = p(path, ".size");
    add(q.hash, log.size(), writable ? log : null, null, -1, q.text, false);
    site = before;
    List<?> tail = log.last(PeriodicLog.WINDOW);
    leaf(path, ".window", tail.size(), null, null);
    List<Object> outer = fresh;
    for (int i = 0; i < tail.size(); i++) {
      fresh = new ArrayList<>();
      walk(tail.get(i), p(path, '[', i, ""), null, null);
      for (Object o : fresh) seen.remove(o);
    }
    fresh = outer;
  }

  /** The agenda in firing order (time, then tie); the tie itself is left out, its rank is the order. */
  private void agenda(EventQueue q, P path) {
    List<EventQueue.Event> es = new ArrayList<>();
    for (int i = 0; i < q.size(); i++) es.add(q.get(i));
    es.sort((a, b) -> EventQueue.less(a, b) ? -1 : EventQueue.less(b, a) ? 1 : 0);
    leaf(path, ".size", es.size(), null, null);
    int i = 0;
    for (EventQueue.Event e : es) {
      P p = p(path, '<', i++, "");
      seen.put(e, counted);
      String before = site;
      site = "hmmemu.sim.EventQueue$Event#atNanos";
      P at = p(p, ".atNanos");
      add(at.hash, e.atNanos, writable ? e : null, null, -1, at.text, false); // the jump moves it
      site = "hmmemu.sim.EventQueue$Event#source";
      leaf(p, ".source", e.source, null, null);
      site = before;
      walk(e.link(), p(p, ".link"), null, null);
      Field[] efs = StateWalkClasses.fieldsOf(e.getClass());
      StateWalkClasses.FieldInfo[] einfos = StateWalkClasses.CLASSES.get(e.getClass()).infos();
      for (int fi = 0; fi < efs.length; fi++) {
        Field f = efs[fi];
        if (f.getDeclaringClass() == EventQueue.Event.class) continue;
        try {
          walkField(f.get(e), p(p, einfos[fi].dotNameHash(), einfos[fi].dotName()), einfos[fi].site());
        } catch (IllegalAccessException ex) {
          if (opaque == null) opaque = "cannot read an agenda event's " + f.getName();
        }
      }
    }
  }

  static long stringHash(String s) {
    long x = 0xCBF29CE484222325L;
    for (int i = 0; i < s.length(); i++) x = (x ^ s.charAt(i)) * 0x100000001B3L;
    return x;
  }
}
