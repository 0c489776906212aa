/**
 * Where each pane goes for a terminal size. The image pane is the first thing dropped when the terminal is narrow
 * or short, so the header, charts and log never break; the total stays below `rows` so Ink never has to scroll.
 */

export interface DashboardLayout {
  /** Height of the charts / images row. */
  middleHeight: number;
  chartWidth: number;
  /** 0 when the image pane is hidden. */
  imageWidth: number;
  logHeight: number;
}

/** Lines kept for the header (3) and the key hints (1), plus one spare so the frame never fills the screen. */
const FIXED_ROWS = 5;
/** Narrower than this, the image pane is dropped. */
export const MIN_COLUMNS_FOR_IMAGES = 80;
const MIN_ROWS_FOR_IMAGES = 5;
/** Columns between the charts and the image pane. */
export const PANE_GAP = 2;

export function dashboardLayout(columns: number, rows: number): DashboardLayout {
  const logHeight = Math.max(1, Math.min(10, Math.floor(rows / 4)));
  const middleHeight = Math.max(0, rows - FIXED_ROWS - logHeight);
  const images = columns >= MIN_COLUMNS_FOR_IMAGES && middleHeight >= MIN_ROWS_FOR_IMAGES;
  const imageWidth = images ? Math.floor(columns * 0.45) : 0;
  return {
    middleHeight,
    chartWidth: images ? columns - imageWidth - PANE_GAP : columns,
    imageWidth,
    logHeight,
  };
}
