/**
 * Value types every layer shares (Page, PteState, NotifyEvent, Errno, Access, ModelSwitches, KernelProfile, Ready,
 * Outbound): the vocabulary of mm/ and include/linux/mmu_notifier.h; and Mutant, the deliberate model mutations of
 * the mutation score (docs/TESTING.md). Pure Java: imports nothing but java.*.
 */
package hmmemu.protocol.model;
