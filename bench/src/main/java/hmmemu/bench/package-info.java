/**
 * {@code hmm-emu bench} (issue 11, docs/PERFORMANCE.md): the measuring instrument, not the model. {@link
 * hmmemu.bench.Bench} runs every probe and prints the table and JSON; {@code CoupledCores} steps the pure CPU and GPU
 * cores in one thread and records their stamped trace; {@code CpuLoop} drives the CPU core alone (the JMH benchmark
 * {@link hmmemu.bench.CoreStepsBenchmark}, heap and retention probes); {@code CheckerProbe} replays a recorded stream
 * into the invariant checker; {@code ClusterProbes} measures through an embedded cluster against an echo actor pair
 * between the same ActorSystems.
 *
 * <p>May import the cores, the checker, cluster-config (embedded cluster, control client, settings), Pekko and JMH.
 * The cores never import this package. The demo's experiment (cli) is reached through {@link Bench.Hooks}, since the
 * cli depends on this module.
 */
package hmmemu.bench;
