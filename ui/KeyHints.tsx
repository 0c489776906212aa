/**
 * The one-line reminder of the keys at the bottom of the dashboard, with `d` only in attach mode.
 */
import { Text } from "ink";
import type { JSX } from "react";
import type { DashboardMode } from "./use-controls.js";

export interface KeyHintsProps {
  mode: DashboardMode;
}

export function KeyHints({ mode }: KeyHintsProps): JSX.Element {
  const detach = mode === "attach" ? " · d detach" : "";
  return (
    <Text dimColor wrap="truncate-end">
      {`p pause/resume · c checkpoint · q stop${detach} · ←/→ images · ? help`}
    </Text>
  );
}
