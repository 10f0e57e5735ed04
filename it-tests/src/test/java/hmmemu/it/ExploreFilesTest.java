package hmmemu.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import hmmemu.cluster.scenario.CaseResult;
import hmmemu.cluster.scenario.Explorer;
import hmmemu.cluster.scenario.ExploreTargets;
import hmmemu.cluster.scenario.Scenario;
import hmmemu.cluster.scenario.ScenarioParser;
import hmmemu.cluster.scenario.ScenarioRunner;
import hmmemu.cluster.scenario.SimScenarioRunner;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/**
 * Schedule exploration finds what we know without being told (issue 13 item 5): each starting file of
 * scenarios/explore (no pause point, no spin) is explored with a small budget and the failure of its kind is found;
 * and every shrunk reproduction kept in scenarios/found replays in the simulator with the verdict it was found with
 * (its {@code # explore-verdict} and {@code # explore-seed} header lines), and on the embedded cluster ({@code
 * hmm-emu run}) with the same verdict: the simulator finds, the cluster confirms (issue 13 item 4). Deterministic:
 * the strategies draw from the seed; on the cluster each found file's {@code order} block (docs/SCENARIOS.md
 * "Pinning every order") forces the interleaving. {@code -Dhmm.scenario=substr} runs only the found files whose name
 * contains it.
 */
class ExploreFilesTest {
  static final Path EXPLORE = Path.of("..", "scenarios", "explore");
  static final Path FOUND = Path.of("..", "scenarios", "found");
  static final Config BASE = ConfigFactory.load();

  /** The seed of every exploration here (ExploreTargets: with it, every file but e holds in the seeded order). */
  static final long SEED = ExploreTargets.SEED;

  @TestFactory
  Stream<DynamicTest> explorationFindsEachTarget() {
    return ExploreTargets.TARGETS.stream().map(t -> DynamicTest.dynamicTest(t.file() + " " + t.strategy(), () -> {
      Path file = EXPLORE.resolve(t.file());
      assertTrue(Files.isRegularFile(file), "no " + file);
      Scenario scenario = ScenarioParser.parse(file);
      Explorer.Report r = new Explorer(scenario, SEED, BASE).explore(t.strategy(), t.budget(), 0);
      assertNotNull(r.failure(), file + ": no failing schedule within " + t.budget());
      assertEquals(t.kind(), r.failure().kind(), file + ": " + r.failure().firstFailure());
    }));
  }

  @TestFactory
  Stream<DynamicTest> everyFoundFileReplaysWithItsVerdict() throws IOException {
    return foundFiles().stream().map(f -> DynamicTest.dynamicTest(f.getFileName().toString(), () -> {
      String text = Files.readString(f);
      Matcher v = Pattern.compile("(?m)^# explore-verdict = (\\w+)$").matcher(text);
      Matcher sd = Pattern.compile("(?m)^# explore-seed = (-?\\d+)$").matcher(text);
      assertTrue(v.find() && sd.find(), f + ": no '# explore-verdict' / '# explore-seed' header");
      SimScenarioRunner.Result r = SimScenarioRunner.run(ScenarioParser.parse(f), Long.parseLong(sd.group(1)), BASE);
      assertFalse(r.ok(), f + " held: the reproduction no longer shows its " + v.group(1));
      assertEquals(v.group(1), SimScenarioRunner.failureKind(r.failures().get(0)), f + ": " + r.failures());
    }));
  }

  /**
   * The same files on a fresh embedded cluster each, as {@code hmm-emu run} runs them: the same first verdict. The
   * files of {@link ScenariosAcrossJvmsTest#FOUND_FILES_ON_THE_CLUSTER_HERE} are run on the embedded cluster by
   * {@code hmm-emu run} in ScenariosAcrossJvmsTest, which makes this same check there (and compares the lines with
   * the run across JVMs), so they are not run twice (issue 12).
   */
  @TestFactory
  Stream<DynamicTest> everyFoundFileReplaysOnTheClusterWithItsVerdict() throws IOException {
    return foundFiles().stream()
        .filter(f -> !ScenariosAcrossJvmsTest.FOUND_FILES_ON_THE_CLUSTER_HERE.contains(f.getFileName().toString()))
        .map(f -> DynamicTest.dynamicTest(f.getFileName().toString(), () -> {
      Matcher v = Pattern.compile("(?m)^# explore-verdict = (\\w+)$").matcher(Files.readString(f));
      assertTrue(v.find(), f + ": no '# explore-verdict' header");
      Scenario scenario = ScenarioParser.parse(f);
      List<ActorTestKit> kits = new ArrayList<>();
      ScenarioRunner.Options options = new ScenarioRunner.Options(ConfigFactory.load("application-test"),
          (name, config) -> {
            ActorTestKit kit = ActorTestKit.create(name, config);
            kits.add(kit);
            return kit.system();
          }, Duration.ofSeconds(30), 1.0);
      CaseResult r = ScenarioRunner.run(scenario, options);
      assertFalse(r.ok(), f + " held on the cluster: the simulator's " + v.group(1) + " was not confirmed");
      assertEquals(v.group(1), SimScenarioRunner.failureKind(r.failures().get(0)), f + ": " + r.failures());
    }));
  }

  /** scenarios/found/*.conf, sorted, filtered by -Dhmm.scenario. */
  private static List<Path> foundFiles() throws IOException {
    if (!Files.isDirectory(FOUND)) return List.of();
    try (Stream<Path> s = Files.list(FOUND)) {
      return s.filter(p -> p.toString().endsWith(".conf"))
          .filter(p -> p.getFileName().toString().contains(System.getProperty("hmm.scenario", ""))).sorted().toList();
    }
  }
}
