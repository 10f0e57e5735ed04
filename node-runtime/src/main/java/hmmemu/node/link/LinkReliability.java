package hmmemu.node.link;

/**
 * Settings of the modelled data link layer (PCIe Base Spec, "Data Link Layer": sequence numbers, Ack/Nak DLLPs,
 * replay buffer and REPLAY_TIMER) that {@link NodeShell} runs on every host-device direction.
 *
 * @param on sequence, ACK, replay and resequence ({@code hmm-emu.link.reliable}); off = raw link, where loss,
 *     duplication and reordering reach the protocol and must be detected by it (docs/FAULTS.md)
 * @param replayTimeoutMicros model time without ACK progress after which the sender replays its unacknowledged
 *     messages ({@code hmm-emu.link.replay-timeout}); doubled after each replay without progress, up to
 *     {@link #MAX_BACKOFF} times, reset on progress
 * @param timeScale real microseconds per model microsecond (the link's time scale)
 * @param replayBuffer messages a direction may have sent and not yet had acknowledged ({@code
 *     hmm-emu.link.replay-buffer}); when it is full the sender stalls: later messages wait, unsent and counted
 *     ({@link Event#REPLAY_BUFFER_FULL}), until an ACK frees room (a PCIe transmitter sends no new TLP while its
 *     replay buffer is full)
 * @param receiveWindow how far ahead of the next expected sequence number the receiver keeps a message
 *     ({@code hmm-emu.link.receive-window}); a message beyond it is dropped and counted
 *     ({@link Event#BEYOND_WINDOW_DROPPED}), and the sender's replay repairs it
 * @param lanes one lane per sending kernel thread ({@code hmm-emu.link.lanes = per-thread}, {@link Lanes}):
 *     sequence numbers, ACKs and in-order delivery per (direction, lane); off = one lane per direction
 */
public record LinkReliability(boolean on, double replayTimeoutMicros, double timeScale, int replayBuffer,
    int receiveWindow, boolean lanes) {
  /** Replay backoff cap: the timer doubles at most 6 times (x64) while nothing is acknowledged. */
  public static final int MAX_BACKOFF = 64;

  /** Default: on, 5 ms model replay timeout, time scale 1 (docs/FAULTS.md explains the value). */
  public static final LinkReliability DEFAULT = new LinkReliability(true, 5000, 1.0);

  /** Raw link: no sequence numbers. */
  public static final LinkReliability OFF = new LinkReliability(false, 5000, 1.0);

  /** Default bounds of the replay buffer and the receive window (messages per direction). */
  public static final int DEFAULT_REPLAY_BUFFER = 4096;
  public static final int DEFAULT_RECEIVE_WINDOW = 4096;

  /** The settings with the default bounds. */
  public LinkReliability(boolean on, double replayTimeoutMicros, double timeScale) {
    this(on, replayTimeoutMicros, timeScale, DEFAULT_REPLAY_BUFFER, DEFAULT_RECEIVE_WINDOW);
  }

  /** One lane per direction (lanes off). */
  public LinkReliability(boolean on, double replayTimeoutMicros, double timeScale, int replayBuffer, int receiveWindow) {
    this(on, replayTimeoutMicros, timeScale, replayBuffer, receiveWindow, false);
  }

  public LinkReliability {
    if (replayBuffer < 1) throw new IllegalArgumentException("replay-buffer must be >= 1, got " + replayBuffer);
    if (receiveWindow < 1) throw new IllegalArgumentException("receive-window must be >= 1, got " + receiveWindow);
    if (!(replayTimeoutMicros > 0)) throw new IllegalArgumentException("replay-timeout must be > 0, got " + replayTimeoutMicros + "us");
    if (!(timeScale > 0)) throw new IllegalArgumentException("time-scale must be > 0, got " + timeScale);
  }

  /**
   * Model time a receiver may wait before sending a pure ACK for what it delivered (when no reverse traffic
   * carried it): a third of the replay timeout, as the PCIe spec sizes the AckNak_LATENCY_TIMER limit to about a
   * third of the REPLAY_TIMER limit, so an ACK normally arrives before the sender's timer expires.
   */
  public double ackDelayMicros() { return replayTimeoutMicros / 3; }

  /** Real nanoseconds of {@code modelMicros} at this time scale. */
  public long realNanos(double modelMicros) { return Math.max(1, Math.round(modelMicros * timeScale * 1000.0)); }

  /** Data-link-layer events counted per direction in the link's stats. */
  public enum Event {
    /** The sender handed an unacknowledged message to the link again (replay timer expired). */
    REPLAYED,
    /** The receiver dropped a copy whose sequence number it had already delivered or buffered. */
    DUPLICATE_DROPPED,
    /** The receiver held a message that arrived ahead of a missing one and delivered it once the gap filled. */
    RESEQUENCED,
    /** Data link layer off: a copy of an already delivered sequence number reached the protocol (reported). */
    RAW_DUPLICATE,
    /** Data link layer off: a message reached the protocol before an earlier one of its direction (reported). */
    RAW_OUT_OF_ORDER,
    /** The sender's replay buffer was full: a message waited, unsent, for an ACK to free room (back-pressure). */
    REPLAY_BUFFER_FULL,
    /** The receiver dropped a message beyond its receive window (the sender's replay delivers it again). */
    BEYOND_WINDOW_DROPPED,
    /** A message larger than the chunk size was sent as several chunk frames. */
    CHUNKED,
    /** Data link layer off: a chunked message was given up because a chunk of it never came (reported). */
    CHUNKS_LOST,
    /** A frame too large to send even in chunks (or a chunked message that did not join) was dropped (reported). */
    OVERSIZE_DROPPED
  }
}
