package hmmemu.protocol.model;

/** The errno values the modelled kernel paths return (include/uapi/asm-generic/errno-base.h); OK stands for 0. */
public enum Errno {
  OK(0), EPERM(1), EINTR(4), ENOMEM(12), EFAULT(14), EBUSY(16), EINVAL(22), EAGAIN(11), EOPNOTSUPP(95),
  /** Not an errno: the CPU thread was sent SIGSEGV (VMA permission check failed). */
  SIGSEGV(-11),
  /**
   * Not an errno: the CPU thread was sent SIGBUS (the fault returned VM_FAULT_SIGBUS: a device-private page whose
   * device is gone, so its migrate_to_ram cannot copy it back; docs/PROTOCOL.md §3.11).
   */
  SIGBUS(-7),
  /** Not an errno: a GPU fault was cancelled (nouveau cancels the fault; the channel is killed). */
  CANCELLED(-1000),
  /** Not an errno: the peer that owns the operation is gone (node crashed or downed). */
  ENODEV(19),
  /**
   * Not an errno: the emulator stopped a CPU access that made no progress for its livelock bound (the kernel's
   * thread would fault forever; docs/PROTOCOL.md §3.11, the do_swap_page livelock of 6.1-6.14).
   */
  LIVELOCK(-1001);

  public final int code;

  Errno(int code) { this.code = code; }

  /** The kernel's spelling: "0" for OK, "-EBUSY" for EBUSY. */
  public String kernelName() { return this == OK ? "0" : (code < 0 ? name() : "-" + name()); }
}
