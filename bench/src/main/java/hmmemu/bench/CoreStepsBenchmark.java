package hmmemu.bench;

import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

/**
 * JMH: the pure CPU core on one thread, conversion + CPU-touch restore cycles on one page ({@link CpuLoop#cycle}).
 * The score is cycles per second; {@link Bench} multiplies it by the steps one cycle takes to get
 * coreStepsPerSecond. The core lives for a whole trial, so anything it retains per cycle slows it down as it would
 * in a long run.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
public class CoreStepsBenchmark {
  private CpuLoop loop;

  @Setup(Level.Trial)
  public void setUp() { loop = new CpuLoop(1); }

  @Benchmark
  public long conversionAndRestore() { return loop.cycle(); }
}
