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

  /**
   * {@code key} of node incarnation {@code epoch} (reused node JVMs, docs/SCENARIOS.md "Across separate JVMs"): the
   * key itself for 0, a key of its own otherwise, so the actors of one incarnation find only each other.
   */
  public static <T> ServiceKey<T> ofEpoch(Class<T> type, ServiceKey<T> key, long epoch) {
    return epoch == 0 ? key : ServiceKey.create(type, key.id() + "@" + epoch);
  }

  /** The suffix of an actor name of node incarnation {@code epoch}: none for 0, "-epoch" otherwise. */
  public static String nameSuffix(long epoch) { return epoch == 0 ? "" : "-" + epoch; }

  /** An Envelope key of incarnation {@code epoch} ({@link #ofEpoch(Class, ServiceKey, long)}). */
  public static ServiceKey<Envelope> ofEpoch(ServiceKey<Envelope> key, long epoch) {
    return ofEpoch(Envelope.class, key, epoch);
  }

  /** The actor of GPU node {@code nodeIndex} (registered beside {@link #GPU}), so a controller can tell nodes apart. */
  public static ServiceKey<Envelope> gpu(int nodeIndex) {
    return ServiceKey.create(Envelope.class, "hmm-gpu-" + nodeIndex);
  }
}
