package hmmemu.cluster.cli;

import static org.junit.jupiter.api.Assertions.assertTrue;

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
}
