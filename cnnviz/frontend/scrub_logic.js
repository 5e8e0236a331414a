// What a scrubbing view decides, apart from the page: which frame a slider value shows,
// what changed between two frames, and how the frame set arrives. No DOM here, so
// `node --test tests/frontend/` can check it (scrub_view.js does the drawing).
//
// A frame set (made by cnnviz/drawing/frames.py, sent gzipped as JSON bytes):
//   { sliders: [{name, label, low, high, step, value, help, texts}],   // help, texts (optional): the label's "?" sentence, what each value reads as
//     base:    {name: value},           // the settings every slider's frames were drawn around
//     parts:   ["<svg…>", "<math…>"],   // each distinct piece of HTML once
//     frames:  {name: [[part index, …] for each value low..high]},
//     rest:    [part index, …],         // the frame of the base settings
//     lazy:    true,                    // optional: frames holds only the sliders asked for (pressed)
//     context: "…",                     // optional: what else the frames depend on (a photo, a kernel)
//     layout:  {class: "a-view-class", inline: [slot index, …],  // optional: slots laid side by side,
//               places: {name: [slot index, …]}} }               // slots drawn in places (below)
// The frame for slider `name` at `value` is frames[name][(value - low) / step]: the server
// drew it for {...base, [name]: value}. Only the browser moves; the numbers are the engine's.
// A lazy view (frames that are pictures) asks for a slider's frames when it is pressed, and keeps
// the frame sets it got while they still hold: a slider's frames depend only on the other
// sliders, so they stay right while those keep the values they were drawn around (same context).
//
// Places: a slot named in layout.places is drawn in a place, not in the view's element. A place is
// the same component mounted elsewhere on the page with
//   { place: "code", view: "size.scrub" }       // the place's name, the view's widget key
// (pages/scrub_view.py: place). The view moves that place's slots into the place's element and swaps
// their parts as its own; a page finds a view's element by the class Streamlit gives it ("st-key-…").
//
// A picture set (frames.py: split_pictures), mounted as an element of its own beside a view:
//   { pictures: {id: "data:image/webp;base64,…"} }
// A part's <img data-picture-id="id"> shows pictures[id].

/** The JSON object in gzip-compressed bytes (a Uint8Array or an ArrayBuffer). */
export async function gunzipJson(bytes) {
  const stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream("gzip"));
  return JSON.parse(await new Response(stream).text());
}

/** The slider called `name` in the frame set. */
export function sliderNamed(frameSet, name) {
  return frameSet.sliders.find((slider) => slider.name === name);
}

/** What the view writes for a slider's value: its `texts` entry when the server wrote one (a logit
 * held in tenths, -15, reads "−1.5"), else the value with its step's decimals. */
export function valueText(slider, value) {
  if (!slider) return String(value);
  const text = slider.texts ? slider.texts[Math.round((snap(slider, value) - slider.low) / slider.step)] : undefined;
  return text === undefined ? shownValue(slider, value) : text;
}

/** Digits after the point in a slider's step (0.1 -> 1, 0.01 -> 2, 1 -> 0). */
export function decimalsOf(step) {
  const text = String(step);
  return text.includes(".") ? text.length - text.indexOf(".") - 1 : 0;
}

/** A value moved onto the slider's range and steps (what an <input type=range> would hold),
 * rounded to the step's decimals (0.1 * 3 is 0.30000000000000004 in floats). */
export function snap(slider, value) {
  const steps = Math.round((value - slider.low) / slider.step);
  const snapped = Math.min(slider.high, Math.max(slider.low, slider.low + steps * slider.step));
  return Number(snapped.toFixed(decimalsOf(slider.step)));
}

/** The value as the slider's readout writes it: as many decimals as its step has, a true minus ("−6.0", "0.25", "3"). */
export function shownValue(slider, value) {
  return snap(slider, value).toFixed(decimalsOf(slider.step)).replace("-", "−");
}

/** Whether two values of a slider are the same step (floats from the page and from JSON may differ in the last bit). */
function sameStep(slider, a, b) {
  return Math.abs(a - b) < slider.step / 1000;
}

/**
 * The part indices to show when slider `name` is at values[name], or null when the frame
 * set cannot say: another slider has moved away from the base the frames were drawn
 * around (it was released, and the server has not yet sent the frames for its new value).
 */
export function frameFor(frameSet, values, name) {
  for (const slider of frameSet.sliders) {
    if (slider.name !== name && !sameStep(slider, values[slider.name], frameSet.base[slider.name])) return null;
  }
  const slider = sliderNamed(frameSet, name);
  const frames = frameSet.frames[name];
  if (!frames) { // a lazy set without this slider's frames: only its base frame
    const atBase = frameSet.rest && sameStep(slider, snap(slider, values[name]), frameSet.base[name]);
    return atBase ? frameSet.rest : null;
  }
  return frames[Math.round((snap(slider, values[name]) - slider.low) / slider.step)];
}

/**
 * Slider `name`'s frame for the values, from the first frame set (newest first) that can say:
 * {frameSet, frame}, or null.
 */
export function findFrame(frameSets, values, name) {
  for (const frameSet of frameSets) {
    const frame = frameFor(frameSet, values, name);
    if (frame) return { frameSet, frame };
  }
  return null;
}

/**
 * The frame sets a lazy view keeps when `arrived` comes (newest first, at most `limit` + 1): it,
 * then the earlier ones drawn in the same context that hold frames of a slider it lacks.
 */
export function keptSets(arrived, kept, limit = 4) {
  const context = arrived.context || "";
  const adds = (set) => Object.keys(set.frames).some((name) => !(name in arrived.frames));
  const older = kept.filter((set) => set !== arrived && (set.context || "") === context && adds(set));
  return [arrived, ...older].slice(0, limit + 1);
}

/** The sliders whose every value has a frame among the kept sets, for these values of the others. */
export function slidersReady(frameSets, values) {
  if (!frameSets.length) return [];
  return frameSets[0].sliders
    .map((slider) => slider.name)
    .filter((name) => frameSets.some((set) => set.frames[name] && frameFor(set, values, name)));
}

/** The slots whose part differs between two frames, given as part indices or as their HTML
 * (all of them when there was none before). */
export function changedSlots(shown, next) {
  const slots = [];
  for (let slot = 0; slot < next.length; slot += 1) {
    if (!shown || shown[slot] !== next[slot]) slots.push(slot);
  }
  return slots;
}

/** Whether two lists of slider names hold the same names in the same order. */
export function sameNames(names, others) {
  return names.length === others.length && names.every((name, index) => name === others[index]);
}

/** Whether every setting in `wanted` has the same value in `values`. */
export function sameValues(wanted, values) {
  return Object.keys(wanted).every((name) => values[name] === wanted[name]);
}

/**
 * The values the sliders take when a new frame set arrives: the server's, except for a
 * slider the user is still holding (`held`, a name or null), which keeps its position.
 * `awaited` is the last release sent (or null): a frame set drawn before the server got it
 * (two quick arrow-key presses are two reruns) must not pull the sliders back, so until
 * the frame set for `awaited` arrives, the sliders stay where the user put them.
 */
export function valuesOnArrival(frameSet, values, held, awaited = null) {
  if (awaited && values && !sameValues(awaited, frameSet.base)) return { ...values };
  const next = { ...frameSet.base };
  if (held && values && held in values) next[held] = values[held];
  return next;
}

/** Whether a payload is a picture set rather than a frame set. */
export function isPictureSet(payload) {
  return Boolean(payload && payload.pictures && !payload.sliders);
}

/** The picture `id` from the first of `sets` (picture sets' `pictures` objects) that holds it, or null. */
export function pictureFor(sets, id) {
  for (const pictures of sets) if (Object.hasOwn(pictures, id)) return pictures[id];
  return null;
}

/** Each slot's place (its name), or null for a slot drawn in the view itself; `count` slots. */
export function slotPlaces(layout, count) {
  const places = new Array(count).fill(null);
  for (const [name, slots] of Object.entries((layout && layout.places) || {})) {
    for (const slot of slots) if (slot >= 0 && slot < count) places[slot] = name;
  }
  return places;
}

/** Whether a payload mounts a place (a view's slots drawn elsewhere) rather than a view or a picture set. */
export function isPlace(payload) {
  return Boolean(payload && typeof payload.place === "string" && typeof payload.view === "string" && !payload.sliders);
}

/** The class Streamlit gives the element of the widget keyed `key` (as pages/ui.py writes it: ".st-key-" + key). */
export function keyClass(key) {
  return `st-key-${key.replace(/[^a-zA-Z0-9_-]/g, "-")}`;
}

/** The "st-key-…" class among an element's classes, or "" when it has none. */
export function keyClassIn(classNames) {
  return [...classNames].find((name) => name.startsWith("st-key-")) || "";
}

/** What a place is known by: its view's key class and its name. */
export function placeId(viewKeyClass, name) {
  return `${viewKeyClass}\n${name}`;
}

/** Whether a copy button can use the clipboard API: only on a secure page (https, localhost). */
export function canUseClipboard(navigatorLike, secureContext) {
  return Boolean(secureContext && navigatorLike && navigatorLike.clipboard && navigatorLike.clipboard.writeText);
}
