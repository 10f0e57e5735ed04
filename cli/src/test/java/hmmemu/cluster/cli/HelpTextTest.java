package hmmemu.cluster.cli;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;

/**
 * Issue 10: help text has no hard line breaks mid-sentence. Every description element (a paragraph picocli wraps
 * itself) ends a sentence, so a command's summary in {@code hmm-emu --help} is never cut off.
 */
class HelpTextTest {
  private static void check(String where, String[] description, List<String> bad) {
    for (String d : description) {
      String t = d.replaceAll("(%n)+$", "").strip();
      if (!t.isEmpty() && !t.matches("(?s).*[.)\"]$")) bad.add(where + ": \"" + t + "\"");
    }
  }

  @Test
  void everyDescriptionParagraphEndsASentence() {
    List<String> bad = new ArrayList<>();
    CommandLine root = new CommandLine(new Main());
    for (CommandLine cl : root.getSubcommands().values()) {
      CommandSpec spec = cl.getCommandSpec();
      check(spec.name(), spec.usageMessage().description(), bad);
      for (OptionSpec o : spec.options()) check(spec.name() + " " + o.longestName(), o.description(), bad);
    }
    assertTrue(bad.isEmpty(), "description paragraphs that stop mid-sentence:\n" + String.join("\n", bad));
  }

  /** Every option a command lists says what it does (cluster's --seed, --warps, ... and sweep's --config were blank). */
  @Test
  void everyOptionHasADescription() {
    List<String> blank = new ArrayList<>();
    for (CommandLine cl : new CommandLine(new Main()).getSubcommands().values()) {
      for (OptionSpec o : cl.getCommandSpec().options()) {
        if (String.join("", o.description()).isBlank()) blank.add(cl.getCommandName() + " " + o.longestName());
      }
    }
    assertTrue(blank.isEmpty(), "options without a description: " + blank);
  }

  /**
   * Every command's usage renders without a picocli format warning: a description is a format string, so a bare
   * {@code %} (as "17-37 % of" was) prints "[picocli WARN] Could not format" on every {@code --help}.
   */
  @Test
  void everyUsageMessageFormatsWithoutAWarning() {
    PrintStream old = System.err;
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    List<String> usages = new ArrayList<>();
    try {
      System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
      CommandLine root = new CommandLine(new Main());
      usages.add(root.getUsageMessage());
      for (CommandLine cl : root.getSubcommands().values()) usages.add(cl.getUsageMessage());
    } finally {
      System.setErr(old);
    }
    String warnings = err.toString(StandardCharsets.UTF_8);
    assertTrue(!warnings.contains("picocli WARN"), "help text that picocli cannot format:\n" + warnings);
    assertTrue(usages.stream().noneMatch(String::isEmpty), "a command without usage text");
  }

  /**
   * What {@code --fast-forward}'s help says it jumps holds: every scenario file it names as jumped has every deadline
   * spin jumped, and it names no spinner file as not jumped that is (it said "not c08" after c08's spin became
   * jumpable, docs/RESULTS.md "c08's spinning thread on its node").
   */
  @Test
  void fastForwardHelpNamesTheSpinnerFilesItJumps() throws Exception {
    String help = String.join(" ", new CommandLine(new Main()).getSubcommands().get("sim").getCommandSpec()
        .findOption("--fast-forward").description());
    Matcher files = Pattern.compile("files ((?:[a-z]\\d+[a-z]?(?:, |,? and )?)+)")
        .matcher(help);
    assertTrue(files.find(), "no spinner files named: " + help);
    List<String> named = List.of(files.group(1).replace(" and ", ", ").split(",\\s*"));
    List<String> paths = new ArrayList<>(List.of("sim", "--fast-forward", "--quiet"));
    for (String n : named) paths.add(caseFile(n));
    Matcher not = Pattern.compile("not (c\\d+[a-z]?)").matcher(help);
    List<String> notJumped = new ArrayList<>();
    while (not.find()) notJumped.add(not.group(1));
    // --fast-forward travels with this command only (FastForwardFlagCliTest): later tests simulate every round
    checkJumps(paths, named, notJumped);
  }

  private static void checkJumps(List<String> paths, List<String> named, List<String> notJumped) throws Exception {
    CliRun r = CliRun.run(paths.toArray(String[]::new));
    String spins = r.out().stream().filter(l -> l.contains("deadline spins jumped")).findFirst().orElse("");
    assertTrue(spins.contains(named.size() + " of " + named.size() + " deadline spins jumped"), named + ": " + spins);
    for (String n : notJumped) {
      CliRun one = CliRun.run("sim", "--fast-forward", "--quiet", caseFile(n));
      assertTrue(one.out().stream().anyMatch(l -> l.contains(" 0 of ") && l.contains("deadline spins jumped")),
          "the help says " + n + " is not jumped, but: " + one.out());
    }
  }

  /** A help text that names a race of the contract (R1-R9) or a section (§) cites docs/PROTOCOL.md, where it is defined. */
  @Test
  void aRaceNamedInHelpCitesTheProtocol() {
    List<String> uncited = new ArrayList<>();
    Pattern race = Pattern.compile("\\bR[1-9]\\b|§");
    for (CommandLine cl : new CommandLine(new Main()).getSubcommands().values()) {
      CommandSpec spec = cl.getCommandSpec();
      List<String> texts = new ArrayList<>(List.of(String.join(" ", spec.usageMessage().description())));
      for (OptionSpec o : spec.options()) texts.add(String.join(" ", o.description()));
      for (String t : texts) {
        if (race.matcher(t).find() && !t.contains("docs/PROTOCOL.md")) uncited.add(spec.name() + ": " + t);
      }
    }
    assertTrue(uncited.isEmpty(), "help naming a race without docs/PROTOCOL.md:\n" + String.join("\n", uncited));
  }

  /** The scenarios/cases file of case {@code n} (c08 -> c08-thrash-no-folio-lock.conf). */
  private static String caseFile(String n) throws java.io.IOException {
    try (Stream<Path> s = Files.list(Path.of("../scenarios/cases"))) {
      return s.sorted().filter(p -> p.getFileName().toString().startsWith(n + "-")).findFirst()
          .orElseThrow(() -> new AssertionError("no scenarios/cases file for " + n)).toString();
    }
  }
}
