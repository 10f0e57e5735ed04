package hmmemu.node;

import hmmemu.protocol.wire.pb.Envelope;
import org.apache.pekko.actor.typed.receptionist.ServiceKey;

/** Receptionist keys by which nodes find each other across the cluster (no hard-coded actor paths). */
public final class ServiceKeys {
  /** The CPU-MMU actor of a CPU node. */
  public static final ServiceKey<Envelope> CPU = ServiceKey.create(Envelope.class, "hmm-cpu");
  /** The device/driver actor of a GPU node. */
  public static final ServiceKey<Envelope> GPU = ServiceKey.create(Envelope.class, "hmm-gpu");
  /** The invariant checker. */
  public static final ServiceKey<Envelope> CHECKER = ServiceKey.create(Envelope.class, "hmm-checker");

  private ServiceKeys() {}

  /** The actor of GPU node {@code nodeIndex} (registered beside {@link #GPU}), so a controller can tell nodes apart. */
  public static ServiceKey<Envelope> gpu(int nodeIndex) {
    return ServiceKey.create(Envelope.class, "hmm-gpu-" + nodeIndex);
  }
}
