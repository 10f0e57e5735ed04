/**
 * Run records: what every run leaves in its --out directory (result.json, metrics.json, trace.json for
 * ui.perfetto.dev, a self-contained report.html), built from the checker's causally ordered stream of stamped
 * trace events, message flows and fault-injection windows. May import the model (hmmemu.protocol.model/trace),
 * HdrHistogram and Jackson; never Pekko, never protobuf, never a clock.
 */
package hmmemu.report;
