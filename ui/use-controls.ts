/**
 * The dashboard's keys: `p`/space pause or resume (whichever the run's state calls for), `c` checkpoint, `q` then
 * `y` stop, `d` detach (attach and observe modes), `←/→` move through the images, `?` help, Ctrl+C stop (train) or
 * detach (attach, observe). An observer's p/c/q only explain that they need a controller key. Every command's
 * acknowledgement or failure is written to the log.
 */
import { useInput } from "ink";
import { useLayoutEffect, useRef, useState } from "react";
import { LogLevel, RunState, type CommandResult } from "../src/gen/alignprop/v1/alignprop_pb.js";
import type { RunController } from "../src/bridge/run-controller.js";
import { stateName, thrownText } from "./format.js";
import { clampOffset } from "./image-grid.js";

/**
 * `train`: this dashboard started the trainer. `attach`: it joined a running one and may leave it running.
 * `observe`: it joined read-only — it can watch and leave, never pause, checkpoint or stop.
 */
export type DashboardMode = "train" | "attach" | "observe";
export const canControl = (mode: DashboardMode): boolean => mode !== "observe";
export const canDetach = (mode: DashboardMode): boolean => mode !== "train";
export type Overlay = "none" | "help" | "confirm-stop";

export interface ControlsOptions {
  controller: RunController;
  mode: DashboardMode;
  state: RunState;
  imageCount: number;
  imagesPerPage: number;
  /** False once the run ended or the dashboard detached: keys then do nothing. */
  active: boolean;
  log: (level: LogLevel, text: string) => void;
  detach: () => void;
}

export interface Controls {
  overlay: Overlay;
  imageOffset: number;
}

export function useControls(options: ControlsOptions): Controls {
  // Keys are read through refs set at commit time, so a key pressed right after a render already sees that render's
  // state, even before Ink re-registers the input handler.
  const latest = useRef(options);
  useLayoutEffect(() => {
    latest.current = options;
  });
  const overlay = useRef<Overlay>("none");
  const [shownOverlay, setShownOverlay] = useState<Overlay>("none");
  const show = (next: Overlay): void => {
    overlay.current = next;
    setShownOverlay(next);
  };
  const [imageOffset, setImageOffset] = useState(0);

  useInput(
    (input, key) => {
      const { controller, log, imageCount, imagesPerPage } = latest.current;
      if (key.ctrl) {
        // Raw mode keeps the terminal from turning Ctrl+C into SIGINT, so the dashboard does what SIGINT would: a
        // trainer it started stops cleanly (finishes the step, saves); one it attached to keeps running.
        if (input !== "c") return;
        if (canDetach(latest.current.mode)) latest.current.detach();
        else void send("stop", () => controller.stop(), log);
        return;
      }
      const clamp = (offset: number): number => clampOffset(offset, imageCount, imagesPerPage);
      const moveImages = (by: number): void => setImageOffset((offset) => clamp(clamp(offset) + by));
      const control = canControl(latest.current.mode);
      if (!control && "pcq ".includes(input)) {
        log(LogLevel.WARN, "read-only observer: pause, checkpoint and stop need a controller key");
      } else if (overlay.current === "confirm-stop") {
        show("none");
        if (input === "y") void send("stop", () => controller.stop(), log);
        else log(LogLevel.INFO, "stop cancelled");
      } else if (input === "?" || (overlay.current === "help" && key.escape)) {
        show(overlay.current === "help" ? "none" : "help");
      } else if (input === "p" || input === " ") {
        if (latest.current.state === RunState.PAUSED) void send("resume", () => controller.resume(), log);
        else void send("pause", () => controller.pause(), log);
      } else if (input === "c") {
        void send("checkpoint", () => controller.checkpointNow(), log);
      } else if (input === "q") {
        show("confirm-stop");
      } else if (input === "d" && canDetach(latest.current.mode)) {
        latest.current.detach();
      } else if (key.leftArrow) {
        moveImages(-1);
      } else if (key.rightArrow) {
        moveImages(1);
      }
    },
    { isActive: options.active },
  );
  return { overlay: shownOverlay, imageOffset: clampOffset(imageOffset, options.imageCount, options.imagesPerPage) };
}

async function send(
  label: string,
  command: () => Promise<CommandResult>,
  log: (level: LogLevel, text: string) => void,
): Promise<void> {
  try {
    const result = await command();
    const detail = `${result.message || "ok"} (state ${stateName(result.state)})`;
    if (result.ok) log(LogLevel.INFO, `${label}: ${detail}`);
    else log(LogLevel.ERROR, `${label} refused: ${detail}`);
  } catch (thrown) {
    log(LogLevel.ERROR, `${label} failed: ${thrownText(thrown)}`);
  }
}
