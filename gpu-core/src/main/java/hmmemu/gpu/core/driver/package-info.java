/**
 * The drivers of one emulated GPU, behind {@link hmmemu.gpu.core.driver.Drivers}: nouveau (nouveau_svm.c: the
 * classic notifier Gc, the per-fault interval notifier Gt, nouveau_atomic_range_fault and nouveau_range_fault,
 * §4.2-§4.4) and dmirror (lib/test_hmm.c: its interval notifier and ioctls, §4.6; its device-private migrations and
 * migrate_to_ram in {@code DmirrorMigrate}, §3.11), with their user locks
 * ({@code DriverMutex}), the driver-side mirror of the notifier API ({@code Notifiers}, {@code Subscription},
 * {@code InvalidateCallbacks}), the typed calls into the mm ({@code Replies}: make_device_exclusive, 5.14's
 * make_device_exclusive_range that dmirror's V2021 EXCLUSIVE calls once per 64-page chunk, hmm_range_fault,
 * migrate_vma_*) and the one loop of
 * Documentation/mm/hmm.rst, read_begin / call / driver lock / read_retry ({@code IntervalReadLoop}).
 *
 * <p>Drivers call the device layer (page table, host accesses); it never calls them back.
 *
 * <p>May import: {@code hmmemu.gpu.core.device}, {@code hmmemu.protocol.model}, {@code hmmemu.protocol.msg},
 * {@code hmmemu.protocol.trace} and the JDK; never {@code hmmemu.gpu.core}. No clock, threads, Pekko or protobuf.
 */
package hmmemu.gpu.core.driver;
