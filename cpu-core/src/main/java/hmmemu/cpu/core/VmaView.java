package hmmemu.cpu.core;

import hmmemu.protocol.model.VmaKind;

/** A read-only snapshot of one vm_area_struct: [start,end), PROT_* bits and the kind of mapping. */
public record VmaView(long start, long end, int prot, VmaKind kind) {}
