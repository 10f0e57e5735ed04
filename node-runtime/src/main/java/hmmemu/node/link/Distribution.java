package hmmemu.node.link;

import java.util.SplittableRandom;

/**
 * A one-way delay distribution in model microseconds. Sampling is pure: it draws only from the random source it is
 * given, with a fixed number of draws per sample for every kind but {@link Normal} (rejection), and uses no JDK
 * algorithm that may change between releases (no {@code nextGaussian}), so a seed reproduces the same samples.
 */
public sealed interface Distribution {
  /** One sample, in model microseconds, never negative. */
  double sample(SplittableRandom rng);

  /** The analytical mean of {@link #sample}, in model microseconds. */
  double mean();

  /** Always {@code value}. */
  record Constant(double value) implements Distribution {
    public Constant {
      if (!(value >= 0) || Double.isInfinite(value)) throw new IllegalArgumentException("constant delay must be >= 0, got " + value);
    }

    @Override public double sample(SplittableRandom rng) { return value; }

    @Override public double mean() { return value; }

    @Override public String toString() { return "constant(" + value + "us)"; }
  }

  /** Uniform on [min, max). */
  record Uniform(double min, double max) implements Distribution {
    public Uniform {
      if (!(min >= 0) || !(max >= min) || Double.isInfinite(max)) {
        throw new IllegalArgumentException("uniform needs 0 <= min <= max, got min=" + min + " max=" + max);
      }
    }

    @Override public double sample(SplittableRandom rng) { return min + (max - min) * rng.nextDouble(); }

    @Override public double mean() { return (min + max) / 2; }

    @Override public String toString() { return "uniform(" + min + "us, " + max + "us)"; }
  }

  /**
   * Normal(mean, stddev) truncated at 0: negative draws are rejected and redrawn (not clamped, so there is no
   * point mass at zero). {@code mean >= 0} is required, so at least half of all draws are accepted.
   */
  record Normal(double mu, double stddev) implements Distribution {
    public Normal {
      if (!(mu >= 0) || !(stddev >= 0) || Double.isInfinite(mu) || Double.isInfinite(stddev)) {
        throw new IllegalArgumentException("normal needs mean >= 0 and stddev >= 0, got mean=" + mu + " stddev=" + stddev);
      }
    }

    @Override
    public double sample(SplittableRandom rng) {
      if (stddev == 0) return mu;
      for (;;) {
        double x = mu + stddev * standardNormal(rng);
        if (x >= 0) return x;
      }
    }

    /** Mean of the normal truncated to [0, inf): mu + sigma * phi(a) / (1 - Phi(a)), a = -mu/sigma. */
    @Override
    public double mean() {
      if (stddev == 0) return mu;
      double a = -mu / stddev;
      return mu + stddev * phi(a) / (1 - bigPhi(a));
    }

    @Override public String toString() { return "normal(" + mu + "us, sd " + stddev + "us, >= 0)"; }
  }

  /** Exponential with the given mean. */
  record Exponential(double mu) implements Distribution {
    public Exponential {
      if (!(mu >= 0) || Double.isInfinite(mu)) throw new IllegalArgumentException("exponential mean must be >= 0, got " + mu);
    }

    @Override public double sample(SplittableRandom rng) { return -mu * Math.log1p(-rng.nextDouble()); }

    @Override public double mean() { return mu; }

    @Override public String toString() { return "exponential(mean " + mu + "us)"; }
  }

  /** Pareto(alpha, scale): support [scale, inf), P(X > x) = (scale/x)^alpha. Mean is infinite for alpha <= 1. */
  record Pareto(double alpha, double scale) implements Distribution {
    public Pareto {
      if (!(alpha > 0) || !(scale >= 0) || Double.isInfinite(alpha) || Double.isInfinite(scale)) {
        throw new IllegalArgumentException("pareto needs alpha > 0 and scale >= 0, got alpha=" + alpha + " scale=" + scale);
      }
    }

    @Override
    public double sample(SplittableRandom rng) {
      return scale * Math.pow(1 - rng.nextDouble(), -1 / alpha); // 1 - u in (0, 1]
    }

    @Override public double mean() { return alpha > 1 ? alpha * scale / (alpha - 1) : Double.POSITIVE_INFINITY; }

    @Override public String toString() { return "pareto(alpha " + alpha + ", scale " + scale + "us)"; }
  }

  /** Box-Muller, one of the pair: exactly two uniform draws. */
  static double standardNormal(SplittableRandom rng) {
    double u1 = 1 - rng.nextDouble(); // (0, 1]
    double u2 = rng.nextDouble();
    return Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
  }

  /** Standard normal density. */
  static double phi(double x) { return Math.exp(-x * x / 2) / Math.sqrt(2 * Math.PI); }

  /** Standard normal CDF (Abramowitz-Stegun 7.1.26 erf, absolute error < 1.5e-7). */
  static double bigPhi(double x) {
    double z = Math.abs(x) / Math.sqrt(2);
    double t = 1 / (1 + 0.3275911 * z);
    double erf = 1 - (((((1.061405429 * t - 1.453152027) * t) + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t
        * Math.exp(-z * z);
    return x >= 0 ? 0.5 * (1 + erf) : 0.5 * (1 - erf);
  }
}
