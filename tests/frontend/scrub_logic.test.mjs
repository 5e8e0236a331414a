// node --test tests/frontend/ : the scrubbing view's logic (cnnviz/frontend/scrub_logic.js).
import { test } from "node:test";
import assert from "node:assert/strict";
import { gzipSync } from "node:zlib";

import {
  canUseClipboard, changedSlots, findFrame, frameFor, gunzipJson, isPictureSet, isPlace, keptSets, keyClass, keyClassIn,
  pictureFor, placeId, sameNames, sameValues, shownValue, slidersReady, slotPlaces, snap, valueText, valuesOnArrival,
} from "../../cnnviz/frontend/scrub_logic.js";

// Two sliders around a = 1, b = 4; b moves in steps of 2. Parts: "a=…,b=…" strings.
const frameSet = {
  sliders: [
    { name: "a", label: "A", low: 0, high: 3, step: 1, value: 1 },
    { name: "b", label: "B", low: 2, high: 8, step: 2, value: 4 },
  ],
  base: { a: 1, b: 4 },
  parts: ["a=0", "a=1", "a=2", "a=3", "b=2", "b=4", "b=6", "b=8"],
  frames: { a: [[0, 5], [1, 5], [2, 5], [3, 5]], b: [[1, 4], [1, 5], [1, 6], [1, 7]] },
};

test("each value shows the frame drawn for it", () => {
  for (let a = 0; a <= 3; a += 1) assert.deepEqual(frameFor(frameSet, { a, b: 4 }, "a"), [a, 5]);
  assert.deepEqual(frameFor(frameSet, { a: 1, b: 2 }, "b"), [1, 4]);
  assert.deepEqual(frameFor(frameSet, { a: 1, b: 8 }, "b"), [1, 7]); // the far end
});

test("no frame while another slider is off the frame set's base", () => {
  assert.equal(frameFor(frameSet, { a: 2, b: 6 }, "b"), null);
});

test("values snap onto the range and its steps", () => {
  const b = frameSet.sliders[1];
  assert.equal(snap(b, 5), 6);
  assert.equal(snap(b, 100), 8);
  assert.equal(snap(b, -3), 2);
});

test("a slider writes its value, or the server's text for it", () => {
  assert.equal(valueText(frameSet.sliders[1], 6), "6");
  const logit = { name: "logit", low: -50, high: 50, step: 1, texts: ["−5.0", "−4.9"] };
  assert.equal(valueText(logit, -49), "−4.9"); // tenths of a logit, as the server wrote them
  assert.equal(valueText({ ...logit, low: 0, step: 5, texts: ["0.00", "0.05"] }, 5), "0.05");
  assert.equal(valueText(undefined, 3), "3");
});

test("only changed slots are redrawn", () => {
  assert.deepEqual(changedSlots(null, [1, 5]), [0, 1]);
  assert.deepEqual(changedSlots([1, 5], [2, 5]), [0]);
  assert.deepEqual(changedSlots([1, 5], [1, 5]), []);
});

test("a new frame set moves every slider but the one held", () => {
  const next = { ...frameSet, base: { a: 3, b: 2 } };
  assert.deepEqual(valuesOnArrival(next, { a: 1, b: 6 }, null), { a: 3, b: 2 });
  assert.deepEqual(valuesOnArrival(next, { a: 1, b: 6 }, "b"), { a: 3, b: 6 });
  assert.deepEqual(valuesOnArrival(next, null, null), { a: 3, b: 2 });
});

test("the frame set arrives as gzipped JSON bytes", async () => {
  const bytes = gzipSync(Buffer.from(JSON.stringify(frameSet)));
  assert.deepEqual(await gunzipJson(new Uint8Array(bytes)), frameSet);
});

test("a frame set drawn before the last release reached the server keeps the sliders where they are", () => {
  const older = { ...frameSet, base: { a: 2, b: 4 } }; // the first of two quick key presses (a: 1 -> 2 -> 3)
  assert.deepEqual(valuesOnArrival(older, { a: 3, b: 4 }, null, { a: 3, b: 4 }), { a: 3, b: 4 });
  const caughtUp = { ...frameSet, base: { a: 3, b: 4 } };
  assert.deepEqual(valuesOnArrival(caughtUp, { a: 3, b: 4 }, null, { a: 3, b: 4 }), { a: 3, b: 4 });
  assert.ok(sameValues({ a: 3 }, { a: 3, b: 9 }) && !sameValues({ a: 3 }, { a: 2 }));
});

test("a new set of slider names is told apart from the same names", () => {
  assert.equal(sameNames(["size", "stride", "position"], ["size", "stride", "position"]), true);
  assert.equal(sameNames(["size", "stride", "position"], ["stride", "position"]), false); // a typed grid: no size
  assert.equal(sameNames(["a", "b"], ["b", "a"]), false);
});

// A slider in steps of 0.1 (an activation's parameter): 0.1 * 3 is 0.30000000000000004 in floats.
const fine = {
  sliders: [{ name: "alpha", label: "α", low: 0.1, high: 0.5, step: 0.1, value: 0.3 }],
  base: { alpha: 0.3 },
  parts: ["0.1", "0.2", "0.3", "0.4", "0.5"],
  frames: { alpha: [[0], [1], [2], [3], [4]] },
};

test("a slider in decimal steps finds its frame, snaps and is shown without float noise", () => {
  for (const [value, index] of [[0.1, 0], [0.30000000000000004, 2], [0.4, 3], [0.5, 4]]) {
    assert.deepEqual(frameFor(fine, { alpha: value }, "alpha"), [index]);
  }
  assert.equal(snap(fine.sliders[0], 0.26), 0.3);
  assert.equal(shownValue(fine.sliders[0], 0.1 + 0.2), "0.3");
  assert.equal(shownValue({ low: -20, high: 20, step: 0.5 }, -6), "−6.0");
  assert.equal(shownValue({ low: 0, high: 3, step: 1 }, 2), "2");
});

// A lazy view (Convolution on the photo): a set holds the base frame ("rest") and at most the pressed slider's frames.
const lazy = (base, frames, context = "photo") => ({ ...frameSet, base, frames, rest: [1, 5], lazy: true, context });

test("a lazy set without a slider's frames shows its base frame only", () => {
  const resting = lazy({ a: 1, b: 4 }, {});
  assert.deepEqual(frameFor(resting, { a: 1, b: 4 }, "b"), [1, 5]);
  assert.equal(frameFor(resting, { a: 1, b: 6 }, "b"), null); // pressed, frames not here yet
  assert.deepEqual(slidersReady([resting], { a: 1, b: 4 }), []);
});

test("frames kept from an earlier set serve while the other sliders keep their values", () => {
  const bFrames = lazy({ a: 1, b: 4 }, { b: frameSet.frames.b });
  const released = lazy({ a: 1, b: 8 }, {}); // b released at 8: its frames still hold (a has not moved)
  const kept = keptSets(released, keptSets(bFrames, []));
  assert.deepEqual(kept, [released, bFrames]);
  assert.deepEqual(findFrame(kept, { a: 1, b: 6 }, "b"), { frameSet: bFrames, frame: [1, 6] });
  assert.deepEqual(slidersReady(kept, { a: 1, b: 8 }), ["b"]);
  const aMoved = lazy({ a: 2, b: 8 }, {}); // a released elsewhere: b's frames were drawn for a = 1
  assert.equal(findFrame(keptSets(aMoved, kept), { a: 2, b: 6 }, "b"), null);
  assert.deepEqual(slidersReady(keptSets(aMoved, kept), { a: 2, b: 8 }), []);
});

test("a new context (another photo, kernel or click) drops the frames kept", () => {
  const bFrames = lazy({ a: 1, b: 4 }, { b: frameSet.frames.b });
  const clicked = lazy({ a: 1, b: 4 }, {}, "photo, pixel 3,4");
  assert.deepEqual(keptSets(clicked, [bFrames]), [clicked]);
  const more = [1, 2, 3, 4, 5, 6].map((a) => lazy({ a, b: 4 }, { b: frameSet.frames.b }));
  assert.equal(keptSets(lazy({ a: 0, b: 4 }, {}), more).length, 5); // the newest few
});

test("a picture set is told from a frame set, and a picture is found in whichever set holds it", () => {
  assert.equal(isPictureSet({ pictures: { p1: "data:image/webp;base64,AA" } }), true);
  assert.equal(isPictureSet(frameSet), false);
  const sets = [{ p1: "data:1" }, { p2: "data:2", p1: "data:1" }];
  assert.equal(pictureFor(sets, "p2"), "data:2");
  assert.equal(pictureFor(sets.values(), "p1"), "data:1"); // any iterable of sets (a Map's values)
  assert.equal(pictureFor(sets, "p3"), null); // not arrived yet
  assert.equal(pictureFor([{}], "toString"), null); // an id is looked up as an own key only
});

test("a frame set's places say which slots are drawn outside the view", () => {
  const layout = { class: "x", places: { code: [2], words: [3] } };
  assert.deepEqual(slotPlaces(layout, 4), [null, null, "code", "words"]);
  assert.deepEqual(slotPlaces({ class: "x" }, 2), [null, null]); // no places: every slot in the view
  assert.deepEqual(slotPlaces(undefined, 1), [null]);
  assert.deepEqual(slotPlaces({ places: { code: [5] } }, 2), [null, null]); // a slot the frames lack: ignored
});

test("a place payload is told from frame sets and picture sets", () => {
  assert.ok(isPlace({ place: "code", view: "size.scrub" }));
  assert.ok(!isPlace({ place: "code" }) && !isPlace({ pictures: {} }) && !isPlace(null));
  assert.ok(!isPlace({ ...frameSet, place: "code", view: "size.scrub" })); // a frame set is a view, whatever else it holds
});

test("a widget key is found by the class Streamlit gives its element", () => {
  assert.equal(keyClass("size.scrub"), "st-key-size-scrub");
  assert.equal(keyClass("a b/c_d-e"), "st-key-a-b-c_d-e"); // as pages/ui.py writes it
  assert.equal(keyClassIn(["stElementContainer", "element-container", "st-key-size-scrub"]), "st-key-size-scrub");
  assert.equal(keyClassIn(["stElementContainer"]), "");
  assert.equal(placeId("st-key-size-scrub", "code"), placeId(keyClass("size.scrub"), "code"));
  assert.notEqual(placeId("st-key-size-scrub", "code"), placeId("st-key-size-scrub", "frameworks"));
});

test("the clipboard API is used on secure pages only; others copy through a text area", () => {
  const clipboard = { writeText: async () => {} };
  assert.equal(canUseClipboard({ clipboard }, true), true);
  assert.equal(canUseClipboard({ clipboard }, false), false); // an http page
  assert.equal(canUseClipboard({}, true), false);
});
