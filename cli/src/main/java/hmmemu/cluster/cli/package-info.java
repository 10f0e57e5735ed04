/**
 * The command line (./hmm-emu): picocli commands demo, sweep, run, cluster, node, inject, status, report, bench.
 * Exit codes: 0 ok, 1 an expectation or invariant failed, 2 bad usage (one line on stderr). Top of the
 * dependency picture: may import everything below it.
 */
package hmmemu.cluster.cli;
