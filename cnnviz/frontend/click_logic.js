// What a click view (click_view.js) decides, kept apart from the DOM so `node --test` can check it.
//
// A picture of `rows` x `cols` pixels (the picture the engine computed, before any enlarging
// or shrinking for the screen) is shown `shownWidth` x `shownHeight` CSS pixels large; a
// click lands `x`, `y` CSS pixels from its top-left corner.

/** The picture pixel under a click, as {row, col}, or null for a click off the picture. */
export function pixelAt(x, y, shownWidth, shownHeight, rows, cols) {
  if (!(shownWidth > 0 && shownHeight > 0) || x < 0 || y < 0 || x > shownWidth || y > shownHeight) return null;
  // A click on the far edge belongs to the last pixel, not to one past it.
  const row = Math.min(rows - 1, Math.floor((y / shownHeight) * rows));
  const col = Math.min(cols - 1, Math.floor((x / shownWidth) * cols));
  return { row, col };
}

/** The pixel a key press moves to from `at` (arrow keys), kept on the picture; null for other keys. */
export function pixelAfterKey(key, at, rows, cols) {
  const moves = { ArrowUp: [-1, 0], ArrowDown: [1, 0], ArrowLeft: [0, -1], ArrowRight: [0, 1] };
  if (!(key in moves)) return null;
  const [down, right] = moves[key];
  return {
    row: Math.min(rows - 1, Math.max(0, at.row + down)),
    col: Math.min(cols - 1, Math.max(0, at.col + right)),
  };
}
