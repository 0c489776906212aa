/**
 * The one-line reminder of the keys at the bottom of the dashboard: `d` only when detaching is possible, and only
 * `d` for a read-only observer.
 */
import { Text } from "ink";
import type { JSX } from "react";
import { canControl, canDetach, type DashboardMode } from "./use-controls.js";

export interface KeyHintsProps {
  mode: DashboardMode;
}

export function KeyHints({ mode }: KeyHintsProps): JSX.Element {
  const control = canControl(mode) ? "p pause/resume · c checkpoint · q stop · " : "read-only observer · ";
  const detach = canDetach(mode) ? "d detach · " : "";
  return (
    <Text dimColor wrap="truncate-end">
      {`${control}${detach}←/→ images · ? help`}
    </Text>
  );
}
