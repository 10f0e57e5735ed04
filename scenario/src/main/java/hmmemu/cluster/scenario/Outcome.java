package hmmemu.cluster.scenario;

import hmmemu.protocol.model.Errno;
import java.util.List;

/**
 * What a completed step returned: its errno (OK for 0), the value of its last access (the old value of a load or
 * fetch-and-add), the page faults its CPU accesses took, and a dmirror ioctl's counters and data.
 */
public record Outcome(Errno errno, long value, long cpuFaults, boolean hasCounters, long faults, long cpages,
    List<Long> data) {
  public static Outcome of(Errno errno) { return new Outcome(errno, 0, 0, false, 0, 0, List.of()); }
}
