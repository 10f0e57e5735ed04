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
import java.util.List;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/**
 * Every scenario file of scenarios/faults (one per link fault kind: delay, jitter, loss, duplication, reordering,
 * one-way and two-way partition, pause; docs/FAULTS.md) runs as one dynamic test on a fresh embedded cluster of
 * ActorTestKit-made systems whose host-device traffic goes through the modelled link of its faults block.
 * {@code -Dhmm.scenario=loss} runs only the files whose name contains that text.
 */
class ScenarioFaultsTest {
  static final Path FAULTS = Path.of("..", "scenarios", "faults");

  @TestFactory
  Stream<DynamicTest> everyFaultFileHoldsOnTheCluster() throws IOException {
    assertTrue(Files.isDirectory(FAULTS), "no scenario directory at " + FAULTS.toAbsolutePath());
    List<Path> files;
    try (Stream<Path> s = Files.list(FAULTS)) {
      files = s.filter(p -> p.getFileName().toString().endsWith(".conf"))
          .filter(p -> p.getFileName().toString().contains(System.getProperty("hmm.scenario", ""))).sorted()
          .collect(Collectors.toList());
    }
    assertTrue(!files.isEmpty(), "no *.conf scenario in " + FAULTS.toAbsolutePath());
    return files.stream().map(f -> DynamicTest.dynamicTest(f.getFileName().toString(), () -> runCase(f)));
  }

  private static void runCase(Path file) {
    Scenario scenario = ScenarioParser.parse(file);
    assertTrue(!scenario.faults().entries().isEmpty(), file + " has a faults block");
    Config base = ConfigFactory.load("application-test");
    ScenarioRunner.Options options = new ScenarioRunner.Options(base,
        (name, config) -> ActorTestKit.create(name, config).system(), Duration.ofSeconds(30), 1.0);
    CaseResult r = ScenarioRunner.run(scenario, options);
    assertTrue(r.ok(), () -> scenario.name() + ": " + r.failures().size() + " failed expectation(s):\n  "
        + String.join("\n  ", r.failures()));
  }
}
