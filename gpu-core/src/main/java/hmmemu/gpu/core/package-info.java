/**
 * The pure GPU-node core: emulated devices and their drivers (drivers/gpu/drm/nouveau/nouveau_svm.c and the
 * dmirror test driver of lib/test_hmm.c) as a single-threaded state machine, {@link hmmemu.gpu.core.GpuNode}.
 *
 * <p>Components: the device page table (R/W/A entries per (mm, page)); warps' accesses to host memory by pfn;
 * the replayable fault buffer and nouveau's fault worker (batch, sort, sticky atomic flag, REPLAY); nouveau's
 * atomic and non-atomic fault loops with the temporary interval notifier Gt; nouveau's classic notifier Gc;
 * dmirror's interval notifier and ioctls; the driver mutexes.
 *
 * <p>Guarantees (given FIFO links): a classic-notifier ack is sent only after the device zapped the entries of the
 * range and every access it had already sent to those pages was answered, so no device access reaches the host
 * after the ack; a mapping is programmed only under the driver mutex after read_retry passed (unless the
 * brokenMapBeforeRetry switch deliberately breaks that); every successful make_device_exclusive is followed by
 * exactly one FolioUnlockPut (unless the leakFolioOnRetry switch models the pre-2025 bug); every state change is
 * a trace event, in order, so the checker can rebuild the device page tables from the events alone.
 *
 * <p>No clock (model time arrives with each step), no threads, no randomness, no Pekko, no protobuf.
 */
package hmmemu.gpu.core;
