/**
 * The run at a glance: run id, backend, the number of processes of a data-parallel run, state (PAUSED stands out in
 * inverse yellow), step/total, epoch, ETA and samples/s, with the trainer's latest status message underneath when it
 * has one; while the run is STARTING, a progress bar with the download's amounts, rate and ETA.
 */
import { Box, Text } from "ink";
import type { JSX } from "react";
import { RunState } from "../src/gen/alignprop/v1/alignprop_pb.js";
import { formatDuration, formatNumber, formatProcesses, stateName } from "./format.js";
import { progressBar, progressText } from "./progress.js";
import { etaSeconds, formatScalars, samplesPerSecond, type RunView } from "./run-view.js";

export interface HeaderProps {
  view: RunView;
  width: number;
}

const STATE_COLOURS: Partial<Record<RunState, string>> = {
  [RunState.STARTING]: "cyan",
  [RunState.RUNNING]: "green",
  [RunState.PAUSED]: "yellow",
  [RunState.STOPPING]: "cyan",
  [RunState.DONE]: "green",
  [RunState.FAILED]: "red",
};

export function Header({ view, width }: HeaderProps): JSX.Element {
  const speed = samplesPerSecond(view);
  const processes = formatProcesses(view.worldSize);
  const scalars = formatScalars(view.metrics.at(-1)?.scalars);
  const progress = view.total > 0 ? `step ${view.step}/${view.total}` : `step ${view.step}`;
  return (
    <Box flexDirection="column" width={width}>
      <Text wrap="truncate-end">
        <Text bold>alignprop</Text> · run {view.runId || "…"} · backend {view.backend || "…"}
        {processes ? ` · ${processes}` : ""}
        {view.runDir ? <Text dimColor> · {view.runDir}</Text> : null}
      </Text>
      <Text wrap="truncate-end">
        <Text bold inverse={view.state === RunState.PAUSED} color={STATE_COLOURS[view.state]}>
          {` ${view.state === RunState.UNSPECIFIED ? "WAITING" : stateName(view.state)} `}
        </Text>
        {`  ${progress}  epoch ${view.epoch}  ETA ${formatDuration(etaSeconds(view))}  `}
        {`${speed === undefined ? "—" : formatNumber(speed)} samples/s`}
        {scalars ? <Text dimColor>{`  ${scalars}`}</Text> : null}
      </Text>
      {view.state === RunState.STARTING && view.progress ? (
        <Text wrap="truncate-end">
          <Text color="cyan">{progressBar(view.progress, Math.min(30, Math.max(10, width - 60)))}</Text> {progressText(view.progress)}
        </Text>
      ) : null}
      {view.message ? (
        <Text dimColor wrap="truncate-end">
          {view.message}
        </Text>
      ) : null}
    </Box>
  );
}
