package hmmemu.protocol.model;

/** Which in-tree driver a device's driver actor models. */
public enum DriverFlavour {
  /** drivers/gpu/drm/nouveau/nouveau_svm.c: fault buffer, replay, temporary interval notifier + classic notifier. */
  NOUVEAU,
  /** lib/test_hmm.c dmirror: one interval notifier over the whole mm, ioctl-style commands. */
  DMIRROR
}
