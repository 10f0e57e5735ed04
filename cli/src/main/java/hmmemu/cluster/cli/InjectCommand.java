package hmmemu.cluster.cli;

import hmmemu.node.link.FaultRoutes;
import hmmemu.node.link.LinkControl;
import hmmemu.cluster.SettingsException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code hmm-emu inject}: sends fault lines to a running cluster through one node's Pekko Management HTTP
 * endpoint ({@code POST /hmm-emu/faults}); that node forwards them to the link stage of every node.
 */
@Command(name = "inject", mixinStandardHelpOptions = true,
    description = {"Injects link faults into a running cluster.",
        "Example: hmm-emu inject --node 127.0.0.1:7626 \"add 5ms to cpu0->gpu1 for 3s\"",
        "FAULT is a fault-schedule line: 'add D [jitter J] to A->B|A<->B [for T]', "
            + "'loss|duplication|reordering P on A->B [for T]', 'partition NODE [two-way|out|in] [for T]', "
            + "'heal NODE', 'pause NODE [for T]', 'resume NODE' or 'clear' (NODE: cpu0, gpu1..gpu15); "
            + "'at T' delays it (default: now).",
        "The address is the management address that `hmm-emu node` or `hmm-emu cluster` printed. The endpoint's "
            + "token is read from ~/.hmm-emu/management-PORT.token (or $HMM_EMU_TOKEN_DIR) unless --token is given.",
        "Crash and restart act on processes: use `hmm-emu cluster --fault`."})
final class InjectCommand implements Callable<Integer> {
  @Mixin EndpointOptions endpoint;
  @Parameters(arity = "1..*", paramLabel = "FAULT", description = "Fault lines (several arguments or ';' separated).")
  List<String> faults;

  @Override
  public Integer call() throws Exception {
    String text = String.join("\n", faults);
    try {
      LinkControl.parse(text);
    } catch (IllegalArgumentException e) {
      throw new SettingsException(e.getMessage());
    }
    Duration wait = endpoint.waitBound();
    URI uri = uri(endpoint.node);
    HttpClient http = EndpointOptions.client(wait);
    HttpRequest.Builder rb = endpoint.request("inject", uri, wait).header("Content-Type", "text/plain; charset=utf-8");
    HttpRequest req = rb.POST(HttpRequest.BodyPublishers.ofString(text, StandardCharsets.UTF_8)).build();
    HttpResponse<String> resp;
    try {
      resp = http.send(req, HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
    } catch (java.io.IOException e) {
      throw new SettingsException("inject: cannot reach the management endpoint " + uri + ": "
          + EndpointOptions.why(e));
    }
    int status = resp.statusCode();
    String body = resp.body().strip();
    if (resp.headers().firstValue(FaultRoutes.MARK).isEmpty()) {
      throw new SettingsException("inject: " + uri + " is not an hmm-emu management endpoint (HTTP " + status + ")");
    }
    if (status == 200 || status == 502) {
      System.out.println(body);
      return status == 200 ? 0 : 1;
    }
    String hint = endpoint.refusalHint(status, uri);
    throw new SettingsException("inject: " + body.replace('\n', ' ') + " (HTTP " + status + ")" + hint);
  }

  /** The token written by the endpoint on {@code port} on this machine, or null when there is none. */
  static String readToken(String command, int port) {
    Path file = FaultRoutes.tokenFile(port);
    try {
      return Files.isRegularFile(file) ? Files.readString(file).strip() : null;
    } catch (java.io.IOException e) {
      throw new SettingsException(command + ": cannot read the token file " + file + ": " + e.getMessage());
    }
  }

  /** {@code HOST:PORT} or {@code http://HOST:PORT[/]} to the faults route. */
  static URI uri(String node) {
    String s = node.trim();
    if (s.startsWith("http://")) s = s.substring("http://".length());
    if (s.endsWith("/")) s = s.substring(0, s.length() - 1);
    int colon = s.lastIndexOf(':');
    if (colon <= 0 || colon == s.length() - 1) throw new SettingsException("--node: expected HOST:PORT, got '" + node + "'");
    int port;
    try {
      port = Integer.parseInt(s.substring(colon + 1));
    } catch (NumberFormatException e) {
      throw new SettingsException("--node: port is not a number in '" + node + "'");
    }
    if (port < 1 || port > 65535) throw new SettingsException("--node: port out of range in '" + node + "'");
    try {
      return new URI("http", null, s.substring(0, colon), port, "/hmm-emu/faults", null, null);
    } catch (java.net.URISyntaxException e) {
      throw new SettingsException("--node: bad address '" + node + "'");
    }
  }
}
