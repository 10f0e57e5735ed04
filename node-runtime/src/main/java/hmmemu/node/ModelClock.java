package hmmemu.node;

/**
 * Model time in microseconds. Cores never read a clock: shells pass {@code nowMicros()} into every step.
 * Real runs use {@link #scaledWall}; simulations and tests may pass their own.
 */
@FunctionalInterface
public interface ModelClock {
  long nowMicros();

  /**
   * Model time from the monotonic wall clock: {@code timeScale} real microseconds per model microsecond
   * (1.0 = real time; 10.0 = the model runs ten times slower than real, so transport costs look 10x smaller).
   */
  static ModelClock scaledWall(double timeScale) {
    if (!(timeScale > 0)) throw new IllegalArgumentException("time-scale must be > 0, got " + timeScale);
    final long epoch = System.nanoTime();
    return () -> (long) ((System.nanoTime() - epoch) / 1000.0 / timeScale);
  }
}
