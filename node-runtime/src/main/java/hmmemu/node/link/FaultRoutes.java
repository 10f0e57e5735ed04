package hmmemu.node.link;

import hmmemu.node.link.FaultSchedule;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.HexFormat;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.pekko.actor.ExtendedActorSystem;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.Adapter;
import org.apache.pekko.http.javadsl.model.ContentTypes;
import org.apache.pekko.http.javadsl.model.HttpRequest;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.StatusCode;
import org.apache.pekko.http.javadsl.model.StatusCodes;
import org.apache.pekko.http.javadsl.model.headers.RawHeader;
import org.apache.pekko.http.javadsl.server.Directives;
import org.apache.pekko.http.javadsl.server.Route;
import org.apache.pekko.http.javadsl.unmarshalling.Unmarshaller;
import org.apache.pekko.management.javadsl.ManagementRouteProvider;
import org.apache.pekko.management.javadsl.ManagementRouteProviderSettings;

/**
 * hmm-emu's Pekko Management route: {@code POST /hmm-emu/faults} with {@link hmmemu.node.link.FaultSchedule} lines
 * as the body. The lines are checked here (400 and one line if malformed), then sent to the link control of every
 * node ({@link LinkControl#broadcast}); 200 when every node started them, 502 otherwise; the body lists each
 * node's reply, one per line. Registered in reference.conf under {@code pekko.management.http.routes}. An accepted
 * schedule is also told to this system's {@link InjectedFaults} listeners (a run record draws its windows).
 *
 * <p>Guards, each refusing with one line: 401 without {@code Authorization: Bearer TOKEN} (the token
 * {@code hmm-emu.management.token}: hmmemu.cluster.NodeConfig generates one, in {@link #tokenFile}); 403 when the Host is not a
 * loopback name, an IP literal or the configured hostname (DNS rebinding), or an Origin is sent that is not this
 * endpoint's own ({@code http://} + Host: a cross-site page's form post); 413 over {@link #MAX_BODY_BYTES} bytes,
 * {@link LinkControl#MAX_LINES} lines or {@link LinkControl#MAX_ACTIONS} actions; 429 when the actions live at once
 * would exceed {@link LinkControl#MAX_LIVE_ACTIONS}. Every answer carries {@link #MARK}, so {@code hmm-emu inject}
 * tells this endpoint from another HTTP server.
 *
 * <p>{@code GET /hmm-emu/status} (same guards) answers JSON: this node's view of the cluster membership and every
 * node's live link counters ({@link ClusterStatus}); {@code hmm-emu status} prints it.
 */
public final class FaultRoutes implements ManagementRouteProvider {
  private static final Duration TIMEOUT = Duration.ofSeconds(5);
  /** The largest request body accepted. */
  public static final long MAX_BODY_BYTES = 256 * 1024;
  /** The response header naming this endpoint. */
  public static final String MARK = "X-Hmm-Emu";
  private final ActorSystem<?> system;
  private final byte[] token;
  private final String hostname;
  /** Actions started through this endpoint whose last step is not yet due. */
  private final AtomicInteger live = new AtomicInteger();

  public FaultRoutes(ExtendedActorSystem system) {
    this.system = Adapter.toTyped(system);
    var c = system.settings().config();
    String t = c.hasPath("hmm-emu.management.token") ? c.getString("hmm-emu.management.token") : "";
    // No token configured (management started without NodeConfig.withManagement): nothing is accepted.
    this.token = t.isBlank() ? null : t.getBytes(StandardCharsets.UTF_8);
    this.hostname = c.hasPath("pekko.management.http.hostname") ? c.getString("pekko.management.http.hostname") : "";
  }

  /** 32 random bytes in hex: a management endpoint's token. */
  public static String newToken() {
    byte[] b = new byte[32];
    new SecureRandom().nextBytes(b);
    return HexFormat.of().formatHex(b);
  }

  /**
   * Where the token of the management endpoint on {@code port} is written: {@code ~/.hmm-emu/management-PORT.token}
   * (or {@code $HMM_EMU_TOKEN_DIR/management-PORT.token}); directory mode 0700, file mode 0600. {@code hmm-emu
   * inject} reads it unless given {@code --token}.
   */
  public static Path tokenFile(int port) {
    String dir = System.getenv("HMM_EMU_TOKEN_DIR");
    Path d = dir != null && !dir.isBlank() ? Path.of(dir) : Path.of(System.getProperty("user.home"), ".hmm-emu");
    return d.resolve("management-" + port + ".token");
  }

  @Override
  public Route routes(ManagementRouteProviderSettings settings) {
    return Directives.pathPrefix("hmm-emu", () -> Directives.concat(
        Directives.path("faults", () -> Directives.post(() -> guarded(() ->
            Directives.withSizeLimit(MAX_BODY_BYTES, () -> Directives.entity(Unmarshaller.entityToString(), this::faults))))),
        Directives.path("status", () -> Directives.get(() -> guarded(this::status)))));
  }

  /** {@code inner} when the request passes {@link #refusal}, else the refusal (one line). */
  private Route guarded(java.util.function.Supplier<Route> inner) {
    return Directives.extractRequest(req -> {
      String refused = refusal(req);
      if (refused != null) return Directives.complete(answer(refused.startsWith("401") ? StatusCodes.UNAUTHORIZED
          : refused.startsWith("413") ? StatusCodes.PAYLOAD_TOO_LARGE : StatusCodes.FORBIDDEN, refused.substring(4)));
      return inner.get();
    });
  }

  /** {@code GET /hmm-emu/status}: the membership and every node's link counters ({@link ClusterStatus}). */
  private Route status() {
    return Directives.completeWithFuture(ClusterStatus.of(system, TIMEOUT).thenApply(json ->
        HttpResponse.create().withStatus(StatusCodes.OK).addHeader(RawHeader.create(MARK, "status"))
            .withEntity(ContentTypes.APPLICATION_JSON, json + "\n")));
  }

  private Route faults(String body) {
    FaultSchedule schedule;
    try {
      schedule = LinkControl.parse(body);
    } catch (LinkControl.TooMuch e) {
      return Directives.complete(answer(StatusCodes.PAYLOAD_TOO_LARGE, e.getMessage()));
    } catch (IllegalArgumentException e) {
      return Directives.complete(answer(StatusCodes.BAD_REQUEST, e.getMessage()));
    }
    int n = schedule.entries().size();
    if (live.addAndGet(n) > LinkControl.MAX_LIVE_ACTIONS) {
      live.addAndGet(-n);
      return Directives.complete(answer(StatusCodes.TOO_MANY_REQUESTS, LinkControl.tooManyLive(n)));
    }
    Duration span = LinkControl.span(schedule);
    system.scheduler().scheduleOnce(span, () -> live.addAndGet(-n), system.executionContext());
    InjectedFaults.of(system).injected(schedule); // a run record of this JVM draws it (hmm-emu cluster)
    return Directives.completeWithFuture(LinkControl.broadcast(system, body, TIMEOUT).thenApply(FaultRoutes::response));
  }

  /** "401 why", "403 why", "413 why" or null when {@code req} may post faults. */
  String refusal(HttpRequest req) {
    Optional<String> auth = req.getHeader("Authorization").map(h -> h.value());
    String host = req.getHeader("Host").map(h -> h.value()).orElse("");
    if (!hostAllowed(host)) {
      return "403 Host '" + host + "' is not this endpoint (a loopback name, an IP address or " + hostname + ")";
    }
    Optional<String> origin = req.getHeader("Origin").map(h -> h.value());
    if (origin.isPresent() && !origin.get().equalsIgnoreCase("http://" + host)) {
      return "403 Origin '" + origin.get() + "' is not this endpoint's own (http://" + host + ")";
    }
    String given = auth.filter(a -> a.regionMatches(true, 0, "Bearer ", 0, 7)).map(a -> a.substring(7).trim()).orElse(null);
    if (token == null || given == null || !MessageDigest.isEqual(token, given.getBytes(StandardCharsets.UTF_8))) {
      return "401 missing or wrong token (Authorization: Bearer TOKEN; hmm-emu inject and status read "
          + tokenFile(0).getParent() + "/management-PORT.token or take --token)";
    }
    if (req.entity().getContentLengthOption().orElse(0L) > MAX_BODY_BYTES) {
      return "413 request body over " + MAX_BODY_BYTES + " bytes";
    }
    return null;
  }

  /** Host {@code h} (with its port): a loopback name, an IP literal (no DNS rebinding) or our hostname. */
  boolean hostAllowed(String h) {
    String name = h.startsWith("[") ? h.substring(1, Math.max(1, h.indexOf(']'))) : h.replaceFirst(":\\d*$", "");
    name = name.toLowerCase(Locale.ROOT);
    if (name.isEmpty()) return false;
    if (name.equals("localhost") || name.equals(hostname.toLowerCase(Locale.ROOT))) return true;
    if (!name.matches("[0-9.]+|[0-9a-f:.]*:[0-9a-f:.]*")) return false;
    try {
      InetAddress.getByName(name); // a literal: no lookup
      return true;
    } catch (java.net.UnknownHostException e) {
      return false;
    }
  }

  private static HttpResponse answer(StatusCode status, String line) {
    return HttpResponse.create().withStatus(status).addHeader(RawHeader.create(MARK, "faults"))
        .withEntity(ContentTypes.TEXT_PLAIN_UTF8, line.replace('\n', ' ') + "\n");
  }

  private static HttpResponse response(List<String> replies) {
    boolean ok = replies.stream().allMatch(r -> r.startsWith("ok"));
    return HttpResponse.create().withStatus(ok ? StatusCodes.OK : StatusCodes.BAD_GATEWAY)
        .addHeader(RawHeader.create(MARK, "faults"))
        .withEntity(ContentTypes.TEXT_PLAIN_UTF8, String.join("\n", replies) + "\n");
  }
}
