package hmmemu.node.link;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Extension;
import org.apache.pekko.actor.typed.ExtensionId;

/**
 * Fault schedules injected at run time through this system's management endpoint ({@code POST /hmm-emu/faults},
 * {@link FaultRoutes}), told to whoever listens in this JVM: {@code hmm-emu cluster} draws them in its run record
 * as fault windows. One per ActorSystem.
 */
public final class InjectedFaults implements Extension {
  private final List<Consumer<FaultSchedule>> listeners = new CopyOnWriteArrayList<>();

  /** Hears every schedule the endpoint accepted and sent to the nodes, as it is accepted; close to stop. */
  public AutoCloseable listen(Consumer<FaultSchedule> listener) {
    listeners.add(listener);
    return () -> listeners.remove(listener);
  }

  /** The endpoint accepted {@code schedule} (its {@code at} times count from now). */
  void injected(FaultSchedule schedule) {
    for (Consumer<FaultSchedule> l : listeners) {
      try {
        l.accept(schedule);
      } catch (RuntimeException ignored) {
        // a listener's failure does not refuse the injection
      }
    }
  }

  private static final class Id extends ExtensionId<InjectedFaults> {
    @Override
    public InjectedFaults createExtension(ActorSystem<?> system) { return new InjectedFaults(); }
  }

  private static final Id ID = new Id();

  /** The injected faults of {@code system}. */
  public static InjectedFaults of(ActorSystem<?> system) { return ID.apply(system); }
}
