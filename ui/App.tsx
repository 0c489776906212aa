/**
 * The dashboard: header, reward/loss charts beside the latest images, the log, and the key hints, laid out for
 * the terminal's current size. It consumes the controller's event stream until it ends, then shows how the run
 * ended and exits: `exit()` when it reached DONE, `exit(error)` otherwise (or on detach, `exit()` without stopping).
 */
import { Box, useApp } from "ink";
import { useCallback, useEffect, useRef, useState, type JSX } from "react";
import { LogLevel } from "../src/gen/alignprop/v1/alignprop_pb.js";
import type { RunController } from "../src/bridge/run-controller.js";
import { FinalStatus } from "./FinalStatus.js";
import { thrownText } from "./format.js";
import { Header } from "./Header.js";
import { HelpOverlay } from "./HelpOverlay.js";
import { imageGrid } from "./image-grid.js";
import { ImagePane } from "./ImagePane.js";
import { KeyHints } from "./KeyHints.js";
import { dashboardLayout, PANE_GAP } from "./layout.js";
import { LineChart } from "./LineChart.js";
import { LogPane } from "./LogPane.js";
import { runOutcome } from "./outcome.js";
import { StopConfirm } from "./StopConfirm.js";
import { useControls, type DashboardMode } from "./use-controls.js";
import { useRunEvents } from "./use-run-events.js";
import { useTerminalSize } from "./use-terminal-size.js";

export interface AppProps {
  controller: RunController;
  mode: DashboardMode;
  /** Called once, just before the app exits: with an Error when the run failed (or detaching failed). */
  onExit?: (error?: Error) => void;
}

/** stderr lines of a failed run shown in the final frame. */
const STDERR_LINES = 5;

export function App({ controller, mode, onExit }: AppProps): JSX.Element {
  const { exit } = useApp();
  const { columns, rows } = useTerminalSize();
  const { view, end, log } = useRunEvents(controller);
  const [detached, setDetached] = useState(false);
  const exited = useRef(false);

  const finish = useCallback(
    (error?: Error) => {
      if (exited.current) return;
      exited.current = true;
      onExit?.(error);
      exit(error);
    },
    [onExit, exit],
  );
  const detach = (): void => {
    setDetached(true);
    log(LogLevel.INFO, "detaching; the trainer keeps running");
    controller.close().then(
      () => finish(),
      (thrown: unknown) => finish(new Error(`detach failed: ${thrownText(thrown)}`)),
    );
  };

  const layout = dashboardLayout(columns, rows);
  // Once the run evaluates, the eval strip (the same seeds each time, so drift shows) takes the lower part of the pane.
  const evalBatch = view.latestEval?.images;
  const evalHeight = evalBatch ? Math.floor(layout.middleHeight / 2) : 0;
  const imagesHeight = layout.middleHeight - evalHeight;
  const grid = imageGrid(view.images, layout.imageWidth, imagesHeight);
  const outcome = end && !detached ? runOutcome(view, end.streamError) : undefined;
  const { overlay, imageOffset } = useControls({
    controller,
    mode,
    state: view.state,
    imageCount: view.images?.images.length ?? 0,
    imagesPerPage: grid.perPage,
    active: end === undefined && !detached,
    log,
    detach,
  });

  useEffect(() => {
    if (outcome) finish(outcome.ok ? undefined : new Error(outcome.summary));
  }, [outcome, finish]);

  return (
    <Box flexDirection="column" width={columns}>
      <Header view={view} width={columns} />
      <Box height={layout.middleHeight} columnGap={PANE_GAP}>
        {overlay === "help" ? (
          <HelpOverlay mode={mode} />
        ) : (
          <>
            <LineChart points={view.metrics} evals={view.evals} width={layout.chartWidth} height={layout.middleHeight} />
            {layout.imageWidth > 0 ? (
              <Box flexDirection="column" width={layout.imageWidth} height={layout.middleHeight}>
                <ImagePane batch={view.images} width={layout.imageWidth} height={imagesHeight} offset={imageOffset} />
                {evalBatch ? <ImagePane batch={evalBatch} width={layout.imageWidth} height={evalHeight} offset={0} title="eval" /> : null}
              </Box>
            ) : null}
          </>
        )}
      </Box>
      <LogPane lines={view.logs} width={columns} height={layout.logHeight} />
      {outcome ? (
        <FinalStatus outcome={outcome} stderrTail={view.error?.stderrTail ?? ""} maxLines={STDERR_LINES} />
      ) : overlay === "confirm-stop" ? (
        <StopConfirm />
      ) : (
        <KeyHints mode={mode} />
      )}
    </Box>
  );
}
