package hmmemu.cluster;

import hmmemu.protocol.wire.pb.Envelope;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.pekko.actor.DeadLetter;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.Props;
import org.apache.pekko.actor.typed.eventstream.EventStream;
import org.apache.pekko.actor.typed.javadsl.Behaviors;

/**
 * Makes a dropped protocol message loud: Pekko Artery drops a message whose association's send queue is full
 * ({@code pekko.remote.artery.advanced.outbound-message-queue-size}) or whose recipient is gone, and hands it to
 * deadLetters, which Pekko logs at INFO only (below hmm-emu's WARNING). A dropped hmm-emu envelope is a lost
 * host-device message that nothing replays on the raw link, so every node system logs it as an ERROR naming its
 * type and recipient (the first 10, then every 1000th) and counts it ({@link #dropped}).
 */
public final class DropWatch {
  private DropWatch() {}

  private static final AtomicLong DROPPED = new AtomicLong();

  /** hmm-emu envelopes that went to deadLetters in this JVM since it started. */
  public static long dropped() { return DROPPED.get(); }

  /** Subscribes a watcher to {@code system}'s dead letters; {@code node} names the node in the log line. */
  public static void install(ActorSystem<?> system, String node) {
    system.systemActorOf(behavior(node), "drop-watch", Props.empty());
  }

  private static Behavior<DeadLetter> behavior(String node) {
    return Behaviors.setup(ctx -> {
      ctx.getSystem().eventStream().tell(new EventStream.Subscribe<>(DeadLetter.class, ctx.getSelf()));
      return Behaviors.receiveMessage(d -> {
        if (d.message() instanceof Envelope env) {
          long n = DROPPED.incrementAndGet();
          if (n <= 10 || n % 1000 == 0) {
            ctx.getLog().error("{}: a {} envelope to {} was dropped (dead letter #{} in this JVM: the transport's send"
                + " queue was full, or the recipient is gone)", node, env.getBodyCase(), d.recipient().path(), n);
          }
        }
        return Behaviors.same();
      });
    });
  }
}
