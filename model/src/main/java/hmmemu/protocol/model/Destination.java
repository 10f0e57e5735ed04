package hmmemu.protocol.model;

/**
 * Where a message a core emits goes: to one device's driver, to the CPU node, or back to the controller (or
 * workload) that sent request {@code reqId}. The core decides; a host (the Pekko shells, the simulator) only
 * resolves the destination to an address.
 */
public sealed interface Destination {
  /** To device {@code deviceId} (its driver on GPU node {@code Ids.nodeOfDevice(deviceId)}). */
  record Device(int deviceId) implements Destination {
    public Device {
      if (deviceId < 0) throw new IllegalArgumentException("deviceId must be >= 0: " + deviceId);
    }
  }

  /** To the CPU node (node 0). */
  record Cpu() implements Destination {}

  /** Back to the controller or workload that sent request {@code reqId} (a controller reqId, Ids.isControllerReq). */
  record Controller(long reqId) implements Destination {}

  Destination CPU = new Cpu();
}
