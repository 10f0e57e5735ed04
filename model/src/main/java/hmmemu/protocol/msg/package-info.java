/**
 * The message contract: {@link hmmemu.protocol.msg.HmmProtocol} (every message record, and the sealed families
 * that say each message's direction — DriverToHost, HostToDriver, ControllerToCpu, ... — and kind — Request,
 * Reply), {@link hmmemu.protocol.msg.Msgs} (routing facts the shells read off a message) and
 * {@link hmmemu.protocol.msg.Ids} (how deviceIds, subIds, reqIds and owner cookies are packed).
 *
 * <p>Core code: may import only java.* and hmmemu.protocol.model (no Pekko, no protobuf).
 */
package hmmemu.protocol.msg;
