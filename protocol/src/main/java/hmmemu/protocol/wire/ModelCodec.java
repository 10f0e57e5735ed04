package hmmemu.protocol.wire;

import hmmemu.protocol.msg.HmmProtocol;
import hmmemu.protocol.wire.WireCodec.EnumCodec;
import hmmemu.protocol.wire.pb.Access;
import hmmemu.protocol.wire.pb.DmirrorOp;
import hmmemu.protocol.wire.pb.DriverFlavour;
import hmmemu.protocol.wire.pb.Errno;
import hmmemu.protocol.wire.pb.KernelProfile;
import hmmemu.protocol.wire.pb.NotifierKind;
import hmmemu.protocol.wire.pb.NotifyEvent;
import hmmemu.protocol.wire.pb.PteState;
import hmmemu.protocol.wire.pb.SyscallKind;
import hmmemu.protocol.wire.pb.VmaKind;
import java.util.List;

/**
 * Codec of model.proto: one {@link EnumCodec} per shared enum (Java model enum or HmmProtocol enum <-> its proto
 * twin). Built eagerly: a constant missing on either side fails class initialization, and with it every test.
 */
final class ModelCodec {
  private ModelCodec() {}

  static final EnumCodec<hmmemu.protocol.model.Access, Access> ACCESS =
      new EnumCodec<>(hmmemu.protocol.model.Access.class, Access.class);
  static final EnumCodec<hmmemu.protocol.model.DriverFlavour, DriverFlavour> DRIVER_FLAVOUR =
      new EnumCodec<>(hmmemu.protocol.model.DriverFlavour.class, DriverFlavour.class);
  static final EnumCodec<hmmemu.protocol.model.Errno, Errno> ERRNO =
      new EnumCodec<>(hmmemu.protocol.model.Errno.class, Errno.class);
  static final EnumCodec<hmmemu.protocol.model.KernelProfile, KernelProfile> KERNEL_PROFILE =
      new EnumCodec<>(hmmemu.protocol.model.KernelProfile.class, KernelProfile.class);
  static final EnumCodec<hmmemu.protocol.model.NotifierKind, NotifierKind> NOTIFIER_KIND =
      new EnumCodec<>(hmmemu.protocol.model.NotifierKind.class, NotifierKind.class);
  static final EnumCodec<hmmemu.protocol.model.NotifyEvent, NotifyEvent> NOTIFY_EVENT =
      new EnumCodec<>(hmmemu.protocol.model.NotifyEvent.class, NotifyEvent.class);
  static final EnumCodec<hmmemu.protocol.model.PteState, PteState> PTE_STATE =
      new EnumCodec<>(hmmemu.protocol.model.PteState.class, PteState.class);
  static final EnumCodec<hmmemu.protocol.model.VmaKind, VmaKind> VMA_KIND =
      new EnumCodec<>(hmmemu.protocol.model.VmaKind.class, VmaKind.class);
  static final EnumCodec<HmmProtocol.SyscallKind, SyscallKind> SYSCALL_KIND =
      new EnumCodec<>(HmmProtocol.SyscallKind.class, SyscallKind.class);
  static final EnumCodec<HmmProtocol.DmirrorOp, DmirrorOp> DMIRROR_OP =
      new EnumCodec<>(HmmProtocol.DmirrorOp.class, DmirrorOp.class);

  /** Every enum codec of model.proto. */
  static List<EnumCodec<?, ?>> all() {
    return List.of(ACCESS, DRIVER_FLAVOUR, ERRNO, KERNEL_PROFILE, NOTIFIER_KIND, NOTIFY_EVENT, PTE_STATE, VMA_KIND,
        SYSCALL_KIND, DMIRROR_OP);
  }
}
