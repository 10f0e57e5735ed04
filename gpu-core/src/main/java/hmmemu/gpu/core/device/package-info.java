/**
 * The device hardware of one emulated GPU: {@link hmmemu.gpu.core.device.DevicePageTable} (the device page table,
 * docs/PROTOCOL.md §1.7, its transactions to host memory and the TLB flush that holds a classic-notifier ack back until
 * they completed; its entries are packed, a long per page, in {@code PackedPageTable}) and {@link hmmemu.gpu.core.device.FaultBuffer} (the warps' accesses, the replayable fault
 * buffer and nouveau's fault worker: batches, cancel, REPLAY, §4.1). Also what every layer shares during a step
 * ({@link hmmemu.gpu.core.device.StepContext}), the device's ids ({@link hmmemu.gpu.core.device.DeviceIds}) and its own
 * memory, which device-private pages name ({@link hmmemu.gpu.core.device.DeviceMemory}, §3.11).
 *
 * <p>Nothing here calls a driver: a fault for the driver is returned as
 * {@link hmmemu.gpu.core.device.FaultBuffer.Handover}, a host access is known by the reqId it returned.
 *
 * <p>May import: {@code hmmemu.protocol.model}, {@code hmmemu.protocol.msg}, {@code hmmemu.protocol.trace} and
 * the JDK; never {@code hmmemu.gpu.core} or {@code hmmemu.gpu.core.driver}. No clock, threads, Pekko or protobuf.
 */
package hmmemu.gpu.core.device;
