import assert from "node:assert/strict";
import { test } from "node:test";
import { dashboardLayout, MIN_COLUMNS_FOR_IMAGES, PANE_GAP } from "../../ui/layout.js";

test("a wide terminal puts the image pane beside the charts and fills the width", () => {
  const layout = dashboardLayout(120, 40);
  assert.ok(layout.imageWidth > 0);
  assert.equal(layout.chartWidth + PANE_GAP + layout.imageWidth, 120);
});

test("a narrow terminal drops the image pane and gives the charts the full width", () => {
  const layout = dashboardLayout(MIN_COLUMNS_FOR_IMAGES - 1, 40);
  assert.equal(layout.imageWidth, 0);
  assert.equal(layout.chartWidth, MIN_COLUMNS_FOR_IMAGES - 1);
});

test("a short terminal drops the image pane too, and the frame stays below the terminal height", () => {
  const headerAndHints = 4;
  for (let rows = 6; rows <= 60; rows++) {
    const layout = dashboardLayout(120, rows);
    assert.ok(layout.middleHeight + layout.logHeight + headerAndHints < rows, `rows=${rows}`);
  }
  assert.equal(dashboardLayout(120, 10).imageWidth, 0);
});
