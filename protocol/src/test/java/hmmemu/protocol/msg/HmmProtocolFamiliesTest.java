package hmmemu.protocol.msg;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import hmmemu.protocol.msg.HmmProtocol.*;
import java.lang.reflect.Constructor;
import java.lang.reflect.RecordComponent;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Predicate;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/**
 * The direction and kind families of HmmProtocol partition the messages, and agree with the predicates the node
 * shells and the scenario parser use today (copied below as oracles, as of this commit; when a shell switches to
 * the families, its oracle here is what it used to say).
 */
class HmmProtocolFamiliesTest {

  static final List<Class<?>> DIRECTIONS = List.of(DriverToHost.class, HostToDriver.class, ControllerToCpu.class,
      CpuToController.class, ControllerToGpu.class, GpuToController.class, ControllerToNode.class,
      NodeToController.class);

  static List<Class<?>> messages() { return Arrays.asList(Msg.class.getPermittedSubclasses()); }

  // ------------------------------------------------------------------------------------------------ partition

  @Test
  void everyMessageLandsInExactlyOneDirectionFamily() {
    for (Class<?> c : messages()) {
      List<String> in = DIRECTIONS.stream().filter(f -> f.isAssignableFrom(c)).map(Class::getSimpleName).toList();
      assertEquals(1, in.size(), c.getSimpleName() + " is in direction families " + in);
    }
  }

  @Test
  void directionFamiliesHoldOnlyMessages() {
    Set<Class<?>> all = new java.util.HashSet<>();
    for (Class<?> f : DIRECTIONS) {
      assertTrue(f.isSealed() && f.isInterface(), f.getSimpleName());
      for (Class<?> c : f.getPermittedSubclasses()) {
        assertTrue(Msg.class.isAssignableFrom(c), c + " in " + f.getSimpleName() + " is not a Msg");
        assertTrue(all.add(c), c + " is in two families");
      }
    }
    assertEquals(Set.copyOf(messages()), all);
  }

  /** Every sealed interface nested in HmmProtocol other than Msg is listed here (a new family needs a test). */
  @Test
  void noOtherFamilies() {
    Set<String> nested = Arrays.stream(HmmProtocol.class.getDeclaredClasses())
        .filter(c -> c.isInterface() && c != Msg.class).map(Class::getSimpleName)
        .collect(Collectors.toCollection(TreeSet::new));
    Set<String> known = new TreeSet<>(names(DIRECTIONS));
    known.addAll(Set.of("HasReqId", "Request", "Reply"));
    assertEquals(known, nested);
  }

  @Test
  void requestsAndRepliesAreExactlyTheMessagesWithAReqId() {
    for (Class<?> c : messages()) {
      boolean hasReqId = Arrays.stream(c.getRecordComponents()).anyMatch(rc -> rc.getName().equals("reqId"));
      assertEquals(hasReqId, HasReqId.class.isAssignableFrom(c), c.getSimpleName());
      assertTrue(!(Request.class.isAssignableFrom(c) && Reply.class.isAssignableFrom(c)), c.getSimpleName());
    }
    // the one message with a reqId that is neither: it names the make_device_exclusive call it follows
    assertEquals(Set.of("FolioUnlockPut"), names(messages().stream().filter(c -> HasReqId.class.isAssignableFrom(c)
        && !Request.class.isAssignableFrom(c) && !Reply.class.isAssignableFrom(c)).toList()));
  }

  @Test
  void requestsFlowOutOfTheirSenderAndRepliesBack() {
    // a request's family and its reply's family are each other's mirror
    Set<List<String>> pairs = Set.of(List.of("DriverToHost", "HostToDriver"),
        List.of("ControllerToCpu", "CpuToController"), List.of("ControllerToGpu", "GpuToController"),
        List.of("ControllerToNode", "NodeToController"));
    for (Class<?> c : messages()) {
      String fam = familyOf(c);
      if (Request.class.isAssignableFrom(c)) {
        assertTrue(pairs.stream().anyMatch(p -> p.get(0).equals(fam)), c.getSimpleName() + " request in " + fam);
      }
      if (Reply.class.isAssignableFrom(c)) {
        assertTrue(pairs.stream().anyMatch(p -> p.get(1).equals(fam)), c.getSimpleName() + " reply in " + fam);
      }
    }
  }

  // ------------------------------------------------------------------------------------------------ oracles

  /** cluster-config ScenarioParser.FROM_DEVICE: messages a driver sends to the CPU node. */
  static final Set<String> SCENARIO_FROM_DEVICE = Set.of("NotifierInsert", "NotifierRemove", "MakeDeviceExclusive",
      "MakeDeviceExclusiveRange", "FolioUnlockPut", "HmmRangeFault", "DeviceMemoryAccess", "InvalidateAck", "MigrateVmaSetup", "MigrateVmaPages",
      "MigrateVmaFinalize", "MigrateToRamDone", "UnlockFence");
  /** cluster-config ScenarioParser.FROM_CPU: messages the CPU node sends to a driver. */
  static final Set<String> SCENARIO_FROM_CPU = Set.of("NotifierInserted", "NotifierRemoved", "InvalidateStart",
      "InvalidateEnd", "MakeDeviceExclusiveReply", "MakeDeviceExclusiveRangeReply", "HmmRangeFaultReply", "DeviceMemoryAccessReply", "MigrateVmaReply",
      "MigrateToRam", "UnlockFenceReply");

  /** Msgs.isFromDriver before the families (also what CpuMm.fromGoneNode and CpuNodeActor.onInbound use). */
  static boolean oldIsFromDriver(Msg m) {
    return m instanceof NotifierInsert || m instanceof NotifierRemove || m instanceof MakeDeviceExclusive
        || m instanceof MakeDeviceExclusiveRange || m instanceof FolioUnlockPut || m instanceof HmmRangeFault || m instanceof DeviceMemoryAccess
        || m instanceof InvalidateAck || m instanceof MigrateVmaSetup || m instanceof MigrateVmaPages
        || m instanceof MigrateVmaFinalize || m instanceof MigrateToRamDone || m instanceof UnlockFence;
  }

  /** cpu-node CpuNodeActor.isToDriver: replies to a requester that answer a driver (go through the link stage). */
  static boolean cpuNodeActorIsToDriver(Msg m) {
    return m instanceof MakeDeviceExclusiveReply || m instanceof MakeDeviceExclusiveRangeReply
        || m instanceof HmmRangeFaultReply
        || m instanceof DeviceMemoryAccessReply || m instanceof NotifierInserted || m instanceof MigrateVmaReply
        || m instanceof UnlockFenceReply;
  }

  /** gpu-node GpuNodeActor.isLocalRequest: requests from a controller or workload. */
  static boolean gpuNodeActorIsLocalRequest(Msg m) {
    return m instanceof DeviceAccess || m instanceof WarpRun || m instanceof BindMm || m instanceof DmirrorCmd
        || m instanceof InspectDevice || m instanceof ResetNode;
  }

  @Test
  void driverToHostIsWhatTheShellsAndTheParserCallFromDriver() {
    for (Msg m : instances()) {
      String n = m.getClass().getSimpleName();
      assertEquals(oldIsFromDriver(m), m instanceof DriverToHost, n);
      assertEquals(oldIsFromDriver(m), Msgs.isFromDriver(m), n);
      assertEquals(SCENARIO_FROM_DEVICE.contains(n), m instanceof DriverToHost, n);
    }
  }

  @Test
  void hostToDriverIsWhatTheParserCallsFromCpu() {
    for (Msg m : instances()) {
      String n = m.getClass().getSimpleName();
      assertEquals(SCENARIO_FROM_CPU.contains(n), m instanceof HostToDriver, n);
      assertEquals(m instanceof HostToDriver, Msgs.isToDriver(m), n);
    }
  }

  /**
   * CpuNodeActor asks isToDriver only of what the core sends to a requester (Outbound.reply). The three
   * HostToDriver messages it leaves out are sent by device id (Outbound.toDevice) and never reach that question.
   */
  @Test
  void cpuNodeActorIsToDriverIsHostToDriverLessWhatGoesByDeviceId() {
    Set<String> byDeviceIdOnly = Set.of("NotifierRemoved", "InvalidateStart", "InvalidateEnd", "MigrateToRam");
    for (Msg m : instances()) {
      String n = m.getClass().getSimpleName();
      assertEquals(cpuNodeActorIsToDriver(m), m instanceof HostToDriver && !byDeviceIdOnly.contains(n), n);
    }
  }

  @Test
  void gpuNodeActorLocalRequestsAreTheControllersRequestsToAGpuNode() {
    for (Msg m : instances()) {
      boolean fromController = m instanceof ControllerToGpu || m instanceof ControllerToNode;
      assertEquals(gpuNodeActorIsLocalRequest(m), fromController, m.getClass().getSimpleName());
      if (fromController) assertTrue(m instanceof Request, m.getClass().getSimpleName());
    }
  }

  /** Msgs.reqIdOf before the families. */
  static long oldReqIdOf(Msg m) {
    if (m instanceof MakeDeviceExclusive x) return x.reqId();
    if (m instanceof MakeDeviceExclusiveReply x) return x.reqId();
    if (m instanceof MakeDeviceExclusiveRange x) return x.reqId();
    if (m instanceof MakeDeviceExclusiveRangeReply x) return x.reqId();
    if (m instanceof FolioUnlockPut x) return x.reqId();
    if (m instanceof HmmRangeFault x) return x.reqId();
    if (m instanceof HmmRangeFaultReply x) return x.reqId();
    if (m instanceof DeviceMemoryAccess x) return x.reqId();
    if (m instanceof DeviceMemoryAccessReply x) return x.reqId();
    if (m instanceof CpuAccess x) return x.reqId();
    if (m instanceof CpuAccessDone x) return x.reqId();
    if (m instanceof CpuThreadRun x) return x.reqId();
    if (m instanceof CpuThreadDone x) return x.reqId();
    if (m instanceof Syscall x) return x.reqId();
    if (m instanceof SyscallDone x) return x.reqId();
    if (m instanceof InspectPage x) return x.reqId();
    if (m instanceof PageInfo x) return x.reqId();
    if (m instanceof InspectNotifier x) return x.reqId();
    if (m instanceof NotifierInfo x) return x.reqId();
    if (m instanceof InspectFolio x) return x.reqId();
    if (m instanceof KthreadFolioLock x) return x.reqId();
    if (m instanceof KthreadFolioUnlock x) return x.reqId();
    if (m instanceof KthreadFolioDone x) return x.reqId();
    if (m instanceof DeviceAccess x) return x.reqId();
    if (m instanceof DeviceAccessDone x) return x.reqId();
    if (m instanceof WarpRun x) return x.reqId();
    if (m instanceof WarpDone x) return x.reqId();
    if (m instanceof BindMm x) return x.reqId();
    if (m instanceof MmBound x) return x.reqId();
    if (m instanceof DmirrorCmd x) return x.reqId();
    if (m instanceof DmirrorReply x) return x.reqId();
    if (m instanceof InspectDevice x) return x.reqId();
    if (m instanceof DeviceInfo x) return x.reqId();
    if (m instanceof ResetNode x) return x.reqId();
    if (m instanceof ResetDone x) return x.reqId();
    if (m instanceof MigrateVmaSetup x) return x.reqId();
    if (m instanceof MigrateVmaPages x) return x.reqId();
    if (m instanceof MigrateVmaFinalize x) return x.reqId();
    if (m instanceof MigrateVmaReply x) return x.reqId();
    if (m instanceof UnlockFence x) return x.reqId();
    if (m instanceof UnlockFenceReply x) return x.reqId();
    return -1;
  }

  /** Msgs.deviceIdOf before Ids. */
  static int oldDeviceIdOf(Msg m) {
    if (m instanceof NotifierInsert x) return x.deviceId();
    if (m instanceof NotifierRemove x) return (int) (x.subId() >>> 32);
    if (m instanceof MakeDeviceExclusive x) return x.deviceId();
    if (m instanceof MakeDeviceExclusiveRange x) return x.deviceId();
    if (m instanceof FolioUnlockPut x) return x.deviceId();
    if (m instanceof HmmRangeFault x) return x.deviceId();
    if (m instanceof DeviceMemoryAccess x) return x.deviceId();
    if (m instanceof InvalidateAck x) return (int) (x.subId() >>> 32);
    if (m instanceof NotifierInserted x) return (int) (x.subId() >>> 32);
    if (m instanceof NotifierRemoved x) return (int) (x.subId() >>> 32);
    if (m instanceof InvalidateStart x) return (int) (x.subId() >>> 32);
    if (m instanceof InvalidateEnd x) return (int) (x.subId() >>> 32);
    if (m instanceof MigrateVmaSetup x) return x.deviceId();
    if (m instanceof MigrateVmaPages x) return x.deviceId();
    if (m instanceof MigrateVmaFinalize x) return x.deviceId();
    if (m instanceof MigrateVmaReply x) return (int) (x.reqId() >>> 40);
    if (m instanceof MigrateToRam x) return x.deviceId();
    if (m instanceof MigrateToRamDone x) return x.deviceId();
    if (m instanceof UnlockFence x) return x.deviceId();
    return -1;
  }

  @Test
  void msgsRoutingFactsAreUnchanged() {
    for (Msg m : instances()) {
      String n = m.getClass().getSimpleName();
      assertEquals(oldReqIdOf(m), Msgs.reqIdOf(m), n);
      assertEquals(oldReqIdOf(m) >= 0, m instanceof HasReqId, n);
      assertEquals(oldDeviceIdOf(m), Msgs.deviceIdOf(m), n);
    }
  }

  /**
   * Msgs answers the family questions by class (a cached table, not instanceof: Msgs.families), with the answers of
   * instanceof for every message, asked in several orders so that the classes meet in its cache's slots.
   */
  @Test
  void msgsFamiliesAreTheInterfaces() {
    List<Msg> all = instances();
    for (int round = 0; round < 3; round++) {
      List<Msg> order = new ArrayList<>(all);
      java.util.Collections.shuffle(order, new java.util.Random(round));
      for (Msg m : order) {
        String n = m.getClass().getSimpleName();
        assertEquals(m instanceof DriverToHost, Msgs.isFromDriver(m), n);
        assertEquals(m instanceof HostToDriver, Msgs.isToDriver(m), n);
        assertEquals(m instanceof ControllerToCpu || m instanceof ControllerToGpu || m instanceof ControllerToNode,
            Msgs.isControllerRequest(m), n);
        assertEquals(m instanceof HasReqId r ? r.reqId() : -1, Msgs.reqIdOf(m), n);
      }
    }
  }

  // ------------------------------------------------------------------------------------------------ helpers

  static String familyOf(Class<?> c) {
    return DIRECTIONS.stream().filter(f -> f.isAssignableFrom(c)).map(Class::getSimpleName).findFirst().orElseThrow();
  }

  static Set<String> names(List<Class<?>> cs) {
    return cs.stream().map(Class::getSimpleName).collect(Collectors.toCollection(TreeSet::new));
  }

  /** One instance of every Msg record, built by reflection: ids well-formed, every other field non-default. */
  static List<Msg> instances() {
    List<Msg> out = new ArrayList<>();
    for (Class<?> c : messages()) {
      RecordComponent[] rcs = c.getRecordComponents();
      Class<?>[] types = Arrays.stream(rcs).map(RecordComponent::getType).toArray(Class<?>[]::new);
      Object[] args = new Object[rcs.length];
      for (int i = 0; i < rcs.length; i++) args[i] = value(rcs[i], i);
      try {
        Constructor<?> k = c.getDeclaredConstructor(types);
        out.add((Msg) k.newInstance(args));
      } catch (ReflectiveOperationException e) {
        fail("cannot build " + c.getSimpleName() + ": " + e);
      }
    }
    return out;
  }

  private static Object value(RecordComponent rc, int i) {
    Class<?> t = rc.getType();
    String n = rc.getName();
    if (t == long.class) {
      if (n.equals("reqId")) return Ids.reqId(33, 7);
      if (n.toLowerCase().endsWith("subid")) return Ids.subId(34, 3);
      return 100L + i;
    }
    if (t == int.class) return n.equals("deviceId") ? 35 : 10 + i;
    if (t == boolean.class) return true;
    if (t.isEnum()) return t.getEnumConstants()[0];
    if (t == List.class) return List.of();
    if (t == String.class) return "x";
    return null;
  }
}
