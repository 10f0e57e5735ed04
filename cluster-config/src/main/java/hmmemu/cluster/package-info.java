/**
 * Cluster configuration and node start-up: reference.conf and its typed settings (HmmEmuSettings, NodeConfig),
 * the embedded one-JVM cluster (EmbeddedCluster), separate JVMs (ProcessCluster), roles, the controller's client.
 * May import Pekko, node-runtime and the node shells; never the scenario language or the CLI.
 */
package hmmemu.cluster;
