/**
 * The headline experiment (Experiment) and its table and JSON (DemoReport): CPU threads and warps on GPU
 * nodes incrementing shared counters, folio-lock arm against the early-unlock ablation (docs/PROTOCOL.md §8 R9).
 */
package hmmemu.cluster.demo;
