/**
 * The newest log lines that fit, one per row, coloured by level (errors red, warnings yellow, debug dim); the level
 * is also spelled out so the pane reads the same without colour.
 */
import { Box, Text } from "ink";
import type { JSX } from "react";
import { LogLevel } from "../src/gen/alignprop/v1/alignprop_pb.js";
import type { LogLine } from "./run-view.js";

export interface LogPaneProps {
  lines: readonly LogLine[];
  width: number;
  height: number;
}

const STYLE: Record<LogLevel, { tag: string; color?: string; dim?: boolean }> = {
  [LogLevel.UNSPECIFIED]: { tag: "info " },
  [LogLevel.DEBUG]: { tag: "debug", dim: true },
  [LogLevel.INFO]: { tag: "info " },
  [LogLevel.WARN]: { tag: "warn ", color: "yellow" },
  [LogLevel.ERROR]: { tag: "error", color: "red" },
};

export function LogPane({ lines, width, height }: LogPaneProps): JSX.Element {
  const shown = height > 0 ? lines.slice(-height) : [];
  return (
    <Box flexDirection="column" width={width} height={height}>
      {shown.map((line, i) => {
        const style = STYLE[line.level] ?? STYLE[LogLevel.INFO];
        return (
          <Text key={lines.length - shown.length + i} color={style.color} dimColor={style.dim} wrap="truncate-end">
            {`${style.tag} ${line.text}`}
          </Text>
        );
      })}
    </Box>
  );
}
