package hmmemu.protocol.model;

/** The two notifier flavours of mm/mmu_notifier.c: interval subscriptions (itree) and classic mmu_notifiers (list). */
public enum NotifierKind {
  /** struct mmu_interval_notifier: invalidate(sub, range, cur_seq), read_begin/read_retry. Called first. */
  INTERVAL,
  /** struct mmu_notifier with invalidate_range_start/end. Called after every interval callback. */
  CLASSIC
}
