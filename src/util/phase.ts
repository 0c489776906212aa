/**
 * The one timing hook inside the training step: `phase("vae_decode", () => …)` runs its function and, only while a
 * profiler has installed a hook (src/bench/profile.ts), lets that hook measure it. With no hook installed it is a
 * plain call, so the step pays one null check per phase.
 */
import { HookSlot } from "./hook-slot.js";

/**
 * The model parts of a step a profile reports (issue 18: where an AlignProp step's time goes). The UNet parts hold
 * whole sampling steps (guidance and the DDIM update with the UNet call); "unet_grad" also holds the KL term's base
 * prediction when kl_coeff > 0; "backward" holds only what the parts nested in it (checkpointing's recomputed steps,
 * the decode and the reward) do not.
 */
export const PHASES = ["text_encoder", "unet_no_grad", "unet_grad", "backward", "vae_decode", "reward", "optimizer"] as const;
export type Phase = (typeof PHASES)[number];

export type PhaseHook = <T>(name: Phase, fn: () => T) => T;

const slot = new HookSlot<PhaseHook>("withPhaseHook", "a phase hook");

export function phase<T>(name: Phase, fn: () => T): T {
  const hook = slot.current;
  return hook ? hook(name, fn) : fn();
}

/** Runs `fn` with `h` measuring every phase it enters; the hook is removed when `fn` returns or throws. */
export function withPhaseHook<T>(h: PhaseHook, fn: () => T): T {
  return slot.with(h, fn);
}
