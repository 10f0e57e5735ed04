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
      1024, 240, 2_000, 6, 1_048_576, 120, 3, 5, 2000, 1);
  static final Sizes QUICK = new Sizes("quick", 3, 1000, 60, 5_000, 128, 64, 16_384, 30_000, 1_024,
      1024, 20, 200, 4, 65_536, 5, 1, 3, 1000, 0);
  static final Sizes SMOKE = new Sizes("smoke", 1, 20, 4, 100, 16, 8, 1_024, 2_000, 16,
      16, 20, 5, 2, 2_048, 5, 0, 1, 100, 0);

  /** True when this size is not the one the target is stated for (the table and JSON say so). */
  boolean smallerThanTarget(String key) {
    return switch (key) {
      case "heapBytesPerPage" -> heapPages < FULL.heapPages;
      case "retainedBytesPerCycle" -> retainedCycles < FULL.retainedCycles;
      case "invalidate1GiBMillis" -> invalidatePages < FULL.invalidatePages;
      case "checkerEventsPerSecond" -> checkerBigPages < FULL.checkerBigPages;
      default -> false;
    };
  }

  /** Pages of the checker's stream (the demo's kind of work) at the small size. */
  int checkerSmallPages() { return CheckerProbe.STREAM_PAGES; }
}
