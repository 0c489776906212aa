/**
 * How the run ended, shown as the dashboard's last frame: done in green, or failed in red with the error and the
 * last lines the trainer wrote to stderr.
 */
import { Box, Text } from "ink";
import type { JSX } from "react";
import type { RunOutcome } from "./outcome.js";

export interface FinalStatusProps {
  outcome: RunOutcome;
  stderrTail: string;
  /** Most stderr lines to show. */
  maxLines: number;
}

export function FinalStatus({ outcome, stderrTail, maxLines }: FinalStatusProps): JSX.Element {
  const tail = outcome.ok || !stderrTail ? [] : stderrTail.trimEnd().split("\n").slice(-maxLines);
  return (
    <Box flexDirection="column">
      <Text bold color={outcome.ok ? "green" : "red"}>
        {outcome.ok ? `✔ ${outcome.summary}` : `✖ failed: ${outcome.summary}`}
      </Text>
      {tail.map((line, i) => (
        <Text key={i} dimColor wrap="truncate-end">
          {`  ${line}`}
        </Text>
      ))}
    </Box>
  );
}
