/**
 * The deterministic discrete-event simulator (issue 12): {@link hmmemu.sim.Sim} hosts the unchanged cores (CPU core,
 * GPU cores with every driver) and the invariant checker on one thread in virtual time with one seed;
 * {@link hmmemu.sim.LinkStage} is its host-device link ({@link hmmemu.sim.ModeledLinkStage}: the link model of
 * hmmemu.node.link in virtual time); {@link hmmemu.sim.TraceHash} hashes a run's trace; {@link
 * hmmemu.sim.SimExperiment} is the headline experiment's workload; {@link hmmemu.sim.SimFaults} carries out a fault
 * schedule (hmmemu.node.link.FaultSchedule) in virtual time. The host-side cost of a step comes from
 * hmmemu.node.cost.HostCost. {@link hmmemu.sim.Scheduler} (issue 13) picks among the enabled events at each choice
 * point ({@code Choices} collects them per source: a link lane, or any other event); without one, or with one
 * answering 0, the seeded order is unchanged; {@link hmmemu.sim.Sim#stateKey} is the state hash of exploration.
 * {@link hmmemu.sim.FastForward} (with {@code StateWalk}, a deterministic picture of everything reachable from the
 * simulator) detects a driver loop spinning to its deadline whose state repeats up to time, statistics, random streams
 * and identity families, and jumps over whole periods (off by default; {@link hmmemu.sim.Sim#fastForward}, -Dhmm-emu.sim.fast-forward=true).
 *
 * <p>May import: the cores (hmmemu.cpu.core, hmmemu.gpu.core), the checker, the model (hmmemu.protocol.model, .msg,
 * .trace), the pure parts of node-runtime (hmmemu.node.link's settings, specs, distributions, random streams and fault
 * schedules, hmmemu.node.route, hmmemu.node.cost), HdrHistogram. Never Pekko, protobuf, threads or the wall clock inside the event loop (the
 * wall clock only measures a run's duration for its events-per-second figure). StateWalk reads private fields by
 * reflection (of the cores and the checker too); a fast-forward's jump writes the leaves FastForward's lists name.
 */
package hmmemu.sim;
