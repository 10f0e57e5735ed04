package hmmemu.cluster.cli;

import hmmemu.cluster.SettingsException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.time.Duration;
import picocli.CommandLine.Option;

/** The options every command that talks to a node's management endpoint shares (inject, status). */
final class EndpointOptions {
  @Option(names = "--node", required = true, paramLabel = "HOST:PORT",
      description = "Management address of any node of the cluster (printed at start-up).")
  String node;
  @Option(names = "--timeout", defaultValue = "10s", description = "How long to wait for the answer (default ${DEFAULT-VALUE}).")
  String timeout;
  @Option(names = "--token", paramLabel = "TOKEN",
      description = "The endpoint's token (printed at start-up; default: read from its token file).")
  String token;

  /** --timeout, at least 1 ms (exit 2 otherwise). */
  Duration waitBound() {
    Duration wait;
    try {
      wait = hmmemu.node.link.FaultSchedule.parseTime(timeout);
    } catch (IllegalArgumentException e) {
      throw new SettingsException("--timeout: " + e.getMessage());
    }
    if (wait.toMillis() < 1) throw new SettingsException("--timeout: must be at least 1ms, got '" + timeout + "'");
    return wait;
  }

  /** A request to {@code uri} bounded by {@code wait}, with the endpoint's token (--token or its token file). */
  HttpRequest.Builder request(String command, URI uri, Duration wait) {
    String bearer = token != null ? token.strip() : InjectCommand.readToken(command, uri.getPort());
    HttpRequest.Builder rb = HttpRequest.newBuilder(uri).timeout(wait);
    if (bearer != null) rb.header("Authorization", "Bearer " + bearer);
    sentToken = bearer != null;
    return rb;
  }

  private boolean sentToken;

  /** What to add to a refusal's line: for a 401 without any token, where the token file was looked for. */
  String refusalHint(int status, URI uri) {
    return status == 401 && !sentToken
        ? "; no --token given and no " + hmmemu.node.link.FaultRoutes.tokenFile(uri.getPort()) + " on this machine" : "";
  }

  static HttpClient client(Duration wait) { return HttpClient.newBuilder().connectTimeout(wait).build(); }

  /** Why a request failed, in words: the JDK's ConnectException carries no message, only its class name. */
  static String why(java.io.IOException e) {
    if (e instanceof java.net.ConnectException && e.getMessage() == null) {
      return "connection refused (nothing listens there: is the address the management one a node printed?)";
    }
    return e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage().replace('\n', ' ');
  }
}
