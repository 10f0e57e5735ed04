package hmmemu.cluster;

/** Bad user input (configuration, flag, scenario): its message is the one line printed before exit code 2. */
public final class SettingsException extends RuntimeException {
  public SettingsException(String message) { super(message); }
}
