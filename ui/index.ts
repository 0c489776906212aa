export { App, type AppProps } from "./App.js";
export { FinalStatus, type FinalStatusProps } from "./FinalStatus.js";
export { Header, type HeaderProps } from "./Header.js";
export { runHeadless, eventJson, PROGRESS_EVERY, type HeadlessStreams } from "./headless.js";
export { HelpOverlay, type HelpOverlayProps } from "./HelpOverlay.js";
export { ImagePane, type ImagePaneProps } from "./ImagePane.js";
export { KeyHints, type KeyHintsProps } from "./KeyHints.js";
export { LineChart, type LineChartProps } from "./LineChart.js";
export { LogPane, type LogPaneProps } from "./LogPane.js";
export { renderLineChart, type ChartPoint, type ChartSize } from "./render-line-chart.js";
export { runOutcome, type RunOutcome } from "./outcome.js";
export {
  appendLog,
  etaSeconds,
  initialRunView,
  reduceRunView,
  samplesPerSecond,
  type FinalError,
  type LogLine,
  type MetricPoint,
  type RunView,
} from "./run-view.js";
export { StopConfirm } from "./StopConfirm.js";
export type { DashboardMode } from "./use-controls.js";
