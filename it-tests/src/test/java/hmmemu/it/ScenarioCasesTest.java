package hmmemu.it;

import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import hmmemu.cluster.scenario.CaseResult;
import hmmemu.cluster.scenario.Scenario;
import hmmemu.cluster.scenario.ScenarioParser;
import hmmemu.cluster.scenario.ScenarioRunner;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/**
 * Every scenario file of scenarios/cases (docs/SCENARIOS.md C01-C20 and variants) and of scenarios/faults (one per
 * link fault kind, docs/FAULTS.md) runs as one dynamic test on a fresh
 * embedded cluster of ActorTestKit-made systems with serialize-messages on. Each expectation states the kernel's
 * outcome; a failure lists every mismatch as {@code file:line: expected X, got Y}. The runner bounds every wait
 * (a stuck step is reported as a deadlock, never a hang) and uses no sleeps. {@code -Dhmm.scenario=c05} runs only
 * the files whose name contains that text.
 */
class ScenarioCasesTest {
  /** Where the case files live, relative to the it-tests module (Maven runs tests there). */
  static final Path CASES = Path.of("..", "scenarios", "cases");

  /** The link fault files (one per fault kind, each with a faults block; docs/FAULTS.md). */
  static final Path FAULTS = Path.of("..", "scenarios", "faults");

  @TestFactory
  Stream<DynamicTest> everyCaseFileHoldsOnTheCluster() throws IOException {
    return filesIn(CASES);
  }

  @TestFactory
  Stream<DynamicTest> everyFaultFileHoldsOnTheCluster() throws IOException {
    return filesIn(FAULTS);
  }

  private static Stream<DynamicTest> filesIn(Path dir) throws IOException {
    assertTrue(Files.isDirectory(dir), "no scenario directory at " + dir.toAbsolutePath());
    List<Path> files;
    try (Stream<Path> s = Files.list(dir)) {
      files = s.filter(p -> p.getFileName().toString().endsWith(".conf"))
          .filter(p -> p.getFileName().toString().contains(System.getProperty("hmm.scenario", ""))).sorted()
          .collect(Collectors.toList());
    }
    assertTrue(!files.isEmpty() || !System.getProperty("hmm.scenario", "").isEmpty(),
        "no *.conf scenario in " + dir.toAbsolutePath());
    return files.stream().map(f -> DynamicTest.dynamicTest(f.getFileName().toString(), () -> runCase(f)));
  }

  private static void runCase(Path file) {
    Scenario scenario = ScenarioParser.parse(file);
    Config base = ConfigFactory.load("application-test");
    List<ActorTestKit> kits = new ArrayList<>();
    ScenarioRunner.Options options = new ScenarioRunner.Options(base, (name, config) -> {
      ActorTestKit kit = ActorTestKit.create(name, config);
      kits.add(kit);
      return kit.system();
    }, Duration.ofSeconds(30), 1.0);
    CaseResult r = ScenarioRunner.run(scenario, options);
    assertTrue(r.ok(), () -> (scenario.caseId() == null ? "" : scenario.caseId() + " ") + scenario.name() + ": "
        + r.failures().size() + " failed expectation(s):\n  " + String.join("\n  ", r.failures()));
  }
}
