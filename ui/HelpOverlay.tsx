/**
 * The key reference shown over the charts while `?` is toggled on; `d` is listed only when attached, because only
 * an attached dashboard can leave the trainer running behind it.
 */
import { Box, Text } from "ink";
import type { JSX } from "react";
import { canControl, canDetach, type DashboardMode } from "./use-controls.js";

export interface HelpOverlayProps {
  mode: DashboardMode;
}

export function HelpOverlay({ mode }: HelpOverlayProps): JSX.Element {
  const keys: [string, string][] = [
    ...(canControl(mode)
      ? ([
          ["p, space", "pause / resume training"],
          ["c", "save a checkpoint now"],
          ["q", "stop training (asks first)"],
        ] as [string, string][])
      : []),
    ...(canDetach(mode) ? [["d", "detach: leave the trainer running"] as [string, string]] : []),
    ["← / →", "show earlier / later images"],
    ["?", "close this help"],
  ];
  return (
    <Box flexDirection="column" borderStyle="round" paddingX={1}>
      <Text bold>Keys</Text>
      {keys.map(([key, what]) => (
        <Text key={key}>
          <Text color="cyan">{key.padEnd(9)}</Text> {what}
        </Text>
      ))}
    </Box>
  );
}
