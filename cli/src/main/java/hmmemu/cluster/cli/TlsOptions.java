package hmmemu.cluster.cli;

import java.io.File;
import java.util.HashMap;
import java.util.Map;
import picocli.CommandLine.Option;

/** The mutual-TLS flags of {@code hmm-emu node} and {@code hmm-emu cluster} (hmm-emu.tls.* in reference.conf). */
final class TlsOptions {
  @Option(names = "--tls", description = "Mutual TLS for Artery: only nodes holding the cluster's certificate join.")
  boolean tls;
  @Option(names = "--keystore", paramLabel = "FILE", description = "PKCS12/JKS key store with this node's key and certificate.")
  File keyStore;
  @Option(names = "--truststore", paramLabel = "FILE", description = "PKCS12/JKS trust store with the certificate(s) peers must hold.")
  File trustStore;
  @Option(names = "--keystore-password", paramLabel = "PW",
      description = "Key store password (default: hmm-emu.tls.key-store-password or $HMM_EMU_TLS_KEY_STORE_PASSWORD).")
  String keyStorePassword;
  @Option(names = "--truststore-password", paramLabel = "PW",
      description = "Trust store password (default: hmm-emu.tls.trust-store-password or $HMM_EMU_TLS_TRUST_STORE_PASSWORD).")
  String trustStorePassword;

  /** Configuration overrides for the flags given. */
  Map<String, Object> overrides() {
    Map<String, Object> o = new HashMap<>();
    if (tls) o.put("hmm-emu.tls.enabled", true);
    if (keyStore != null) o.put("hmm-emu.tls.key-store", keyStore.getAbsolutePath());
    if (trustStore != null) o.put("hmm-emu.tls.trust-store", trustStore.getAbsolutePath());
    if (keyStorePassword != null) o.put("hmm-emu.tls.key-store-password", keyStorePassword);
    if (trustStorePassword != null) o.put("hmm-emu.tls.trust-store-password", trustStorePassword);
    return o;
  }
}
