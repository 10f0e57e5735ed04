package hmmemu.node;

import hmmemu.protocol.msg.Ids;

import hmmemu.protocol.wire.pb.Envelope;
import java.util.HashMap;
import java.util.Map;
import org.apache.pekko.actor.typed.ActorRef;

/**
 * Remembers who asked what: requester ActorRefs by reqId (for Outbound.reply) and driver ActorRefs by deviceId
 * (learned from the reply-to of every driver message). Shell bookkeeping only.
 */
public final class Routing {
  private final Map<Long, ActorRef<Envelope>> requesters = new HashMap<>();
  private final Map<Integer, ActorRef<Envelope>> devices = new HashMap<>();

  /** Node index of the GPU node hosting a device (deviceId = node * 16 + local index). */
  public static int nodeOfDevice(int deviceId) { return Ids.nodeOfDevice(deviceId); }

  public void rememberRequester(long reqId, ActorRef<Envelope> ref) { requesters.put(reqId, ref); }

  public ActorRef<Envelope> takeRequester(long reqId) { return requesters.remove(reqId); }

  public void rememberDevice(int deviceId, ActorRef<Envelope> ref) { devices.put(deviceId, ref); }

  public ActorRef<Envelope> device(int deviceId) { return devices.get(deviceId); }

  public Map<Integer, ActorRef<Envelope>> devices() { return devices; }

  public void clear() { requesters.clear(); devices.clear(); }
}
