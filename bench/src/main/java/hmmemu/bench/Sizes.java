package hmmemu.bench;

/**
 * How much work each figure does. {@link #FULL} is issue 11's sizes (under 10 minutes on 2 cores), {@link #QUICK}
 * finishes in under a minute at smaller sizes (stated in the output), {@link #SMOKE} only proves the bench starts.
 */
record Sizes(String name, int repetitions, int rawRoundTrips, int sequentialFaults, int pipelinedRaw,
    int pipelinedFaults, int pipelinedWarps, int heapPages, long retainedCycles, int invalidatePages,
    int invalidateChunk, long invalidateBudgetSeconds, int checkerFaultsPerChunk, int checkerChunks,
    int checkerBigPages, long checkerPrefixBudgetSeconds, int jmhWarmups, int jmhIterations, int jmhMillis,
    int jmhForks) {
  static final Sizes FULL = new Sizes("full", 5, 3000, 500, 20_000, 2_000, 64, 1_048_576, 1_000_000, 262_144,
      4096, 240, 2_000, 6, 1_048_576, 120, 3, 5, 2000, 1);
  static final Sizes QUICK = new Sizes("quick", 3, 1000, 150, 5_000, 640, 64, 65_536, 100_000, 4_096,
      4096, 20, 300, 4, 65_536, 10, 1, 3, 1000, 0);
  static final Sizes SMOKE = new Sizes("smoke", 1, 20, 4, 100, 16, 8, 1_024, 2_000, 16,
      16, 20, 5, 2, 2_048, 5, 0, 1, 100, 0);

  /** Pages of the checker's stream (the demo's kind of work) at the small size. */
  int checkerSmallPages() { return CheckerProbe.STREAM_PAGES; }
}
