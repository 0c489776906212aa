/**
 * Wire-level constants and framing shared by both ends of the bridge: the protocol version, PUB topics,
 * and the encode/decode pair for each frame kind. Frames are decoded defensively: a malformed frame is an
 * error value for the caller to count or answer, never a throw out of a socket loop.
 */
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import {
  CommandResultSchema,
  CommandSchema,
  EventSchema,
  type Command,
  type CommandResult,
  type Event,
} from "../gen/alignprop/v1/alignprop_pb.js";

/** Bumped on any incompatible change to proto/alignprop/v1; a peer with another major is refused. */
export const PROTOCOL_MAJOR = 1;
/** Minor 1: the Progress event; minor 2: the EvalResult event (older clients subscribe to the topics they know). */
export const PROTOCOL_MINOR = 2;

/** The PUB topic of an event is the name of its payload case. */
export type Topic = NonNullable<Event["payload"]["case"]>;
export const TOPICS: readonly Topic[] = ["status", "metrics", "images", "log", "error", "checkpoint", "progress", "eval"];

/**
 * How long a trainer that has ended (DONE or FAILED) keeps answering before it closes, unless a client confirms first
 * that it has every event (a snapshot request for nothing after the last seq; TrainerClient sends one on the terminal
 * event): a client that was reconnecting when the last frames went out fetches them in that time.
 */
export const FINAL_GRACE_MS = 5000;

/** Largest frame either side accepts: a snapshot with a few full-size image batches fits; a runaway frame does not. */
export const MAX_FRAME_BYTES = 64 * 1024 * 1024;

export type Decoded<T> = { ok: true; value: T } | { ok: false; error: string };

function decode<T>(what: string, bytes: Uint8Array | undefined, parse: (b: Uint8Array) => T): Decoded<T> {
  if (!bytes) return { ok: false, error: `${what} frame missing` };
  if (bytes.byteLength > MAX_FRAME_BYTES) {
    return { ok: false, error: `${what} frame of ${bytes.byteLength} bytes exceeds the limit of ${MAX_FRAME_BYTES}` };
  }
  try {
    return { ok: true, value: parse(bytes) };
  } catch (err) {
    return { ok: false, error: `${what} frame is not valid protobuf: ${(err as Error).message}` };
  }
}

export const encodeEvent = (e: Event): Uint8Array => toBinary(EventSchema, e);
export const decodeEvent = (b: Uint8Array | undefined): Decoded<Event> => decode("Event", b, (x) => fromBinary(EventSchema, x));
export const encodeCommand = (c: Command): Uint8Array => toBinary(CommandSchema, c);
export const decodeCommand = (b: Uint8Array | undefined): Decoded<Command> =>
  decode("Command", b, (x) => fromBinary(CommandSchema, x));
export const encodeResult = (r: CommandResult): Uint8Array => toBinary(CommandResultSchema, r);
export const decodeResult = (b: Uint8Array | undefined): Decoded<CommandResult> =>
  decode("CommandResult", b, (x) => fromBinary(CommandResultSchema, x));

export function newCommand(id: string, kind: Command["kind"]): Command {
  return create(CommandSchema, { id, protocolMajor: PROTOCOL_MAJOR, kind });
}
