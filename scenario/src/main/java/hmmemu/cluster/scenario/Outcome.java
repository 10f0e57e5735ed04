package hmmemu.cluster.scenario;

import hmmemu.protocol.model.Errno;
import java.util.List;

/**
 * What a completed step returned: its errno (OK for 0), the value of its last access (the old value of a load or
 * fetch-and-add), the page faults its CPU accesses took, and a dmirror ioctl's counters and data; modelMicros is
 * the model time the step took as its node measured it (device accesses: the sum of DeviceAccessDone.latencyMicros;
 * dmirror ioctls: DmirrorReply.latencyMicros),
 * -1 when unknown.
 */
public record Outcome(Errno errno, long value, long cpuFaults, boolean hasCounters, long faults, long cpages,
    List<Long> data, long modelMicros) {
  /** An outcome without a model-time duration (modelMicros -1). */
  public Outcome(Errno errno, long value, long cpuFaults, boolean hasCounters, long faults, long cpages,
      List<Long> data) {
    this(errno, value, cpuFaults, hasCounters, faults, cpages, data, -1);
  }

  public static Outcome of(Errno errno) { return new Outcome(errno, 0, 0, false, 0, 0, List.of()); }
}
