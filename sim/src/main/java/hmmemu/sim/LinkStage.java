package hmmemu.sim;

import hmmemu.node.link.ModeledLink.Fault;
import hmmemu.node.link.ModeledLink.PartitionMode;
import hmmemu.protocol.msg.HmmProtocol;
import java.util.List;
import java.util.Map;

/**
 * The simulator's host-device link: what happens to a protocol message between the sending node's core and the
 * receiving node's core (delay, transmission, loss, duplication, reordering and the data link layer that hides
 * them). An interface so that the pure data link layer the actor shells will share (hmmemu.node.link.DataLink) can
 * be plugged in once it exists; {@link ModeledLinkStage} is the implementation until then.
 *
 * <p>A stage never reads a clock or a global random source: it reads {@link Host#nowNanos} and schedules its
 * arrivals on the simulator's agenda with {@link Host#at}.
 */
public interface LinkStage {

  /** What the simulator offers a link stage. */
  interface Host {
    /** Virtual time, nanoseconds of model time. */
    long nowNanos();

    /** Runs {@code r} at virtual time {@code atNanos} (>= now). */
    void at(long atNanos, Runnable r);

    /**
     * As {@link #at(long, Runnable)} for the arrival of the head of one FIFO lane: {@code lane} keys the lane (the
     * events of one key are one {@link Scheduler} source, never reordered), {@code what} describes it.
     */
    default void at(long atNanos, Runnable r, long lane, Scheduler.LinkEvent what) { at(atNanos, r); }

    /** Hands a message to node {@code to}'s core (it arrived and passed the data link layer). */
    void arrive(int from, int to, HmmProtocol.Msg msg, long[] vc);
  }

  /** Node {@code from} sends {@code msg} (stamped with its vector clock {@code vc}) to node {@code to}. */
  void send(int from, int to, HmmProtocol.Msg msg, long[] vc);

  /** Forgets the state of every direction to and from {@code node} (it crashed or restarts). */
  void nodeDown(int node);

  /** Messages scheduled and not yet arrived or given up. */
  long inFlight();

  /** Per-direction counters, for the report. */
  List<String> stats();

  /** Messages the raw link lost for good (data link layer off), in order. */
  List<String> lost();

  // ------------------------------------------------------------------------------------------------ run-time faults
  // The link actions of a fault schedule (hmmemu.node.link.FaultSchedule), in virtual time. A stage that does not
  // model them refuses them (the defaults), so a schedule never silently does nothing.

  /** Cuts {@code node}'s directions ({@code BOTH} = two-way); replaces a previous partition of the node. */
  default void partition(int node, PartitionMode mode) {
    throw new UnsupportedOperationException(getClass().getSimpleName() + " does not model partitions");
  }

  /** Ends {@code node}'s partition. */
  default void heal(int node) {
    throw new UnsupportedOperationException(getClass().getSimpleName() + " does not model partitions");
  }

  /** The partitions now in force. */
  default Map<Integer, PartitionMode> partitions() { return Map.of(); }

  /**
   * Adds {@code micros} (plus uniform jitter in [-jitterMicros, +jitterMicros], the message's own draw) to every
   * message sent on {@code from -> to} until virtual time {@code untilNanos}; overlapping additions sum. Returns an
   * id for {@link #removeDelay}.
   */
  default long addDelay(int from, int to, double micros, double jitterMicros, long untilNanos) {
    throw new UnsupportedOperationException(getClass().getSimpleName() + " does not model added delays");
  }

  /** Removes a delay added by {@link #addDelay}. */
  default void removeDelay(long id) {}

  /** Overrides the probability of {@code fault} on {@code from -> to}; {@code null} returns to the spec's value. */
  default void setProbability(Fault fault, int from, int to, Double p) {
    throw new UnsupportedOperationException(getClass().getSimpleName() + " does not model probability overrides");
  }

  /** Removes every run-time fault (added delays, overrides, partitions). */
  default void clearFaults() {}
}
