/**
 * The scenario language (docs/SCENARIOS.md): HOCON files that describe a cluster, processes, VMAs and devices, then
 * steps on named actors (CPU threads T1.., devices D0.., processes' syscalls) with expectations after any step.
 *
 * <p>Parsing ({@link hmmemu.cluster.scenario.ScenarioParser}, the entry point) reads and validates a file completely
 * before anything runs, one line {@code FILE:LINE: what is wrong} per problem ({@link
 * hmmemu.cluster.scenario.ScenarioException}):
 * <ul>
 *   <li>{@code ScenarioReader}: HOCON text to a raw tree whose values keep their origin line; typed accessors;</li>
 *   <li>{@code SetupParser}: switches, processes, devices, VMAs, the faults block; name look-ups;</li>
 *   <li>{@code StepParser}: the steps and their actions; {@code ExpectationParser}: expect blocks;</li>
 *   <li>{@code ScenarioValidator}: what the earlier steps did (ids, async steps, pause points, crashes, pfn names).</li>
 * </ul>
 * The result is a {@link hmmemu.cluster.scenario.Scenario} with {@link hmmemu.cluster.scenario.Expectation}s.
 *
 * <p>Running ({@link hmmemu.cluster.scenario.ScenarioRunner}, the entry point) uses a fresh embedded cluster whose link
 * stage is a pause gate ({@link hmmemu.node.link.GateLink}) around an observer ({@code ObservingLink}) that counts invalidate
 * callbacks per device, subscription kind and event:
 * <ul>
 *   <li>{@code ScenarioCluster}: start and stop, set-up, the faults block, crash and restart, node handles and
 *       introspection (pages, devices, the checker's verdict);</li>
 *   <li>{@code StepExecutor}: the steps in order, pause points, deadlock reports; {@code KthreadStep}: a kernel
 *       thread's folio lock held for model time ({@code ScenarioHost.afterModelTime}); {@code StepObservation}: what
 *       the expectations of one step see;</li>
 *   <li>{@code Verdict}: the failures collected, each {@code FILE:LINE: ...}, and the
 *       {@link hmmemu.cluster.scenario.CaseResult}.</li>
 * </ul>
 With {@code ScenarioRunner.SeparateJvms} in the options ({@code hmm-emu cluster --scenario}) the cluster is a
 * {@link hmmemu.cluster.ProcessCluster} instead, one JVM per node, whose nodes run the gate and the observer
 * themselves ({@link hmmemu.node.link.RemoteGate}); {@code JvmLinkTap} is the controller's end (arms and releases
 * pause points, applies the streamed observations, syncs them after each barrier, arms an {@code until}'s delivery
 * watch on its receiving node and feeds the deliveries it reports to the cluster's delivery watchers;
 * docs/SCENARIOS.md "Across separate JVMs"). Crash and restart run there too: {@code ScenarioCluster} kills the
 * node's JVM (SIGKILL, {@code ProcessCluster.crash}) or starts a new one under the next node index
 * ({@code ProcessCluster.restart}), resets it with the scenario's switches and rebinds its devices, and
 * {@code JvmLinkTap} forgets the dead gate, drops what the CPU node's gate held toward it and finds the new one; a
 * faults block's crash, restart, pause and resume lines come back to the runner through
 * {@code FaultSchedule.Callbacks} ({@code ProcessCluster.runFaults}). {@code ScenarioRunner.lastRestartIndex} is
 * the node index a file's last restart gets (the CLI refuses one beyond the 15 GPU node indexes). With a
 * {@code JvmPool} in {@code SeparateJvms} consecutive files reuse the node JVMs, each in a new node incarnation
 * ({@code ProcessCluster.reincarnate}; docs/SCENARIOS.md "Reused node JVMs").
 *
 * <p>The same steps run in the deterministic simulator ({@link hmmemu.cluster.scenario.SimScenarioRunner}, the entry
 * point of {@code hmm-emu sim}): {@code StepExecutor} talks only to a {@code ScenarioHost} (requests, the host's
 * bounded {@code await}, pause gates, the {@code InvalidateObserver}, crash and restart, introspection, the
 * checker's view), which {@code ScenarioCluster} implements on the embedded cluster (wall time) and {@code SimHost}
 * in the simulator (model time, one seed; deadlock, livelock and timeout verdicts; docs/SCENARIOS.md §8; with a
 * file's {@code liveness { livelock-span }} also {@code BusyLoopWatch}'s livelock of a device whose driver fault loop
 * keeps failing while others make progress; the cluster judges that one too, feeding the same watch from its
 * checker's trace stream at each event's stamped model time).
 * A concurrent block ({@code concurrent = [...]}) is started by the host ({@code ScenarioHost.startConcurrently}):
 * the cluster starts its steps together from one thread each, the simulator in a start order and with gaps drawn
 * from the run's seed ({@code SimHost.choose} and {@code SimHost.gapNanos}), each draw also a choice point of the
 * explore scheduler ({@code BlockChoice}; {@code PauseFile} writes a chosen order as async steps).
 * A controller hold (a pause point with {@code from = controller}) is the executor's ({@code ControllerHolds}: it
 * holds one of the steps' requests until a named message was delivered); hosts report deliveries through
 * {@code ScenarioHost.whenDelivered} (the cluster from {@code Link.delivered}, across JVMs from the nodes' gate.proto
 * {@code Delivered} notices, the simulator from {@code Sim.onDelivered}). A file's {@code order} is {@code OrderPins}':
 * each node's inputs in the listed sequence, a link message held in its direction's order gate until permitted
 * ({@code ScenarioHost.order}, {@code permit}), a request in {@code ControllerHolds}.
 *
 * <p>Guarantees: every wait is bounded, so a run never hangs; a step that does not complete in time is reported as a
 * deadlock naming the pending steps, what each waits on and the pause points that hold a direction. Expectations
 * compare what the emulator shows with what the scenario states; a scenario never adapts to the emulator.
 *
 * <p>May import: the model and message types (hmmemu.protocol.model, .msg, .trace), the node link stages
 * (hmmemu.node, hmmemu.node.link), the cluster harness (hmmemu.cluster: EmbeddedCluster, ProcessCluster, ControlClient,
 * hmmemu.cluster.check), the gate.proto messages (hmmemu.protocol.wire.pb, only {@code JvmLinkTap}), the simulator (hmmemu.sim; only {@code SimHost}, {@code SimScenarioRunner} and the exploration classes), Typesafe
 * Config for HOCON and Pekko typed for asks. Only the parser side
 * ({@code ScenarioReader} and the parsers) reads HOCON values; only the runner side talks to the cluster.
 * Nothing here is imported by the cores; the CLI and the it-tests use only {@code ScenarioParser.parse},
 * {@code ScenarioRunner.run} with {@code ScenarioRunner.Options}, {@code SimScenarioRunner}, {@code Scenario},
 * {@code CaseResult} and {@code ScenarioException}; and schedule exploration (issue 13, {@code hmm-emu explore}):
 * {@code Explorer} (public: strategies, report, shrink), {@code ScheduleRun} (one run under a scheduler; the
 * searches' runs are lean: they record only what a search reads, the shrinker's and the file writer's are full),
 * {@code Shrinker} (ddmin), {@code PauseFile} (the shrunk schedule as a pause-point file) and {@code OrderFile} (as
 * an {@code order} pinning every node's inputs, {@code hmm-emu explore --order}).
 */
package hmmemu.cluster.scenario;
