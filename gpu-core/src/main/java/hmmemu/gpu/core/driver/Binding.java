package hmmemu.gpu.core.driver;

import hmmemu.protocol.model.DriverFlavour;

/**
 * One device driver bound to one process: nouveau's {@code struct nouveau_svmm} or dmirror's
 * {@code struct dmirror} (one open file). Owns the user lock and the long-lived subscription.
 */
final class Binding {
  final int mmId;
  final DriverFlavour flavour;
  /** The owner cookie the driver passes and filters on: nouveau's drm device, NULL (0) for dmirror. */
  final long owner;
  final DriverMutex mutex;
  /** nouveau: the classic notifier Gc; dmirror: its interval notifier. */
  Subscription subscription;
  /** Transitions: false -> true when the subscription is live (MmBound sent). */
  boolean bound;

  Binding(int mmId, DriverFlavour flavour, long owner, int deviceId) {
    this.mmId = mmId;
    this.flavour = flavour;
    this.owner = owner;
    this.mutex = new DriverMutex((flavour == DriverFlavour.NOUVEAU ? "svmm mutex" : "dmirror mutex")
        + " of device " + deviceId + " mm " + mmId);
  }
}
