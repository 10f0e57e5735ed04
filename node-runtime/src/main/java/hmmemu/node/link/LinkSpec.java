package hmmemu.node.link;

import java.util.Objects;
import java.util.SplittableRandom;

/**
 * The model of one link direction (e.g. cpu0->gpu1). All times are model microseconds.
 *
 * <p>One-way delay of a message = base sample of {@link #delay} + jitter (uniform in [-jitter, +jitter]) + heavy
 * tail (with probability {@code tail.p} a {@link Distribution.Pareto} sample), clamped at 0; plus the transmission
 * time {@code serializedSize / bandwidth} (the direction is busy while it transmits, so back-to-back messages
 * queue); plus any delay added at run time. A reordered message is additionally delayed by a {@link #reorderExtra}
 * sample and leaves the FIFO order, so later messages overtake it.
 *
 * @param delay base one-way delay distribution
 * @param jitterMicros half-width of the uniform jitter added to each delay
 * @param tail heavy tail
 * @param bandwidthBytesPerMicro bytes per model microsecond; 0 or infinity = no transmission time
 * @param loss probability that a message is dropped
 * @param duplication probability that a message is delivered twice (back to back)
 * @param reordering probability that a message is held back by an extra {@link #reorderExtra} sample
 * @param reorderExtra extra delay of a reordered message
 */
public record LinkSpec(Distribution delay, double jitterMicros, Tail tail, double bandwidthBytesPerMicro, double loss,
    double duplication, double reordering, Distribution reorderExtra) {

  /** With probability {@code p}, add a Pareto(alpha, scale) sample. */
  public record Tail(double p, double alpha, double scaleMicros) {
    public static final Tail NONE = new Tail(0, 1.5, 50);

    public Tail {
      checkProbability("tail.p", p);
      new Distribution.Pareto(alpha, scaleMicros); // validates
    }

    public Distribution.Pareto pareto() { return new Distribution.Pareto(alpha, scaleMicros); }

    /** Mean contribution of the tail, p * alpha * scale / (alpha - 1) (infinite when alpha <= 1 and p > 0). */
    public double mean() { return p == 0 ? 0 : p * pareto().mean(); }
  }

  /** What the random source decided for one message; see {@link #draw}. */
  public record Draw(boolean lost, boolean duplicated, boolean reordered, double delayMicros, double tailMicros,
      double reorderExtraMicros, double addedJitterUnit) {}

  public LinkSpec {
    Objects.requireNonNull(delay, "delay");
    Objects.requireNonNull(tail, "tail");
    Objects.requireNonNull(reorderExtra, "reorderExtra");
    if (!(jitterMicros >= 0) || Double.isInfinite(jitterMicros)) throw new IllegalArgumentException("jitter must be >= 0, got " + jitterMicros);
    if (!(bandwidthBytesPerMicro >= 0)) {
      throw new IllegalArgumentException("bandwidth-bytes-per-us must be >= 0 (0 = unlimited), got " + bandwidthBytesPerMicro);
    }
    checkProbability("loss", loss);
    checkProbability("duplication", duplication);
    checkProbability("reordering", reordering);
  }

  /** Default reorder extra delay: uniform 10..50 model us. */
  public static final Distribution DEFAULT_REORDER_EXTRA = new Distribution.Uniform(10, 50);

  /** No delay, no transmission time, no faults. */
  public static LinkSpec ideal() {
    return new LinkSpec(new Distribution.Constant(0), 0, Tail.NONE, 0, 0, 0, 0, DEFAULT_REORDER_EXTRA);
  }

  /** Constant one-way delay, nothing else. */
  public static LinkSpec constant(double micros) { return ideal().withDelay(new Distribution.Constant(micros)); }

  public LinkSpec withDelay(Distribution d) {
    return new LinkSpec(d, jitterMicros, tail, bandwidthBytesPerMicro, loss, duplication, reordering, reorderExtra);
  }

  public LinkSpec withJitter(double micros) {
    return new LinkSpec(delay, micros, tail, bandwidthBytesPerMicro, loss, duplication, reordering, reorderExtra);
  }

  public LinkSpec withTail(Tail t) {
    return new LinkSpec(delay, jitterMicros, t, bandwidthBytesPerMicro, loss, duplication, reordering, reorderExtra);
  }

  public LinkSpec withBandwidth(double bytesPerMicro) {
    return new LinkSpec(delay, jitterMicros, tail, bytesPerMicro, loss, duplication, reordering, reorderExtra);
  }

  public LinkSpec withLoss(double p) {
    return new LinkSpec(delay, jitterMicros, tail, bandwidthBytesPerMicro, p, duplication, reordering, reorderExtra);
  }

  public LinkSpec withDuplication(double p) {
    return new LinkSpec(delay, jitterMicros, tail, bandwidthBytesPerMicro, loss, p, reordering, reorderExtra);
  }

  public LinkSpec withReordering(double p) {
    return new LinkSpec(delay, jitterMicros, tail, bandwidthBytesPerMicro, loss, duplication, p, reorderExtra);
  }

  public LinkSpec withReorderExtra(Distribution d) {
    return new LinkSpec(delay, jitterMicros, tail, bandwidthBytesPerMicro, loss, duplication, reordering, d);
  }

  /** Transmission time of {@code bytes} in model microseconds (0 when the bandwidth is unlimited). */
  public double transmitMicros(int bytes) {
    if (bandwidthBytesPerMicro == 0 || Double.isInfinite(bandwidthBytesPerMicro)) return 0;
    return bytes / bandwidthBytesPerMicro;
  }

  /** Mean one-way propagation delay (base + tail; jitter is symmetric and ignored), model microseconds. */
  public double meanDelayMicros() { return delay.mean() + tail.mean(); }

  /** {@link #draw(SplittableRandom, double, double, double)} with this spec's own probabilities. */
  public Draw draw(SplittableRandom rng) { return draw(rng, loss, duplication, reordering); }

  /**
   * Draws everything about one message from {@code rng} (a per-message stream, see {@link LinkRandom}), in a fixed
   * order: loss, duplication, reordering uniforms, the base delay, the jitter uniform, the tail uniform and Pareto
   * sample, the reorder-extra sample and the added-jitter uniform. Every value is drawn whatever the probabilities,
   * so raising the loss probability drops a superset of the messages dropped before.
   */
  public Draw draw(SplittableRandom rng, double lossP, double duplicationP, double reorderingP) {
    double uLoss = rng.nextDouble();
    double uDup = rng.nextDouble();
    double uReorder = rng.nextDouble();
    double base = delay.sample(rng);
    double uJitter = rng.nextDouble() * 2 - 1;
    double uTail = rng.nextDouble();
    double paretoSample = tail.pareto().sample(rng);
    double extra = reorderExtra.sample(rng);
    double addedJitterUnit = rng.nextDouble() * 2 - 1;
    double t = uTail < tail.p() ? paretoSample : 0;
    double d = Math.max(0, base + uJitter * jitterMicros + t);
    boolean reordered = uReorder < reorderingP;
    return new Draw(uLoss < lossP, uDup < duplicationP, reordered, d, t, reordered ? extra : 0, addedJitterUnit);
  }

  static void checkProbability(String what, double p) {
    if (!(p >= 0 && p <= 1)) throw new IllegalArgumentException(what + " must be a probability in [0, 1], got " + p);
  }
}
