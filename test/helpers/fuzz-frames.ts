/** Fuzzed command frames: random bytes, truncated and bit-rotted valid commands, extra frames, wrong versions. */
import { create } from "@bufbuild/protobuf";
import { encodeCommand, newCommand } from "../../src/bridge/protocol.js";
import { HelloSchema, PauseSchema, PingSchema, SnapshotRequestSchema } from "../../src/gen/alignprop/v1/alignprop_pb.js";
import type { Rng } from "../../src/util/rng.js";

/** Valid commands to mutate: every kind, right version. */
const seeds = [
  encodeCommand(newCommand("a", { case: "ping", value: create(PingSchema) })),
  encodeCommand(newCommand("b", { case: "snapshot", value: create(SnapshotRequestSchema, { afterSeq: 3 }) })),
  encodeCommand(newCommand("c", { case: "hello", value: create(HelloSchema, { protocolMajor: 1, agent: "fuzz" }) })),
  encodeCommand(newCommand("d", { case: "pause", value: create(PauseSchema) })),
];

export function fuzzFrame(rng: Rng): Uint8Array[] {
  const kind = rng.int(6);
  if (kind === 0) return [Uint8Array.from({ length: rng.int(64) }, () => rng.int(256))]; // random bytes
  if (kind === 1) return [seeds[rng.int(seeds.length)]!.slice(0, rng.int(seeds[0]!.length))]; // truncated
  if (kind === 2) {
    const frame = seeds[rng.int(seeds.length)]!.slice();
    for (let i = 0; i < 1 + rng.int(4); i++) frame[rng.int(frame.length)] = rng.int(256); // bit rot
    return [frame];
  }
  if (kind === 3) return [seeds[0]!, seeds[1]!]; // two frames
  if (kind === 4) return [new Uint8Array([0x10, 0x07, 0x9a, 0x01, 0x00])]; // protocol_major 7, unknown field 19
  return [new Uint8Array([0x08 | 0x02, 0x7f])]; // length past the end
}

