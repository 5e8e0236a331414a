// node --test tests/frontend/ : the click view's logic (cnnviz/frontend/click_logic.js).
import { test } from "node:test";
import assert from "node:assert/strict";

import { pixelAfterKey, pixelAt } from "../../cnnviz/frontend/click_logic.js";

test("a click maps to the picture's own pixels, whatever its size on screen", () => {
  // A 1024 x 768 photo shown 480 x 360: CSS pixel 240, 180 is the photo's centre.
  assert.deepEqual(pixelAt(240, 180, 480, 360, 768, 1024), { row: 384, col: 512 });
  assert.deepEqual(pixelAt(0, 0, 480, 360, 768, 1024), { row: 0, col: 0 });
  // A 5 x 5 map enlarged to 250 px: each pixel is a 50 px square.
  assert.deepEqual(pixelAt(49.9, 50, 250, 250, 5, 5), { row: 1, col: 0 });
});

test("the far edge is the last pixel; off the picture is nothing", () => {
  assert.deepEqual(pixelAt(480, 360, 480, 360, 768, 1024), { row: 767, col: 1023 });
  assert.equal(pixelAt(-1, 10, 480, 360, 768, 1024), null);
  assert.equal(pixelAt(10, 361, 480, 360, 768, 1024), null);
  assert.equal(pixelAt(10, 10, 0, 0, 768, 1024), null);
});

test("arrow keys move one pixel and stop at the edges", () => {
  assert.deepEqual(pixelAfterKey("ArrowRight", { row: 2, col: 4 }, 5, 5), { row: 2, col: 4 });
  assert.deepEqual(pixelAfterKey("ArrowUp", { row: 0, col: 1 }, 5, 5), { row: 0, col: 1 });
  assert.deepEqual(pixelAfterKey("ArrowDown", { row: 0, col: 1 }, 5, 5), { row: 1, col: 1 });
  assert.equal(pixelAfterKey("Enter", { row: 0, col: 1 }, 5, 5), null);
});
