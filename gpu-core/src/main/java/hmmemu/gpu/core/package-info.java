/**
 * The pure GPU-node core: emulated devices and their drivers (drivers/gpu/drm/nouveau/nouveau_svm.c and the
 * dmirror test driver of lib/test_hmm.c) as a single-threaded state machine, {@link hmmemu.gpu.core.GpuNode}.
 *
 * <p>Layers: {@code hmmemu.gpu.core.device} is the hardware (device page table with its TLB flushes, warps, the
 * replayable fault buffer and nouveau's fault worker); {@code hmmemu.gpu.core.driver} is the drivers (bindings,
 * notifier subscriptions and invalidate callbacks, the read_begin/read_retry loop, nouveau's fault handler,
 * dmirror's ioctls). Drivers call the device; the device never calls a driver. This package routes messages:
 * {@link hmmemu.gpu.core.GpuNode} per node, {@code Device} per device, which carries what one layer returns to
 * the other (the fault the worker hands over, a completed host access).
 *
 * <p>Guarantees (given FIFO links): a classic-notifier ack is sent only after the device zapped the entries of the
 * range and every access it had already sent to those pages was answered, so no device access reaches the host
 * after the ack; a mapping is programmed only under the driver mutex after read_retry passed (unless the
 * brokenMapBeforeRetry switch deliberately breaks that); every successful make_device_exclusive is followed by
 * exactly one FolioUnlockPut (unless the leakFolioOnRetry switch models the pre-2025 bug); every state change is
 * a trace event, in order, so the checker can rebuild the device page tables from the events alone.
 *
 * <p>May import: {@code hmmemu.protocol.model}, {@code hmmemu.protocol.msg}, {@code hmmemu.protocol.trace}, the
 * two subpackages and the JDK. No clock (model time arrives with each step), no threads, no randomness, no Pekko,
 * no protobuf.
 */
package hmmemu.gpu.core;
