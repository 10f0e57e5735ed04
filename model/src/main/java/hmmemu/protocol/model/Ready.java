package hmmemu.protocol.model;

import hmmemu.protocol.trace.Trace;
import java.util.ArrayList;
import java.util.List;

/**
 * What one step of a pure core produced (in the manner of etcd raft's Ready): messages to send and
 * trace events, both in the order they happened. The shell sends the messages and forwards the events
 * to the invariant checker; it adds nothing of its own.
 */
public final class Ready {
  public final List<Outbound> out = new ArrayList<>();
  public final List<Trace.Event> events = new ArrayList<>();

  public void send(Outbound o) { out.add(o); }

  public void emit(Trace.Event e) { events.add(e); }

  public boolean isEmpty() { return out.isEmpty() && events.isEmpty(); }
}
