package hmmemu.cluster.cli;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
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

  /** Every option a command lists in its help says what it does (cluster's --seed, --warps, ... and sweep's --config were blank). */
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
}
