package hmmemu.node.link;

import java.time.Duration;
import java.util.List;
import org.apache.pekko.actor.ExtendedActorSystem;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.Adapter;
import org.apache.pekko.http.javadsl.model.ContentTypes;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.StatusCodes;
import org.apache.pekko.http.javadsl.server.Directives;
import org.apache.pekko.http.javadsl.server.Route;
import org.apache.pekko.http.javadsl.unmarshalling.Unmarshaller;
import org.apache.pekko.management.javadsl.ManagementRouteProvider;
import org.apache.pekko.management.javadsl.ManagementRouteProviderSettings;

/**
 * hmm-emu's Pekko Management route: {@code POST /hmm-emu/faults} with {@link hmmemu.node.link.FaultSchedule} lines
 * as the body. The lines are checked here (400 and one line if malformed), then sent to the link control of every
 * node ({@link LinkControl#broadcast}); 200 when every node started them, 502 otherwise; the body lists each
 * node's reply, one per line. Registered in reference.conf under {@code pekko.management.http.routes}.
 */
public final class FaultRoutes implements ManagementRouteProvider {
  private static final Duration TIMEOUT = Duration.ofSeconds(5);
  private final ActorSystem<?> system;

  public FaultRoutes(ExtendedActorSystem system) { this.system = Adapter.toTyped(system); }

  @Override
  public Route routes(ManagementRouteProviderSettings settings) {
    return Directives.pathPrefix("hmm-emu", () -> Directives.path("faults", () -> Directives.post(() ->
        Directives.entity(Unmarshaller.entityToString(), body -> {
          try {
            LinkControl.parse(body);
          } catch (IllegalArgumentException e) {
            return Directives.complete(StatusCodes.BAD_REQUEST, LinkControl.oneLine(e.getMessage()) + "\n");
          }
          return Directives.completeWithFuture(LinkControl.broadcast(system, body, TIMEOUT).thenApply(FaultRoutes::response));
        }))));
  }

  private static HttpResponse response(List<String> replies) {
    boolean ok = replies.stream().allMatch(r -> r.startsWith("ok"));
    return HttpResponse.create().withStatus(ok ? StatusCodes.OK : StatusCodes.BAD_GATEWAY)
        .withEntity(ContentTypes.TEXT_PLAIN_UTF8, String.join("\n", replies) + "\n");
  }
}
