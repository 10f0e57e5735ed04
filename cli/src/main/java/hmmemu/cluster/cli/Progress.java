package hmmemu.cluster.cli;

import java.io.PrintStream;
import java.util.Locale;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Progress of a long run on stderr: on a terminal ({@code System.console() != null}) a bar redrawn in place with
 * done of total, rate and ETA; otherwise one line every few seconds; nothing with {@code --quiet}. Thread-safe
 * {@link #add}; {@link #close} ends the line.
 */
final class Progress implements AutoCloseable {
  private static final long TERMINAL_MILLIS = 200;
  private static final long LINE_MILLIS = 5000;

  private final String what;
  private final long total;
  private final PrintStream err;
  private final boolean terminal;
  private final AtomicLong done = new AtomicLong();
  private final long startNanos = System.nanoTime();
  private final ScheduledExecutorService ticker;
  private volatile String stage = "";
  private boolean closed;

  /** Starts showing progress of {@code total} {@code what} (e.g. "operations"); {@code quiet}: shows nothing. */
  Progress(String what, long total, boolean quiet) {
    this(what, total, quiet, System.err, System.console() != null);
  }

  Progress(String what, long total, boolean quiet, PrintStream err, boolean terminal) {
    this.what = what;
    this.total = Math.max(1, total);
    this.err = err;
    this.terminal = terminal;
    if (quiet) {
      ticker = null;
      return;
    }
    ticker = Executors.newSingleThreadScheduledExecutor(r -> {
      Thread t = new Thread(r, "hmm-emu-progress");
      t.setDaemon(true);
      return t;
    });
    long period = terminal ? TERMINAL_MILLIS : LINE_MILLIS;
    ticker.scheduleAtFixedRate(this::show, period, period, TimeUnit.MILLISECONDS);
  }

  void add(long n) { done.addAndGet(n); }

  void one() { done.incrementAndGet(); }

  /** What is running now (an arm, a row), shown after the figures. */
  void stage(String s) { stage = s == null ? "" : s; }

  private volatile java.util.function.LongSupplier events;

  /**
   * Shows {@code events} (e.g. hmmemu.cluster.demo.SimRuns#events: the trace events simulated so far, the runs going
   * included) after the stage: a long simulator run moves between two runs done.
   */
  Progress events(java.util.function.LongSupplier events) {
    this.events = events;
    return this;
  }

  private volatile java.util.function.LongSupplier doneSource;

  /**
   * Reads done from {@code source} instead of {@link #add} (e.g. hmmemu.cluster.scenario.Explorer#schedulesTried: the
   * schedules an exploration finished so far, read by the ticker thread: display only).
   */
  Progress done(java.util.function.LongSupplier source) {
    this.doneSource = source;
    return this;
  }

  long done() {
    java.util.function.LongSupplier src = doneSource;
    return src != null ? src.getAsLong() : done.get();
  }

  /** How far back the rate looks: the recent rate, so a slow start (JVMs launching, a cluster forming) fades. */
  static final long RATE_WINDOW_NANOS = 20_000_000_000L;
  /** (nanoTime, done) at each line shown, the last {@link #RATE_WINDOW_NANOS}. */
  private final java.util.ArrayDeque<long[]> samples = new java.util.ArrayDeque<>();

  /** The progress text: done of total, percent, rate per second (over the last 20 s) and ETA. */
  String line() { return line(System.nanoTime()); }

  synchronized String line(long now) {
    long d = Math.min(done(), total);
    while (samples.size() > 1 && now - samples.peekFirst()[0] > RATE_WINDOW_NANOS) samples.pollFirst();
    long[] from = samples.isEmpty() ? new long[] {startNanos, 0} : samples.peekFirst();
    if (samples.isEmpty() || now - samples.peekLast()[0] > 0) samples.addLast(new long[] {now, d});
    double secs = Math.max(1e-3, (now - from[0]) / 1e9);
    double rate = (d - from[1]) / secs;
    String eta = d == 0 || rate <= 0 ? "--:--" : clock((long) ((total - d) / rate));
    String bar = "";
    if (terminal) {
      int w = 24;
      int fill = (int) (w * d / total);
      bar = "[" + "#".repeat(fill) + ".".repeat(w - fill) + "] ";
    }
    // a slow unit (an arm of minutes) is a fraction per second, not "0/s"
    String perSecond = rate == 0 || rate >= 10 ? String.format(Locale.ROOT, "%.0f", rate)
        : String.format(Locale.ROOT, "%.2g", rate);
    return String.format(Locale.ROOT, "%s%d/%d %s (%.0f%%), %s/s, ETA %s%s", bar, d, total, what, 100.0 * d / total,
        perSecond, eta, stage.isEmpty() ? "" : " - " + stage)
        + (events == null ? "" : String.format(Locale.ROOT, "%s%,d trace events", stage.isEmpty() ? " - " : ": ",
            events.getAsLong()));
  }

  static String clock(long seconds) {
    return seconds >= 3600 ? String.format(Locale.ROOT, "%d:%02d:%02d", seconds / 3600, seconds / 60 % 60, seconds % 60)
        : String.format(Locale.ROOT, "%d:%02d", seconds / 60, seconds % 60);
  }

  /**
   * Prints {@code line} on {@code out} (e.g. stdout) without garbling the bar: on a terminal the bar's line is
   * cleared first; the next tick draws it again below.
   */
  synchronized void say(PrintStream out, String line) {
    if (ticker != null && terminal) {
      err.print("\r\u001b[K");
      err.flush();
    }
    out.println(line);
    out.flush();
  }

  private synchronized void show() {
    if (closed) return;
    if (terminal) err.print("\r" + line() + "\u001b[K");
    else err.println("progress: " + line());
    err.flush();
  }

  @Override
  public synchronized void close() {
    if (ticker == null || closed) return;
    closed = true;
    ticker.shutdownNow();
    if (terminal) {
      err.print("\r" + line() + "\u001b[K\n");
      err.flush();
    }
  }
}
