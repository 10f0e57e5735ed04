package hmmemu.gpu.core;

/**
 * A device's counters, as DeviceInfo reports them.
 *
 * @param faults              device faults raised (DeviceFaulted events)
 * @param driverIterations    total loop iterations of the driver's fault loops
 * @param driverIterationsMax the largest iteration count of one handled fault
 * @param driverTimeouts      faults the driver gave up on at its deadline (-EBUSY)
 * @param cancels             device accesses cancelled (all causes)
 * @param invalidations       invalidate callbacks received
 * @param replays             fault-buffer REPLAYs issued
 * @param faultsHandled       faults the driver handled (one per nouveau_*range_fault call)
 */
public record DeviceCounters(long faults, long driverIterations, long driverIterationsMax, long driverTimeouts,
    long cancels, long invalidations, long replays, long faultsHandled) {}
