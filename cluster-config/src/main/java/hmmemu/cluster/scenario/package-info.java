/**
 * The scenario language (docs/SCENARIOS.md): HOCON files that describe a cluster, processes, VMAs and devices, then
 * steps on named actors (CPU threads T1.., devices D0.., processes' syscalls) with expectations after any step.
 *
 * <p>Components: {@link hmmemu.cluster.scenario.ScenarioParser} reads and validates a file completely before anything
 * runs (one line {@code FILE:LINE: what is wrong} per problem); {@link hmmemu.cluster.scenario.ScenarioRunner} runs
 * it on a fresh embedded cluster whose link stage is a pause gate ({@link hmmemu.node.link.GateLink}) around an observer
 * that counts invalidate callbacks per device, subscription kind and event.
 *
 * <p>Guarantees: every wait is bounded, so a run never hangs; a step that does not complete in time is reported as a
 * deadlock naming the pending steps, what each waits on and the pause points that hold a direction. Expectations
 * compare what the emulator shows with what the scenario states; a scenario never adapts to the emulator.
 */
package hmmemu.cluster.scenario;
