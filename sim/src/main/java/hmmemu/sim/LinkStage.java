package hmmemu.sim;

import hmmemu.protocol.msg.HmmProtocol;
import java.util.List;

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
}
