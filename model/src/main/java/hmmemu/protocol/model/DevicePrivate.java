package hmmemu.protocol.model;

/**
 * Device-private memory (ZONE_DEVICE MEMORY_DEVICE_PRIVATE, include/linux/memremap.h) and the migrate pfn words of
 * include/linux/migrate.h. Not kernel code: how the emulator names device-private pages.
 *
 * <p>A device-private pfn names one page of one device's memory: {@code 2^39 | deviceId << 20 | index}. The CPU
 * node keeps its struct page (refcount, mapcount, lock, pgmap owner); the contents live on the device's GPU node.
 * Ordinary pfns count up from 0x1000 and never reach 2^39, and every device-private pfn fits HmmPfn's 40-bit pfn
 * field, the packed PTE and the packed device entry.
 *
 * <p>A migrate pfn word ({@code migrate->src[i]}, {@code dst[i]}) is {@code pfn << 6 | flags}, as
 * {@code migrate_pfn()} packs it: VALID (bit 0), MIGRATE (bit 1), WRITE (bit 3); 0 = no page.
 */
public final class DevicePrivate {
  private DevicePrivate() {}

  /** The bit that marks a device-private pfn. */
  public static final long PFN_BASE = 1L << 39;
  private static final int DEVICE_SHIFT = 20;
  /** Pages of device memory per device. */
  public static final int PAGES_PER_DEVICE = 1 << DEVICE_SHIFT;

  /** MIGRATE_PFN_VALID. */
  public static final long MIGRATE_PFN_VALID = 1L;
  /** MIGRATE_PFN_MIGRATE: the page is (still) being migrated. */
  public static final long MIGRATE_PFN_MIGRATE = 1L << 1;
  /** MIGRATE_PFN_WRITE. */
  public static final long MIGRATE_PFN_WRITE = 1L << 3;
  /** MIGRATE_PFN_SHIFT. */
  public static final int MIGRATE_PFN_SHIFT = 6;

  /** MIGRATE_VMA_SELECT_SYSTEM: collect pages of system memory. */
  public static final int SELECT_SYSTEM = 1;
  /** MIGRATE_VMA_SELECT_DEVICE_PRIVATE: collect device-private pages of {@code pgmap_owner}. */
  public static final int SELECT_DEVICE_PRIVATE = 2;

  /** Page {@code index} of device {@code deviceId}'s memory. */
  public static long pfn(int deviceId, int index) {
    if (deviceId < 0 || deviceId >= (1 << 19)) throw new IllegalArgumentException("deviceId out of range: " + deviceId);
    if (index < 0 || index >= PAGES_PER_DEVICE) throw new IllegalArgumentException("device page out of range: " + index);
    return PFN_BASE | ((long) deviceId << DEVICE_SHIFT) | index;
  }

  /** is_device_private_page(pfn_to_page(pfn)). */
  public static boolean isDevicePrivate(long pfn) { return pfn >= PFN_BASE && pfn < (PFN_BASE << 1); }

  /** The device whose memory holds a device-private pfn. */
  public static int deviceOf(long pfn) { return (int) ((pfn & (PFN_BASE - 1)) >>> DEVICE_SHIFT); }

  /** The page index within its device's memory. */
  public static int indexOf(long pfn) { return (int) (pfn & (PAGES_PER_DEVICE - 1)); }

  /** migrate_pfn(pfn) | flags. */
  public static long migratePfn(long pfn, long flags) { return (pfn << MIGRATE_PFN_SHIFT) | MIGRATE_PFN_VALID | flags; }

  /** migrate_pfn_to_page: the pfn of a migrate word, 0 when it names no page. */
  public static long pfnOf(long migrateWord) {
    return (migrateWord & MIGRATE_PFN_VALID) == 0 ? 0 : migrateWord >>> MIGRATE_PFN_SHIFT;
  }

  public static boolean migrating(long migrateWord) { return (migrateWord & MIGRATE_PFN_MIGRATE) != 0; }

  public static boolean writable(long migrateWord) { return (migrateWord & MIGRATE_PFN_WRITE) != 0; }
}
