package hmmemu.node.link;

import java.util.ArrayDeque;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.pekko.actor.NoSerializationVerificationNeeded;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.BehaviorInterceptor;
import org.apache.pekko.actor.typed.TypedActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;

/**
 * A node frozen in an embedded cluster, as SIGSTOP freezes a process: while frozen, the wrapped actor processes
 * nothing (every message it receives, protocol, controller or timer, waits in order); {@link #thaw} lets it
 * process them, in arrival order, before anything later. The link's pause holds the node's traffic on the wire
 * ({@code ModeledLink.pause}); this holds its actor. Behaviour wrapper for an {@code AbstractBehavior} that always
 * returns itself (the node shells).
 */
public final class Freeze {
  private enum Thaw implements NoSerializationVerificationNeeded { INSTANCE }

  private final AtomicBoolean frozen = new AtomicBoolean();
  private volatile ActorRef<Object> self;

  /** Wraps {@code inner} so that this Freeze controls it. */
  public Behavior<Object> wrap(Behavior<Object> inner) {
    return Behaviors.setup(ctx -> {
      self = ctx.getSelf();
      return Behaviors.intercept(Interceptor::new, inner);
    });
  }

  /** Freezes the actor: from now on the messages it receives wait. */
  public void freeze() { frozen.set(true); }

  /** Thaws it: it processes what waited, in order, then runs normally. */
  public void thaw() {
    ActorRef<Object> s = self;
    if (s != null) s.tell(Thaw.INSTANCE);
  }

  public boolean frozen() { return frozen.get(); }

  private final class Interceptor extends BehaviorInterceptor<Object, Object> {
    private final ArrayDeque<Object> held = new ArrayDeque<>();

    Interceptor() { super(Object.class); }

    @Override
    public Behavior<Object> aroundReceive(TypedActorContext<Object> ctx, Object msg, ReceiveTarget<Object> target) {
      if (msg == Thaw.INSTANCE) {
        frozen.set(false);
        Behavior<Object> b = Behaviors.same();
        while (!held.isEmpty()) b = target.apply(ctx, held.poll());
        return b;
      }
      if (frozen.get()) {
        held.add(msg);
        return Behaviors.same();
      }
      return target.apply(ctx, msg);
    }
  }
}
