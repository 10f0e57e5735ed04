package hmmemu.cluster.scenario;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import hmmemu.protocol.model.DriverFlavour;
import hmmemu.protocol.model.KernelProfile;
import hmmemu.protocol.model.NotifyEvent;
import hmmemu.protocol.model.Prot;
import hmmemu.protocol.model.VmaKind;
import hmmemu.protocol.msg.HmmProtocol;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/** The scenario language's parser: valid files become Scenarios; every malformed one is one exact FILE:LINE line. */
class ScenarioParserTest {
  private static final String HEAD = ScenarioText.DMIRROR_HEAD;

  private static Scenario parse(String steps) { return ScenarioText.parse(HEAD, steps); }

  private static String error(String steps) { return ScenarioText.error(HEAD, steps); }

  private static String errorOf(String text) {
    return assertThrows(ScenarioException.class, () -> ScenarioParser.parse("t.conf", text)).getMessage();
  }

  @Test
  @DisplayName("a well-formed scenario keeps its shape: devices, ids, VMAs, steps, expectations")
  void wellFormedScenarioParses() {
    Scenario s = parse(String.join("\n",
        "  { id = x, D0 { exclusive = \"buf\" }, expect { result = 0, counters { cpages = 4 },"
            + " pte { page = buf, state = DEVEXCL }, invalidations { D0 { EXCLUSIVE = 4 } } } }",
        "  { id = r, T1 { increment = \"buf:word0\" }, async = true }",
        "  { await = r, expect { cpu-faults = 4, memory { \"buf:word0\" = { pattern = index, plus = 1 } } } }",
        "  { P1 { mprotect = \"buf+1..2\", prot = r } }"));
    assertEquals("t", s.name());
    assertEquals("C01", s.caseId());
    assertEquals(KernelProfile.V6_15, s.switches().kernelProfile());
    assertEquals(1, s.gpuNodes());
    assertEquals(16, s.devices().get(0).id());
    assertEquals(DriverFlavour.DMIRROR, s.devices().get(0).driver());
    assertEquals(List.of(1), s.devices().get(0).bind());
    Scenario.Vma buf = s.vmas().get(0);
    assertEquals(0x7f00_0000_0000L, buf.start());
    assertEquals(Prot.RW, buf.prot());
    assertEquals(VmaKind.ANON_PRIVATE, buf.kind());
    assertEquals(4, s.steps().size());
    Scenario.DmirrorOp ex = assertInstanceOf(Scenario.DmirrorOp.class, s.steps().get(0).action());
    assertEquals(HmmProtocol.DmirrorOp.EXCLUSIVE, ex.op());
    assertEquals(4, ex.at().pages());
    assertEquals(4, s.steps().get(0).expect().size());
    assertTrue(s.steps().get(1).async());
    Scenario.SyscallOp mp = assertInstanceOf(Scenario.SyscallOp.class, s.steps().get(3).action());
    assertEquals(0x7f00_0000_1000L, mp.at().start());
    assertEquals(2 * 4096L, mp.at().length());
    assertEquals(Prot.READ, mp.prot());
  }

  @Test
  @DisplayName("pause points name a direction, a message, an event and a subscription kind")
  void pausePointParses() {
    String text = String.join("\n",
        "name = p",
        "devices = [{name = G, node = 2, driver = nouveau}]",
        "vmas = [{name = x, start = \"0x10000000\", pages = 1}]",
        "steps = [",
        "  { pause { id = p1, from = cpu, to = G, at = InvalidateStart, event = CLEAR, kind = classic } }",
        "  { id = a, G { atomic = \"x+0:word0\" }, async = true }",
        "  { await-paused = p1 }",
        "  { resume = p1 }",
        "  { await = a, expect { result = 0, value = 0 } }",
        "]");
    Scenario s = ScenarioParser.parse("p.conf", text);
    assertEquals(2, s.gpuNodes());
    Scenario.PauseOp p = assertInstanceOf(Scenario.PauseOp.class, s.steps().get(0).action());
    assertEquals(0, p.fromNode());
    assertEquals(2, p.toNode());
    assertEquals(32, p.deviceId());
    assertEquals(NotifyEvent.CLEAR, p.event());
  }

  @Test
  @DisplayName("spin is a boolean on a CPU loop over one word (C08); on a range it names its line")
  void spinIsOneWordOnly() {
    Scenario s = parse("  { T1 { atomic = \"buf+0:word0\", repeat = 3, spin = true } }");
    Scenario.CpuOp op = (Scenario.CpuOp) s.steps().get(0).action();
    assertTrue(op.spin());
    assertEquals(3, op.repeat());
    String e = error("  { T1 { atomic = \"buf+0..1:word0\", spin = true } }");
    assertTrue(e.startsWith("t.conf:7: spin: a spinning thread loops on one word"), e);
    String b = error("  { T1 { atomic = \"buf+0:word0\", spin = 3 } }");
    assertTrue(b.startsWith("t.conf:7: spin"), b);
  }

  @Test
  @DisplayName("a spinning loop runs on the CPU node (not an increment); a hold of CpuAccess beside it names its line")
  void aSpinningLoopOnTheCpuNodeCannotBeHeld() {
    Scenario s = parse("  { T1 { atomic = \"buf+0:word0\", repeat = 3, spin = true } }");
    assertTrue(((Scenario.CpuOp) s.steps().get(0).action()).onNode());
    Scenario inc = parse("  { T1 { increment = \"buf+0:word0\", repeat = 3, spin = true } }");
    assertTrue(!((Scenario.CpuOp) inc.steps().get(0).action()).onNode(), "an increment stays per access");
    assertTrue(!((Scenario.CpuOp) parse("  { T1 { atomic = \"buf+0:word0\", repeat = 3 } }").steps().get(0).action())
        .onNode(), "a loop that does not spin stays per access");
    String hold = "  { pause { id = h, from = controller, to = cpu, at = CpuAccess } }\n";
    String spin = "  { T1 { atomic = \"buf+0:word0\", repeat = 3, spin = true } }\n";
    String after = error(hold + spin);
    assertTrue(after.startsWith("t.conf:8: spin: a spinning loop runs on the CPU node") && after.contains("(line 7)"),
        after);
    String before = error(spin + "  { pause { id = h, from = controller, to = cpu, at = Syscall,"
        + " until { from = cpu, to = controller, at = CpuAccessDone } } }\n");
    assertTrue(before.startsWith("t.conf:7: spin: a spinning loop runs on the CPU node") && before.contains("(line 8)"),
        before);
    parse("  { pause { id = h, from = controller, to = cpu, at = Syscall } }\n" + spin); // other requests: held as before
  }

  @Test
  @DisplayName("the count of a for-bounded spinning atomic loop is not modelled: memory of its word or its value is refused")
  void aTimedSpinningAtomicLoopsCountCannotBeExpected() {
    String loop = "  { id = cpu, T1 { atomic = \"buf+0:word0\", value = 1, for = 1ms, spin = true }, async = true }\n";
    String mem = error(loop + "  { await = cpu, expect { memory { \"buf+0:word0\" = 7 } } }\n");
    assertTrue(mem.startsWith("t.conf:8: memory: reads the count of T1's spinning atomic loop bounded by for (line 7)"),
        mem);
    String range = error(loop + "  { await = cpu }\n  { expect { memory { \"buf+0\" = 0 } } }\n");
    assertTrue(range.startsWith("t.conf:9: memory: reads the count"), range);
    String value = error(loop + "  { await = cpu, expect { value = 3 } }\n");
    assertTrue(value.startsWith("t.conf:8: value: reads the count"), value);
    parse(loop + "  { await = cpu, expect { result = 0, memory { \"buf+0:word1\" = 0 } } }\n"); // another word
    parse("  { id = cpu, T1 { atomic = \"buf+0:word0\", repeat = 3, spin = true }, async = true }\n"
        + "  { await = cpu, expect { memory { \"buf+0:word0\" = 3 } } }\n"); // repeat counts its atomics
    parse("  { id = cpu, T1 { write = \"buf+0:word0\", value = 5, for = 1ms, spin = true }, async = true }\n"
        + "  { await = cpu, expect { memory { \"buf+0:word0\" = 5 } } }\n"); // a store's value does not count
  }

  @Test
  @DisplayName("for bounds a CPU loop in model time; with repeat, or not positive, it names its line")
  void forBoundsALoopInModelTime() {
    Scenario s = parse("  { T1 { atomic = \"buf+0:word0\", for = 1500ms, spin = true } }");
    Scenario.CpuOp op = (Scenario.CpuOp) s.steps().get(0).action();
    assertEquals(1_500_000, op.forMicros());
    assertEquals(1, op.repeat());
    String both = error("  { T1 { atomic = \"buf+0:word0\", for = 1s, repeat = 3 } }");
    assertTrue(both.startsWith("t.conf:7: for: give repeat or for, not both"), both);
    String zero = error("  { T1 { atomic = \"buf+0:word0\", for = 0s } }");
    assertTrue(zero.startsWith("t.conf:7: for: must be at least 1us"), zero);
    String bad = error("  { T1 { atomic = \"buf+0:word0\", for = soon } }");
    assertTrue(bad.startsWith("t.conf:7: for: expected a duration"), bad);
  }

  @Test
  @DisplayName("an unknown top-level key names its line")
  void unknownTopLevelKey() {
    assertEquals("t.conf:2: unknown key 'vmass' in the scenario (expected one of: case, description, devices, "
        + "faults, gpu-nodes, link, liveness, name, order, processes, profile, step-timeout, steps, switches, time-scale, vmas)",
        errorOf("name = t\nvmass = []\nvmas = []\nsteps = []\n"));
  }

  @Test
  @DisplayName("link { lanes = per-thread | off }: off by default, anything else names its line")
  void linkLanes() {
    assertEquals(false, ScenarioParser.parse("t.conf", "name = t\nvmas = []\nsteps = []\n").lanes());
    assertEquals(true,
        ScenarioParser.parse("t.conf", "name = t\nlink { lanes = per-thread }\nvmas = []\nsteps = []\n").lanes());
    assertEquals(false,
        ScenarioParser.parse("t.conf", "name = t\nlink { lanes = off }\nvmas = []\nsteps = []\n").lanes());
    assertEquals("t.conf:2: link.lanes = fifo: expected per-thread or off",
        errorOf("name = t\nlink { lanes = fifo }\nvmas = []\nsteps = []\n"));
    assertTrue(errorOf("name = t\nlink { lane = off }\nvmas = []\nsteps = []\n").contains("unknown key 'lane'"));
  }

  @Test
  @DisplayName("time-scale is a positive number; the run takes it over its own")
  void timeScale() {
    assertEquals("t.conf:2: time-scale: must be a positive number, got 0",
        errorOf("name = t\ntime-scale = 0\nvmas = []\nsteps = []\n"));
    assertEquals("t.conf:2: time-scale: expected a number (real µs per model µs), got \"fast\"",
        errorOf("name = t\ntime-scale = fast\nvmas = []\nsteps = []\n"));
  }

  @Test
  @DisplayName("an unknown switch names its line")
  void unknownSwitch() {
    assertEquals("t.conf:2: unknown key 'owner-filtre' in switches (expected one of: dmirror-seq-check, "
        + "driver-deadline, driver-lock-across-conversion, folio-lock-until-mapped, hmm-pfn-exclusive, "
        + "leak-folio-on-retry, mutants, owner-filter)",
        errorOf("name = t\nswitches { owner-filtre = false }\nvmas = []\nsteps = []\n"));
  }

  @Test
  @DisplayName("switches.mutants names deliberate model mutations; an unknown one names its line")
  void mutants() {
    assertEquals(java.util.List.of(hmmemu.protocol.model.Mutant.SKIP_READ_RETRY),
        ScenarioParser.parse("t.conf", "name = t\nswitches { mutants = [skip-read-retry] }\nvmas = []\nsteps = []\n")
            .switches().mutants());
    assertTrue(errorOf("name = t\nswitches { mutants = [no-such] }\nvmas = []\nsteps = []\n")
        .startsWith("t.conf:2: mutants: unknown mutant 'no-such' (known: "));
  }

  @Test
  @DisplayName("a bad value names the key, the allowed values and what was given")
  void badValue() {
    assertEquals("t.conf:2: prot: expected rw, r, w or none, got \"rx\"",
        errorOf("name = t\nvmas = [{name = b, start = \"0x10000000\", pages = 1, prot = rx}]\nsteps = []\n"));
    assertEquals("t.conf:2: profile: expected \"v6.15\" or \"v5.14\" (or a list of them), got \"v6.1\"",
        errorOf("name = t\nprofile = \"v6.1\"\nvmas = []\nsteps = []\n"));
    assertEquals("t.conf:7: value: expected an integer, got \"lots\"",
        error("  { T1 { atomic = \"buf+0\", value = lots } }"));
  }

  @Test
  @DisplayName("an unknown actor is rejected with the actors that exist")
  void unknownActor() {
    assertEquals("t.conf:8: unknown actor 'D9' (known: T<n> (CPU threads), D0, P1, await, await-gone, await-paused, await-restarted, crash, kthread, pause, restart, resume)",
        error("  { D0 { read = \"buf\" } }\n  { D9 { read = \"buf\" } }"));
  }

  @Test
  @DisplayName("a step that names a page outside its VMA, or an address outside every VMA, is rejected")
  void pageOutsideVma() {
    assertEquals("t.conf:7: page 4 is outside VMA buf (pages 0..3)", error("  { T1 { read = \"buf+4\" } }"));
    assertEquals("t.conf:7: address 0x1000 is outside every VMA", error("  { T1 { read = \"0x1000\" } }"));
    assertEquals("t.conf:7: unknown VMA 'bfu' (declared: buf)", error("  { D0 { exclusive = \"bfu\" } }"));
    assertEquals("t.conf:7: word 512 is outside the page (words 0..511)", error("  { T1 { read = \"buf+0:word512\" } }"));
  }

  @Test
  @DisplayName("an expectation on a page outside the VMA is rejected at the expectation's line")
  void expectationOutsideVma() {
    assertEquals("t.conf:8: page 9 is outside VMA buf (pages 0..3)",
        error("  { D0 { exclusive = \"buf\" },\n    expect { pte { page = \"buf+9\", state = DEVEXCL } } }"));
  }

  @Test
  @DisplayName("a step's unknown key, unknown expectation and unknown operation are each one line")
  void unknownKeysInSteps() {
    assertEquals("t.conf:7: unknown key 'pages' for D0 (operations: bind, check-exclusive, exclusive, "
        + "migrate-to-dev, migrate-to-sys, read, snapshot, write; modifiers: mm, pattern, plus, value)", error("  { D0 { exclusive = buf, pages = 4 } }"));
    assertEquals("t.conf:7: unknown key 'resutl' in expect (expected one of: completed, counters, cpu-faults, data, "
        + "deadlock, device, driver-iterations, driver-timeouts, folio, hmm-range-fault, invalidations, memory, notifier, pending, "
        + "pte, result, snapshot, total-cpu-faults, trace, v5.14, v6.15, value, violations, violations-include)", error("  { D0 { exclusive = buf }, expect { resutl = 0 } }"));
    assertEquals("t.conf:7: unknown key 'atomic' for D0 (operations: bind, check-exclusive, exclusive, "
        + "migrate-to-dev, migrate-to-sys, read, snapshot, write; modifiers: mm, pattern, plus, value)", error("  { D0 { atomic = \"buf+0:word0\" } }"));
  }

  @Test
  @DisplayName("an outcome expectation on an async step, and an await of an unknown step, are rejected")
  void asyncAndAwaitMisuse() {
    assertEquals("t.conf:7: this expectation needs the step's outcome, which an async step has only when awaited: "
        + "put it on the await step", error("  { id = a, T1 { read = \"buf+0\" }, async = true, expect { result = 0 } }"));
    assertEquals("t.conf:7: await: cannot await step 'b': no earlier step has that id", error("  { await = b }"));
    assertEquals("t.conf:8: T1 is still running step 'a' (async, line 7); await it first",
        error("  { id = a, T1 { read = \"buf+0\" }, async = true }\n  { T1 { read = \"buf+1\" } }"));
  }

  @Test
  @DisplayName("controller holds: parsed with until; a request to the wrong side, until on a link pause, bad until")
  void controllerHolds() {
    Scenario s = parse("  { pause { id = h, from = controller, to = cpu, at = Syscall, skip = 1,"
        + " until { from = D0, to = cpu, at = InvalidateAck, skip = 2 } } }\n"
        + "  { pause { id = k, from = controller, to = D0, at = DmirrorCmd } }\n"
        + "  { resume = k }");
    Scenario.PauseOp h = (Scenario.PauseOp) s.steps().get(0).action();
    assertTrue(h.controller());
    assertEquals(0, h.toNode());
    assertEquals(-1, h.deviceId());
    assertEquals(1, h.skip());
    assertEquals("InvalidateAck", h.until().message());
    assertEquals(1, h.until().fromNode());
    assertEquals(2, h.until().skip());
    Scenario.PauseOp k = (Scenario.PauseOp) s.steps().get(1).action();
    assertEquals(1, k.toNode());
    assertEquals(null, k.until());
    assertEquals("pause h: hold the 2nd Syscall from controller to cpu until the 3rd InvalidateAck from D0 to cpu was"
        + " delivered", h.describe());
    assertEquals("t.conf:7: at: DeviceAccess goes to a device (from controller to cpu: CpuAccess, KthreadFolioLock,"
        + " KthreadFolioUnlock, Syscall)", error("  { pause { id = h, from = controller, to = cpu, at = DeviceAccess } }"));
    assertEquals("t.conf:7: at: 'InspectPage' is not a controller request (from controller to D0: BindMm, DeviceAccess,"
        + " DmirrorCmd)", error("  { pause { id = h, from = controller, to = D0, at = InspectPage } }"));
    assertEquals("t.conf:7: pause: to: expected cpu or a device for a controller request, got 'gpu1' (declared: D0)",
        error("  { pause { id = h, from = controller, to = gpu1, at = Syscall } }"));
    Scenario.PauseOp lp = (Scenario.PauseOp) parse("  { pause { id = p, from = D0, to = cpu, at = FolioUnlockPut,"
        + " until { from = controller, to = cpu, at = CpuAccess, skip = 1 } } }").steps().get(0).action();
    assertFalse(lp.controller());
    assertTrue(lp.until().controller());
    assertEquals("pause p at FolioUnlockPut from D0 to cpu until the 2nd CpuAccess from controller to cpu was delivered",
        lp.describe());
    assertEquals("t.conf:7: unknown key 'event' in pause p until (from = controller) (expected one of: at, from, skip,"
        + " to)", error("  { pause { id = p, from = D0, to = cpu, at = FolioUnlockPut, until { from = controller,"
            + " to = cpu, at = CpuAccess, event = CLEAR } } }"));
    assertEquals("t.conf:7: at: InvalidateStart travels the other way (from D0 to cpu: DeviceMemoryAccess, "
        + "FolioUnlockPut, HmmRangeFault, InvalidateAck, MakeDeviceExclusive, MakeDeviceExclusiveRange, "
        + "MigrateToRamDone, MigrateVmaFinalize, "
        + "MigrateVmaPages, MigrateVmaSetup, NotifierInsert, NotifierRemove, UnlockFence)",
        error("  { pause { id = h, from = controller, to = cpu, at = Syscall, until { from = D0, to = cpu,"
            + " at = InvalidateStart } } }"));
    assertEquals("t.conf:7: unknown key 'id' in pause h until (expected one of: at, event, from, kind, skip, to)",
        error("  { pause { id = h, from = controller, to = cpu, at = Syscall, until { id = x, from = D0, to = cpu,"
            + " at = InvalidateAck } } }"));
    assertEquals("t.conf:7: unknown key 'event' in pause h (from = controller) (expected one of: at, from, id, skip,"
        + " to, until)", error("  { pause { id = h, from = controller, to = cpu, at = Syscall, event = CLEAR } }"));
  }

  @Test
  @DisplayName("pause points: wrong direction, unknown pause id, double resume")
  void pauseMisuse() {
    assertEquals("t.conf:7: at: InvalidateStart travels the other way (from D0 to cpu: DeviceMemoryAccess, "
        + "FolioUnlockPut, HmmRangeFault, InvalidateAck, MakeDeviceExclusive, MakeDeviceExclusiveRange, "
        + "MigrateToRamDone, MigrateVmaFinalize, "
        + "MigrateVmaPages, MigrateVmaSetup, NotifierInsert, NotifierRemove, UnlockFence)",
        error("  { pause { id = p, from = D0, to = cpu, at = InvalidateStart } }"));
    assertEquals("t.conf:7: resume: no earlier pause point 'q'", error("  { resume = q }"));
    assertEquals("t.conf:9: resume: pause point 'p' was resumed already",
        error("  { pause { id = p, from = D0, to = cpu, at = FolioUnlockPut } }\n  { resume = p }\n  { resume = p }"));
  }

  @Test
  @DisplayName("counts take bounds; pfn names must be bound before a !@NAME; snapshot flags name devices")
  void boundsPfnNamesAndSnapshotFlags() {
    Scenario s = parse(String.join("\n",
        "  { D0 { snapshot = buf }, expect { snapshot { \"buf+0\" = \"VALID WRITE\", \"buf+1..3\" = NONE },",
        "    pte { page = \"buf+0\", pfn = \"@A\" }, invalidations { D0 { CLEAR = \">= 2\" } } } }",
        "  { expect { pte { page = \"buf+1\", pfn = \"!@A\" } } }"));
    Expectation.Invalidations inv = (Expectation.Invalidations) s.steps().get(0).expect().stream()
        .filter(e -> e instanceof Expectation.Invalidations).findFirst().orElseThrow();
    assertTrue(inv.expected().test(2) && inv.expected().test(9) && !inv.expected().test(1));
    assertEquals(Bound.parse("2..4"), new Bound(2, 4, "2..4"));
    assertEquals("t.conf:7: pfn: @B is not named by an earlier pfn = \"@B\"",
        error("  { expect { pte { page = \"buf+1\", pfn = \"!@B\" } } }"));
    assertEquals("t.conf:7: cpu-faults: expected a count (N, >= N, > N, <= N, < N or N..M), got \"many\"",
        error("  { T1 { read = buf }, expect { cpu-faults = many } }"));
    assertEquals("t.conf:7: snapshot: unknown flag 'VALIDD' (NONE, VALID, WRITE, ERROR, PMD, EXCLUSIVE:<device>)",
        error("  { D0 { snapshot = buf }, expect { snapshot { \"buf+0\" = VALIDD } } }"));
    assertEquals("t.conf:7: data: buf+3 is outside the ioctl's range buf+0..1",
        error("  { D0 { read = \"buf+0..1\" }, expect { data { \"buf+3\" = 0 } } }"));
  }

  @Test
  @DisplayName("patterns: index is hmm-tests' word index, neg-index its negation, plus shifts both")
  void patterns() {
    assertEquals(512 * 3 + 7, Pattern.index(0).at(3, 7));
    assertEquals(-(512 * 3 + 7) + 1, Pattern.negIndex(1).at(3, 7));
    assertEquals(42, Pattern.constant(42).at(9, 9));
  }

  @Test
  @DisplayName("a HOCON syntax error keeps the parser's line")
  void syntaxError() {
    String msg = errorOf("name = t\nvmas = [\n  {name = b, start = 1\n]\nsteps = []\n");
    assertTrue(msg.startsWith("t.conf:"), msg);
    assertTrue(msg.contains("HOCON syntax"), msg);
    assertFalse(msg.contains("\n"), "one line: " + msg);
  }

  @Test
  @DisplayName("every scenario file under scenarios/ parses")
  void shippedScenariosParse() throws Exception {
    Path dir = Path.of("..", "scenarios");
    if (!Files.isDirectory(dir)) return;
    List<Path> files;
    try (Stream<Path> s = Files.walk(dir)) {
      files = s.filter(p -> p.toString().endsWith(".conf")).sorted().collect(Collectors.toList());
    }
    for (Path f : files) ScenarioParser.parse(f);
  }

  @Test
  @DisplayName("faults block: schedule lines parse; a bad line, an unknown node or a crash is FILE:LINE")
  void faultsBlock() {
    String ok = HEAD.replace("# steps follow", "faults = [\n  \"at 0s loss 0.05 on cpu0->gpu1\"\n  \"at 20ms partition gpu1 for 200ms\"\n]")
        + "\n{ D0 { read = buf } }\n]\n";
    Scenario s = ScenarioParser.parse("t.conf", ok);
    assertEquals(2, s.faults().entries().size());
    String bad = HEAD.replace("# steps follow", "faults = [\n  \"at 0s loss 0.05 on cpu0->gpu1\"\n  \"at 2s explode gpu1\"\n]")
        + "\n{ D0 { read = buf } }\n]\n";
    String e = errorOf(bad);
    assertTrue(e.startsWith("t.conf:7: faults: fault schedule line 2"), e);
    String node = HEAD.replace("# steps follow", "faults = [\"at 0s partition gpu3 for 1s\"]")
        + "\n{ D0 { read = buf } }\n]\n";
    assertTrue(errorOf(node).startsWith("t.conf:5: faults: \"at 0s partition gpu3 for 1s\" names gpu3"), errorOf(node));
    String crash = HEAD.replace("# steps follow", "faults = [\"at 1s crash gpu1\"]") + "\n{ D0 { read = buf } }\n]\n";
    assertTrue(errorOf(crash).startsWith("t.conf:5: faults: \"at 1s crash gpu1\": at least one other GPU node must"
        + " stay up"), errorOf(crash));
  }

  /** Lines 1-6: D0 on node 1, D1 on node 2 (so that a crash leaves a majority); line 7 is the faults block. */
  private static String twoNodes(String faults, String steps) {
    return String.join("\n",
        "name = \"t\"",
        "devices = [{name = D0, node = 1, driver = dmirror}, {name = D1, node = 2, driver = dmirror}]",
        "vmas = [{name = buf, mm = 1, start = \"0x7f0000000000\", pages = 4}]",
        "step-timeout = 30s",
        "",
        "",
        "faults = [" + faults + "]",
        "steps = [",
        steps,
        "]", "");
  }

  @Test
  @DisplayName("crash and restart: faults-block lines and steps parse; await-gone/await-restarted count them")
  void crashAndRestartParse() {
    Scenario s = ScenarioParser.parse("t.conf", twoNodes("\"at 1s crash gpu1\", \"at 2s restart it\"", String.join("\n",
        "  { await-gone = gpu1, expect { trace { NodeGone = 1, FolioLockLeaseExpired = \"<= 1\" } } }",
        "  { await-restarted = D0 }",
        "  { crash = D1 }",
        "  { await-gone = gpu2 }",
        "  { restart = gpu2 }",
        "  { D1 { read = buf } }")));
    assertTrue(s.crashes());
    assertEquals(new Scenario.AwaitGoneOp(1, 1), s.steps().get(0).action());
    assertEquals(new Scenario.AwaitRestartedOp(1, 1), s.steps().get(1).action());
    assertEquals(new Scenario.CrashOp(2), s.steps().get(2).action());
    assertEquals(new Scenario.AwaitGoneOp(2, 1), s.steps().get(3).action());
    assertEquals(new Scenario.RestartOp(2), s.steps().get(4).action());
    assertInstanceOf(Expectation.TraceCount.class, s.steps().get(0).expect().get(0));
    assertFalse(ScenarioParser.parse("t.conf", twoNodes("", "  { D1 { read = buf } }")).crashes());
  }

  @Test
  @DisplayName("crash and restart: each misuse is one FILE:LINE error")
  void crashAndRestartErrors() {
    assertEquals("t.conf:10: crash: gpu1 is already crashed (restart it first)",
        errorOf(twoNodes("", "  { crash = gpu1 }\n  { crash = gpu1 }")));
    assertEquals("t.conf:9: restart: gpu1 is not known to be crashed here (crash it, or await-gone after a faults-block"
        + " crash, first)", errorOf(twoNodes("", "  { restart = gpu1 }")));
    assertEquals("t.conf:9: await-gone: gpu2 has 0 crash(es) before this step (crash steps and faults-block lines), so"
        + " crash number 1 never comes", errorOf(twoNodes("\"at 1s crash gpu1\"", "  { await-gone = gpu2 }")));
    assertEquals("t.conf:9: await-restarted: gpu1 has 0 restart(s) before this step (restart steps and faults-block"
        + " lines), so restart number 1 never comes", errorOf(twoNodes("\"at 1s crash gpu1\"", "  { await-restarted = gpu1 }")));
    assertEquals("t.conf:9: crash: gpu3 does not exist (the scenario has 2 GPU node(s))",
        errorOf(twoNodes("", "  { crash = gpu3 }")));
    assertEquals("t.conf:9: crash: expected gpuK (K = 1..2) or a device name, got \"cpu0\"",
        errorOf(twoNodes("", "  { crash = cpu0 }")));
    assertTrue(errorOf(twoNodes("", "  { crash = gpu1 }\n  { crash = gpu2 }")).startsWith(
        "t.conf:10: crash: at least one other GPU node must stay up"));
    assertEquals("t.conf:7: faults: \"at 2s restart gpu2\": gpu2 is not crashed at that time (crash it first)",
        errorOf(twoNodes("\"at 1s crash gpu1\", \"at 2s restart gpu2\"", "  { D1 { read = buf } }")));
    assertEquals("t.conf:7: faults: \"at 1s crash cpu0\": only GPU nodes can be crashed in a scenario (the CPU node"
        + " hosts the runner's checker)", errorOf(twoNodes("\"at 1s crash cpu0\"", "  { D1 { read = buf } }")));
    assertTrue(errorOf(twoNodes("", "  { D1 { read = buf }, expect { trace { NodeGon = 1 } } }")).startsWith(
        "t.conf:9: trace: unknown trace event 'NodeGon' ("), errorOf(twoNodes("", "  { D1 { read = buf }, expect { trace { NodeGon = 1 } } }")));
    assertTrue(errorOf(twoNodes("", "  { D1 { read = buf }, expect { trace { NodeGone = many } } }"))
        .startsWith("t.conf:9: NodeGone: "));
  }
}
