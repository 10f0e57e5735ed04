package hmmemu.gpu.core.device;

import hmmemu.protocol.model.DevicePrivate;
import hmmemu.protocol.model.Page;
import java.util.HashMap;
import java.util.Map;

/**
 * The device's own memory, which device-private pages name (ZONE_DEVICE MEMORY_DEVICE_PRIVATE): lib/test_hmm.c
 * simulates it with a backing system page per device page (BACKING_PAGE(dpage)); here the words live on the GPU
 * node and the CPU node keeps only the struct page. Hardware only: pages are handed out by
 * {@link #allocate} (dmirror_devmem_alloc_page) and read or written by pfn.
 */
public final class DeviceMemory {
  private final int deviceId;
  /** Contents by device-private pfn; a page absent here is all zero. */
  private final Map<Long, long[]> pages = new HashMap<>();
  private int nextIndex;

  public DeviceMemory(int deviceId) { this.deviceId = deviceId; }

  /** dmirror_devmem_alloc_page(): a fresh page of this device's memory, zeroed; its device-private pfn. */
  public long allocate() {
    if (nextIndex >= DevicePrivate.PAGES_PER_DEVICE) throw new IllegalStateException("device memory exhausted");
    long pfn = DevicePrivate.pfn(deviceId, nextIndex++);
    pages.remove(pfn);
    return pfn;
  }

  /** True if pfn names a page of this device's memory. */
  public boolean owns(long pfn) {
    return DevicePrivate.isDevicePrivate(pfn) && DevicePrivate.deviceOf(pfn) == deviceId;
  }

  public long word(long pfn, int index) {
    long[] p = pages.get(check(pfn));
    return p == null ? 0 : p[index];
  }

  public void setWord(long pfn, int index, long value) {
    pages.computeIfAbsent(check(pfn), x -> new long[Page.WORDS])[index] = value;
  }

  /** The words of the page at pfn that are not zero, as (word index, value) pairs appended to {@code out}. */
  public void nonZeroWords(long pfn, java.util.List<Long> out, long pageIndex) {
    long[] p = pages.get(check(pfn));
    if (p == null) return;
    for (int w = 0; w < Page.WORDS; w++) {
      if (p[w] != 0) {
        out.add(pageIndex);
        out.add((long) w);
        out.add(p[w]);
      }
    }
  }

  /** Pages handed out so far. */
  public int allocated() { return nextIndex; }

  private long check(long pfn) {
    if (!owns(pfn)) throw new IllegalStateException("pfn " + Long.toHexString(pfn) + " is not memory of device " + deviceId);
    return pfn;
  }
}
