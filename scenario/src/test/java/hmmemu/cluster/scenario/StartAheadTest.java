package hmmemu.cluster.scenario;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import hmmemu.cluster.EmbeddedCluster;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * ScenarioRunner.prepare and run(Prepared, closer), ScenarioCasesTest's start-ahead (docs/TESTING.md): a cluster that
 * does not start is reported as {@code run(Scenario, Options)} reports it, line for line, under every kernel profile
 * of the file (the next profile's cluster is the one started ahead in the run). No cluster forms here: the link
 * settings are refused before any ActorSystem is made.
 */
class StartAheadTest {
  /** x07 has two profiles and a per-thread-lanes link, so its start builds a ModeledLink from the base config. */
  static final String X07 = "x07-exclusive-rewalk-after-dontneed.conf";

  @Test
  void aStartThatFailsIsTheSameSetUpFailureAheadAsInPlace() {
    Scenario x07 = ScenarioParser.parse(SimScenariosTest.CASES.resolve(X07));
    assertEquals(2, x07.profiles().size(), X07 + " should name two kernel profiles");
    Config bad = ConfigFactory.parseString("hmm-emu.link.directions.bogus = 5").withFallback(SimScenariosTest.BASE);
    ScenarioRunner.Options options = new ScenarioRunner.Options(bad, EmbeddedCluster.SystemFactory.PLAIN,
        Duration.ofSeconds(30), 1.0);
    CaseResult inPlace = ScenarioRunner.run(x07, options);
    CaseResult ahead = ScenarioRunner.run(ScenarioRunner.prepare(x07, options), Runnable::run);
    assertFalse(inPlace.ok());
    List<String> f = inPlace.failures();
    assertEquals(2, f.size(), "one set-up failure per profile: " + f);
    assertTrue(f.get(0).contains(": [v6.15] ") && f.get(0).contains("hmm-emu.link"), f.get(0));
    assertTrue(f.get(1).contains(": [v5.14] ") && f.get(1).contains("hmm-emu.link"), f.get(1));
    assertEquals(f, ahead.failures(), "started ahead, the file must be reported as started in place");
    assertEquals(inPlace.ok(), ahead.ok());
  }
}
