package hmmemu.cluster.cli;

import hmmemu.cluster.SettingsException;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The {@code hmm-emu} command line: exit 0 success, 1 an expectation or invariant failed, 2 bad usage. */
@Command(name = "hmm-emu", mixinStandardHelpOptions = true, version = "hmm-emu 0.1.0",
    description = "Emulates Linux HMM device-exclusive PTEs between a host CPU and GPU devices on a Pekko cluster.",
    subcommands = {DemoCommand.class, NodeCommand.class, ClusterCommand.class, InjectCommand.class, StatusCommand.class,
        SweepCommand.class, RunCommand.class, MutantsCommand.class, SimCommand.class, ExploreCommand.class, ExploreBenchCommand.class, BenchCommand.class, ReportCommand.class,
        CommandLine.HelpCommand.class})
public final class Main implements Runnable {
  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  public static void main(String[] args) {
    int code = run(args);
    System.out.flush();
    System.exit(code);
  }

  /** Runs the CLI and returns its exit code (tests call this instead of main). */
  public static int run(String... args) {
    // Initialise logging before Pekko starts, so SLF4J does not replay (and warn about) early log calls.
    org.slf4j.LoggerFactory.getILoggerFactory();
    CommandLine cl = new CommandLine(new Main());
    cl.setParameterExceptionHandler((ex, a) -> {
      System.err.println("hmm-emu: " + ex.getMessage() + " (try --help)");
      return 2;
    });
    cl.setExecutionExceptionHandler((ex, cmd, parsed) -> {
      if (ex instanceof SettingsException) {
        System.err.println("hmm-emu: " + ex.getMessage());
        return 2;
      }
      System.err.println("hmm-emu: " + cmd.getCommandName() + " failed: " + ex.getMessage());
      return 1;
    });
    try {
      return cl.execute(args);
    } catch (StackOverflowError e) {
      // A deeply nested input (a HOCON file of thousands of levels) overflows its recursive parser.
      System.err.println("hmm-emu: the input is nested too deeply to parse (stack overflow)");
      return 2;
    }
  }

  @Override
  public void run() {
    throw new CommandLine.ParameterException(spec.commandLine(), "missing command, e.g. demo");
  }
}
