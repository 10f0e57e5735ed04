package hmmemu.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import hmmemu.cluster.scenario.CaseResult;
import hmmemu.cluster.scenario.Scenario;
import hmmemu.cluster.scenario.ScenarioParser;
import hmmemu.cluster.scenario.ScenarioRunner;
import hmmemu.cluster.scenario.SimScenarioRunner;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.junit.jupiter.api.Test;

/**
 * The busy-loop livelock verdict ({@code liveness { livelock-span }}, docs/SCENARIOS.md "Liveness verdicts") on the
 * embedded cluster: the scenario cluster host feeds the simulator's BusyLoopWatch from the checker's stream at each
 * event's own model time, so a file both hosts run gives the same verdict. C08's shape without the folio lock (a
 * CPU thread spinning on X for 300 ms, each of G's driver iterations undone by its MMU_NOTIFY_CLEAR) is a livelock
 * after the 2 ms span on both hosts, naming G; with the folio lock (the kernel) no iteration fails and both pass.
 * Without the cluster's watch the first file passed on the cluster (G completes once T1 stops spinning).
 */
class ClusterLivenessTest {
  static final Path DIR = Path.of("src", "test", "resources", "liveness");

  @Test
  void withoutTheFolioLockBothHostsReportTheBusyLoopLivelockOfG() {
    Path file = DIR.resolve("busy-loop-no-folio-lock.conf");
    CaseResult cluster = onCluster(file);
    SimScenarioRunner.Result sim = SimScenarioRunner.run(ScenarioParser.parse(file), 1, ConfigFactory.load("application-test"));
    String both = both(cluster, sim);
    assertTrue(!cluster.ok(), "the cluster passed a file whose G loops without progress" + both);
    // the livelock ends the first await (gpu); its own expectation then reports the step without a result
    assertEquals(List.of("livelock", "expectation"), SimScenarioRunner.failureKinds(cluster.failures()),
        "the cluster's kinds" + both);
    assertTrue(cluster.failures().get(0).contains("got a livelock: nothing completed at ")
        && cluster.failures().get(0).contains("(a party busy without progress: G's driver fault loop failed "),
        "the cluster's livelock names G's driver fault loop, in the simulator's form" + both);
    assertTrue(sim.ran() && !sim.ok(), "the simulator passed it" + both);
    assertEquals(SimScenarioRunner.failureKinds(cluster.failures()), SimScenarioRunner.failureKinds(sim.failures()),
        "the hosts disagree on the failure kinds" + both);
    assertTrue(sim.failures().get(0).contains("(a party busy without progress: G's driver fault loop failed "),
        "the simulator's livelock names G" + both);
  }

  @Test
  void withTheFolioLockBothHostsPass() {
    Path file = DIR.resolve("busy-loop-folio-lock.conf");
    CaseResult cluster = onCluster(file);
    SimScenarioRunner.Result sim = SimScenarioRunner.run(ScenarioParser.parse(file), 1, ConfigFactory.load("application-test"));
    String both = both(cluster, sim);
    assertTrue(cluster.ok(), "the cluster failed it" + both);
    assertTrue(sim.ran() && sim.ok(), "the simulator failed it" + both);
  }

  private static CaseResult onCluster(Path file) {
    Scenario scenario = ScenarioParser.parse(file);
    Config base = ConfigFactory.load("application-test");
    ScenarioRunner.Options options = new ScenarioRunner.Options(base,
        (name, config) -> ActorTestKit.create(name, config).system(), Duration.ofSeconds(30), 1.0);
    return ScenarioRunner.run(scenario, options);
  }

  private static String both(CaseResult cluster, SimScenarioRunner.Result sim) {
    return "\n  cluster: " + (cluster.ok() ? "ok" : String.join("\n    ", cluster.failures()))
        + "\n  sim (" + sim.replayLine() + "): " + (sim.ok() ? "ok" : String.join("\n    ", sim.failures()));
  }
}
