/** The run report: `runs/<name>/report.html`, one self-contained page of a run's curves and images. */
export { writeReport } from "./write-report.js";
export { readRun, type RunReport, type MetricRow, type ImageStep, type ReportImage } from "./read-run.js";
export { reportHtml } from "./report-html.js";
export { lineChartSvg, type LineChart, type Series, type ChartPoint } from "./line-chart.js";
