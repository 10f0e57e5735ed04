package hmmemu.sim;

import hmmemu.protocol.model.LinkedLongTable;
import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;

/**
 * What {@link StateWalk} works out once per class, per field, per enum and per site name and then reuses in every
 * picture: a class's fields in the picture's order with their sites and name hashes, its type leaf's hash, its kind;
 * the hashes of the path names; which sites are inert (a fast-forward picture may fold their long arrays). An
 * emulator-only host mechanism, not a kernel structure.
 */
final class StateWalkClasses {
  private StateWalkClasses() {}

  static final Map<String, Long> NAMES = new java.util.concurrent.ConcurrentHashMap<>();

  /** Primitive arrays at least this long at an {@link #inert} site are one leaf in a fast-forward's picture. */
  static final int FOLD_ARRAY = 256;

  private static final Map<String, Boolean> INERT = new java.util.concurrent.ConcurrentHashMap<>();

  /**
   * Whether a leaf of {@code site} can do nothing in a jump but stay put: it is no instant (it bounds nothing), no
   * identity, not advanced, no microsecond leaf, not report-only, no ring count and no id a ring's check looks up. A
   * moving one refuses the jump (a moving leaf on no list, or one that does not move evenly), whatever it moved by.
   */
  static boolean inert(String site) {
    return INERT.computeIfAbsent(site, x -> !FastForwardSites.instantSite(x) && !FastForwardSites.identity(x)
        && !FastForwardSites.ADVANCE.containsKey(x) && !FastForwardSites.MICROS.contains(x) && !FastForwardSites.REPORT_ONLY.containsKey(x)
        && !FastForwardRings.refills(x) && !FastForwardRings.invIdSite(x) && !FastForwardRings.reqIdSite(x)
        && !FOLDED.containsKey(x) && !FOLDED.containsValue(x));
  }

  /** The names every picture uses most, hashed once (the same values {@link #NAMES} gives them). */
  static final long EMPTY = StateWalk.stringHash(""), K = StateWalk.stringHash(".k"), V = StateWalk.stringHash(".v"),
      SIZE = StateWalk.stringHash(".size"), TYPE = StateWalk.stringHash(":type"), REF = StateWalk.stringHash("@ref"),
      NULL = StateWalk.stringHash("=null"), LENGTH = StateWalk.stringHash(".length"), STR = StateWalk.stringHash(":s"),
      DBL = StateWalk.stringHash(":d"), CLS = StateWalk.stringHash(":class"), VALUE = StateWalk.stringHash(".value"),
      FOLDED_NAME = StateWalk.stringHash(".folded");

  /** {@link #stringHash} of a path's name, cached (the literals compared by identity first: they are interned). */
  static long nameHash(String name) {
    if (name == "") return EMPTY;
    if (name == ".k") return K;
    if (name == ".v") return V;
    if (name == ".size") return SIZE;
    if (name == ":type") return TYPE;
    if (name == "@ref") return REF;
    if (name == "=null") return NULL;
    if (name == ".length") return LENGTH;
    if (name == ":s") return STR;
    if (name == ":d") return DBL;
    if (name == ":class") return CLS;
    if (name == ".value") return VALUE;
    if (name == ".folded") return FOLDED_NAME;
    return NAMES.computeIfAbsent(name, StateWalk::stringHash);
  }

  /** Per enum class: its suffix (":" + simple name) and that suffix's hash, and each constant's name hash by ordinal. */
  record EnumInfo(String suffix, long suffixHash, long[] names) {}

  static final ClassValue<EnumInfo> ENUMS = new ClassValue<>() {
    @Override
    @SuppressWarnings({"unchecked", "rawtypes"})
    protected EnumInfo computeValue(Class<?> c) {
      Object[] constants = c.getEnumConstants();
      long[] names = new long[constants.length];
      for (int i = 0; i < names.length; i++) names[i] = StateWalk.stringHash(((Enum) constants[i]).name());
      String suffix = ":" + c.getSimpleName();
      return new EnumInfo(suffix, nameHash(suffix), names);
    }
  };

  private static final Map<Class<?>, Field[]> FIELDS = new java.util.concurrent.ConcurrentHashMap<>();

  /** Per field of a class ({@link #fieldsOf}'s order): its site, ".name" and that name's hash, cached (emulator-only). */
  record FieldInfo(String site, String dotName, long dotNameHash) {}

  /**
   * What the walk needs of a class, worked out once: its type leaf's value (the name, a hidden class's by
   * {@link #hiddenName}, hashed), whether it is an {@link StateWalk#OBSERVERS} class, whether it is walked by its fields (no
   * kind the walk treats apart: {@link #FIELDS}) and, if so, its fields with their {@link FieldInfo}, whether the jump
   * may write them (a plain class: no record, not hidden), its checker ring ({@link StateWalk#RINGS}) and whether it is the
   * checker's Reporter.
   */
  record ClassInfo(long typeHash, boolean observer, int kind, Field[] fields, FieldInfo[] infos, boolean plain,
      String ringField, boolean recent) {
    static final int FIELDS = 0, OTHER = 1;
  }

  static final ClassValue<ClassInfo> CLASSES = new ClassValue<>() {
    @Override
    protected ClassInfo computeValue(Class<?> c) {
      long type = StateWalk.stringHash(c.isHidden() ? hiddenName(c) : c.getName());
      boolean other = EventQueue.class.isAssignableFrom(c) || PeriodicLog.class.isAssignableFrom(c) || c.isArray()
          || Map.class.isAssignableFrom(c) || LinkedLongTable.class.isAssignableFrom(c) || Collection.class.isAssignableFrom(c)
          || c.getName().equals("hmmemu.checker.LongTable") || java.util.concurrent.atomic.AtomicLong.class.isAssignableFrom(c)
          || java.util.concurrent.atomic.AtomicInteger.class.isAssignableFrom(c) || java.util.Optional.class.isAssignableFrom(c)
          || java.util.concurrent.CompletableFuture.class.isAssignableFrom(c) || java.time.Duration.class.isAssignableFrom(c)
          || java.util.BitSet.class.isAssignableFrom(c);
      Field[] fs = other ? null : fieldsOf(c);
      FieldInfo[] infos = null;
      if (fs != null) {
        infos = new FieldInfo[fs.length];
        for (int i = 0; i < fs.length; i++) {
          String dot = "." + fs[i].getName();
          infos[i] = new FieldInfo(fs[i].getDeclaringClass().getName() + "#" + fs[i].getName(), dot,
              NAMES.computeIfAbsent(dot, StateWalk::stringHash));
        }
      }
      return new ClassInfo(type, StateWalk.OBSERVERS.contains(c.getName()), other ? ClassInfo.OTHER : ClassInfo.FIELDS, fs, infos,
          !c.isRecord() && !c.isHidden(), StateWalk.RINGS.get(c.getName()), c.getName().equals("hmmemu.checker.Reporter"));
    }
  };

  static Field[] fieldsOf(Class<?> c) {
    return FIELDS.computeIfAbsent(c, k -> {
      List<Class<?>> chain = new ArrayList<>();
      for (Class<?> x = k; x != null && x != Object.class; x = x.getSuperclass()) chain.add(0, x);
      List<Field> out = new ArrayList<>();
      for (Class<?> x : chain) {
        Field[] fs = x.getDeclaredFields();
        java.util.Arrays.sort(fs, java.util.Comparator.comparing(Field::getName)); // declared order is not specified
        for (Field f : fs) {
          if (Modifier.isStatic(f.getModifiers())) continue;
          if (Modifier.isTransient(f.getModifiers())) continue; // a copy of what the picture holds elsewhere
          if (StateWalk.leftOut.contains(f.getDeclaringClass().getName() + "#" + f.getName())) continue;
          if (ScheduledJump.EXPLORING_SIDE.contains(f.getDeclaringClass().getName() + "#" + f.getName())) continue;
          if (FastForward.class.isAssignableFrom(f.getType())) continue; // the detector's own state
          try {
            f.setAccessible(true);
          } catch (RuntimeException e) {
            return null;
          }
          out.add(f);
        }
      }
      return out.toArray(new Field[0]);
    });
  }

  /** A lambda's class name carries a per-JVM counter; its capturing class and interfaces do not. */
  static String hiddenName(Class<?> c) {
    String n = c.getName();
    int i = n.indexOf("$$Lambda");
    StringBuilder b = new StringBuilder(i < 0 ? n : n.substring(0, i));
    for (Class<?> x : c.getInterfaces()) b.append(':').append(x.getName());
    return b.toString();
  }

  private static final java.util.Map<String, Integer> FOLDABLE = new java.util.concurrent.ConcurrentHashMap<>();

  /**
   * Whether a leaf of {@code site} inside a folded ring may go into its hash: not if a jump would read it for anything
   * but equality (an instant that may bound a jump, a microsecond leaf, a leaf a jump advances, a report-only leaf):
   * 0 it stays a leaf, 1 its value is folded, 2 its offset from the entry's key is (an identity family's leaf).
   */
  static int foldable(String site) { return FOLDABLE.computeIfAbsent(site, StateWalkClasses::foldableUncached); }

  /** {@link #foldable}, computed. */
  private static int foldableUncached(String site) {
    if (FastForwardSites.instantSite(site) || FastForwardSites.MICROS.contains(site) || FastForwardSites.ADVANCE.containsKey(site)
        || FastForwardSites.REPORT_ONLY.containsKey(site)) return 0;
    return FastForwardSites.identity(site) ? 2 : 1;
  }

  /**
   * The hash of a folded long[], int[] or byte[] of length n ({@link StateWalk}'s foldedArray): its elements in four lanes
   * (elements i mod 4), each the rotate-multiply chain one lane was, combined at the end: four independent multiply
   * chains instead of one (a histogram's ~47,000 counts were half of a fast-forward picture's CPU; session 19,
   * fflook2). Only pictures of one run are compared, so the value needs no stability across versions.
   */
  static long arrayHash(Object a, int n) {
    long h0 = 0x5EEDL + n, h1 = h0 ^ 0x1L, h2 = h0 ^ 0x2L, h3 = h0 ^ 0x3L;
    int i = 0;
    if (a instanceof long[] l) {
      for (; i + 3 < n; i += 4) {
        h0 = Long.rotateLeft((h0 ^ l[i]) * 0x9E3779B97F4A7C15L, 29);
        h1 = Long.rotateLeft((h1 ^ l[i + 1]) * 0x9E3779B97F4A7C15L, 29);
        h2 = Long.rotateLeft((h2 ^ l[i + 2]) * 0x9E3779B97F4A7C15L, 29);
        h3 = Long.rotateLeft((h3 ^ l[i + 3]) * 0x9E3779B97F4A7C15L, 29);
      }
      for (; i < n; i++) h0 = Long.rotateLeft((h0 ^ l[i]) * 0x9E3779B97F4A7C15L, 29);
    } else if (a instanceof byte[] l) {
      for (; i + 3 < n; i += 4) {
        h0 = Long.rotateLeft((h0 ^ l[i]) * 0x9E3779B97F4A7C15L, 29);
        h1 = Long.rotateLeft((h1 ^ l[i + 1]) * 0x9E3779B97F4A7C15L, 29);
        h2 = Long.rotateLeft((h2 ^ l[i + 2]) * 0x9E3779B97F4A7C15L, 29);
        h3 = Long.rotateLeft((h3 ^ l[i + 3]) * 0x9E3779B97F4A7C15L, 29);
      }
      for (; i < n; i++) h0 = Long.rotateLeft((h0 ^ l[i]) * 0x9E3779B97F4A7C15L, 29);
    } else {
      int[] l = (int[]) a;
      for (; i + 3 < n; i += 4) {
        h0 = Long.rotateLeft((h0 ^ l[i]) * 0x9E3779B97F4A7C15L, 29);
        h1 = Long.rotateLeft((h1 ^ l[i + 1]) * 0x9E3779B97F4A7C15L, 29);
        h2 = Long.rotateLeft((h2 ^ l[i + 2]) * 0x9E3779B97F4A7C15L, 29);
        h3 = Long.rotateLeft((h3 ^ l[i + 3]) * 0x9E3779B97F4A7C15L, 29);
      }
      for (; i < n; i++) h0 = Long.rotateLeft((h0 ^ l[i]) * 0x9E3779B97F4A7C15L, 29);
    }
    long h = Long.rotateLeft((h0 ^ Long.rotateLeft(h1, 16)) * 0xC2B2AE3D27D4EB4FL, 31);
    h = Long.rotateLeft((h ^ Long.rotateLeft(h2, 32) ^ Long.rotateLeft(h3, 48)) * 0x9E3779B97F4A7C15L, 29);
    return h;
  }

  /** Per checker ring class ({@link StateWalk#RINGS}), its methods NAMENewestFirst and NAMEOf, made accessible once. */
  static final ClassValue<java.lang.reflect.Method[]> RING_METHODS = new ClassValue<>() {
    @Override
    protected java.lang.reflect.Method[] computeValue(Class<?> c) {
      String ring = StateWalk.RINGS.get(c.getName());
      try {
        java.lang.reflect.Method ids = c.getDeclaredMethod(ring + "NewestFirst", int.class), of = c.getDeclaredMethod(ring + "Of", long.class);
        ids.setAccessible(true);
        of.setAccessible(true);
        return new java.lang.reflect.Method[] {ids, of};
      } catch (ReflectiveOperationException e) {
        throw new IllegalStateException("cannot open the checker's ring " + ring + ": " + e, e);
      }
    }
  };

  /**
   * Tables of a checker ring whose entries (their values: every leaf but the key) are folded into one leaf, the ring's
   * hash (site -> that leaf's site), so that a picture does not hold ~60 leaves for each of their 4,096 entries. The
   * keys stay leaves, in key order; a leaf of an entry an id of its family is folded as its offset from the entry's
   * key (which it must keep for the hash to stay put), every other leaf as its value; leaves a jump reads for more
   * than equality stay leaves ({@link #foldable}). Two pictures whose entries differ in any folded leaf differ in the
   * hash leaf (but for a 64-bit collision), which must not move for a jump ({@code FastForward} knows no such site).
   * FolioLockShadow#released is keyed the same way (reqIds, its ring FolioLockShadow#releasedOrder); its values are
   * all TRUE, folded as themselves, so its keys stay and its hash leaf never moves.
   */
  static final Map<String, String> FOLDED = Map.of("hmmemu.checker.NotifierShadow#ended",
      "hmmemu.checker.NotifierShadow#endedEntries", "hmmemu.checker.FolioLockShadow#released",
      "hmmemu.checker.FolioLockShadow#releasedEntries");

  /** A primitive field's boxed value as a Number (a char as its code, a float as its bits; StateWalk's fields). */
  static Object wrapNumber(Object v) {
    if (v instanceof Character ch) return (int) ch;
    if (v instanceof Float fl) return Float.floatToIntBits(fl);
    return v;
  }
}
