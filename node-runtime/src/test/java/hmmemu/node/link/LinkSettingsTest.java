package hmmemu.node.link;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.ConfigFactory;
import org.junit.jupiter.api.Test;

class LinkSettingsTest {
  @Test
  void builtInDefaults() {
    LinkSettings s = LinkSettings.builtIn();
    LinkSpec d = s.defaults();
    assertEquals(new Distribution.Constant(1), d.delay());
    assertEquals(0, d.jitterMicros());
    assertEquals(16000, d.bandwidthBytesPerMicro());
    assertEquals(new LinkSpec.Tail(0, 1.5, 50), d.tail());
    assertEquals(0, d.loss() + d.duplication() + d.reordering());
    assertEquals(new Distribution.Uniform(10, 50), d.reorderExtra());
    assertTrue(s.directions().isEmpty());
    assertEquals(d, s.spec(0, 1));
  }

  @Test
  void readsDefaultAndPerDirectionOverrides() {
    LinkSettings s = LinkSettings.fromConfig(ConfigFactory.parseString(String.join("\n",
        "hmm-emu.link {",
        "  default { delay = {dist = normal, mean = 2us, stddev = 500ns}, jitter = 0.25us, loss = 0.01,",
        "            tail = {p = 0.001, scale = 100us} }",
        "  directions {",
        "    \"cpu0->gpu1\" { delay = {dist = uniform, min = 1us, max = 3us}, reordering = 0.1 }",
        "    \"gpu2->cpu0\" { delay = 10us, bandwidth-bytes-per-us = unlimited }",
        "    \"cpu0<->gpu3\" { delay = {dist = exponential, mean = 1.5ms} }",
        "  }",
        "}")));
    LinkSpec d = s.defaults();
    assertEquals(new Distribution.Normal(2, 0.5), d.delay());
    assertEquals(0.25, d.jitterMicros());
    assertEquals(0.01, d.loss());
    assertEquals(new LinkSpec.Tail(0.001, 1.5, 100), d.tail());
    LinkSpec a = s.spec(0, 1);
    assertEquals(new Distribution.Uniform(1, 3), a.delay());
    assertEquals(0.1, a.reordering());
    assertEquals(0.01, a.loss(), "falls back to default key by key");
    assertEquals(0.25, a.jitterMicros());
    assertEquals(d, s.spec(1, 0), "the other direction keeps the default");
    assertEquals(new Distribution.Constant(10), s.spec(2, 0).delay());
    assertEquals(0, s.spec(2, 0).bandwidthBytesPerMicro());
    assertEquals(new Distribution.Exponential(1500), s.spec(0, 3).delay());
    assertEquals(new Distribution.Exponential(1500), s.spec(3, 0).delay());
  }

  @Test
  void badValuesNameTheirPath() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> LinkSettings.fromConfig(
        ConfigFactory.parseString("hmm-emu.link.directions { \"cpu0->gpu1\" { delay = {dist = lognormal} } }")));
    assertTrue(e.getMessage().contains("hmm-emu.link.directions.\"cpu0->gpu1\"") && e.getMessage().contains("lognormal"),
        e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> LinkSettings.fromConfig(
        ConfigFactory.parseString("hmm-emu.link.default.jitter = 3")));
    assertTrue(e.getMessage().contains("give a unit"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> LinkSettings.fromConfig(
        ConfigFactory.parseString("hmm-emu.link.default.loss = 2")));
    assertTrue(e.getMessage().contains("hmm-emu.link.default") && e.getMessage().contains("loss"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> LinkSettings.fromConfig(
        ConfigFactory.parseString("hmm-emu.link.directions { \"cpu0-gpu1\" { loss = 0.1 } }")));
    assertTrue(e.getMessage().contains("bad direction"), e.getMessage());
  }

  @org.junit.jupiter.api.Test
  void dataLinkLayerKeys() {
    LinkSettings def = LinkSettings.builtIn();
    org.junit.jupiter.api.Assertions.assertTrue(def.reliable());
    org.junit.jupiter.api.Assertions.assertEquals(5000.0, def.replayTimeoutMicros(), 1e-9);
    LinkSettings off = LinkSettings.fromConfig(com.typesafe.config.ConfigFactory.parseString(
        "hmm-emu.link { reliable = off, replay-timeout = 250us }"));
    org.junit.jupiter.api.Assertions.assertFalse(off.reliable());
    org.junit.jupiter.api.Assertions.assertEquals(250.0, off.replayTimeoutMicros(), 1e-9);
    IllegalArgumentException e = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
        () -> LinkSettings.fromConfig(com.typesafe.config.ConfigFactory.parseString("hmm-emu.link.replay-timeout = 5")));
    org.junit.jupiter.api.Assertions.assertTrue(e.getMessage().contains("replay-timeout"), e.getMessage());
  }
}
