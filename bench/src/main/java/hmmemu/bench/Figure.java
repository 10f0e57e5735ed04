package hmmemu.bench;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * One bench figure: the median of the repetitions with their min and max; NaN (JSON null) when it could not be
 * measured (e.g. a bounded wait ran out), with a note that says why and at what size it was measured.
 */
record Figure(String key, String unit, double median, double min, double max, int repetitions, String note) {
  static Figure of(String key, String unit, List<Double> samples, String note) {
    if (samples.isEmpty()) return missing(key, unit, note);
    List<Double> s = new ArrayList<>(samples);
    Collections.sort(s);
    int n = s.size();
    double median = n % 2 == 1 ? s.get(n / 2) : (s.get(n / 2 - 1) + s.get(n / 2)) / 2;
    return new Figure(key, unit, median, s.get(0), s.get(n - 1), n, note);
  }

  static Figure missing(String key, String unit, String note) {
    return new Figure(key, unit, Double.NaN, Double.NaN, Double.NaN, 0, note);
  }

  boolean measured() { return !Double.isNaN(median); }

  Figure withNote(String n) { return new Figure(key, unit, median, min, max, repetitions, n); }
}
