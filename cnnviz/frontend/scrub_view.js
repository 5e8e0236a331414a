// A lesson view that follows its sliders while they are dragged, with no trip to the server.
//
// Mounted by pages/scrub.py as an st.components.v2 component. `data` is a frame set
// (see scrub_logic.js, above its functions) as gzipped JSON bytes. The view draws one
// <input type=range> per slider (focusable, labelled, arrow keys and touch for free) and
// one slot per part of a frame. On every `input` event it swaps in the frame the server drew
// for that value; on release (`change`: pointer up, or a key press) it sends all values
// back as the trigger "release", so Python reruns and the other panels, the URL and the
// code follow. The logic functions above this line come from scrub_logic.js.
//
// The same component also mounts picture sets (`data` is { pictures }, see scrub_logic.js): it
// draws nothing for them, and a part's <img data-picture="id"> takes its src from them. A
// release sends a new frame set (its base moved) but the same picture set, which Streamlit
// then sends as a reference to what the browser already holds, not as megabytes again.

const mounts = new WeakMap(); // parentElement -> { version, setTriggerValue, view }, kept across reruns
const pictureSets = new Map(); // a picture set's parentElement -> its pictures ({id: data URL})
const unfilled = new Set(); // <img data-picture> whose picture has not arrived yet

/** Give each <img data-picture> in `node` its picture, or keep it until its picture set arrives. */
function fillPictures(node) {
  for (const image of node.querySelectorAll("img[data-picture]")) {
    const source = pictureFor(pictureSets.values(), image.dataset.picture);
    if (source) image.src = source;
    else unfilled.add(image);
  }
}

function arrivePictures(parentElement, pictures) {
  pictureSets.set(parentElement, pictures);
  for (const image of unfilled) {
    const source = pictureFor(pictureSets.values(), image.dataset.picture);
    if (source) {
      image.src = source;
      unfilled.delete(image);
    }
  }
}

function buildSliders(view, frameSet) {
  const row = document.createElement("div");
  row.className = "scrub-sliders";
  for (const slider of frameSet.sliders) {
    const id = `${view.key}-${slider.name}`;
    const box = document.createElement("div");
    box.className = "scrub-slider";
    box.dataset.name = slider.name;
    box.innerHTML =
      `<div class="scrub-slider-head"><label for="${id}"></label><output for="${id}"></output></div>` +
      `<input type="range" id="${id}" name="${slider.name}">`;
    box.querySelector("label").textContent = slider.label;
    const input = box.querySelector("input");
    showHelp(input, slider.help);
    input.addEventListener("pointerdown", () => { view.held = slider.name; });
    input.addEventListener("input", () => move(view, slider.name, input.valueAsNumber));
    input.addEventListener("change", () => release(view, slider.name));
    row.appendChild(box);
    view.inputs[slider.name] = input;
  }
  return row;
}

/** A slider's help: a "?" after its label (hover or long-press shows it) and the input's description
 * (screen readers read it with the label). None when the help is empty. */
function showHelp(input, help) {
  const label = input.parentElement.querySelector("label");
  let mark = label.nextElementSibling && label.nextElementSibling.classList.contains("scrub-help")
    ? label.nextElementSibling : null;
  if (!help) {
    if (mark) mark.remove();
    input.removeAttribute("aria-description");
    return;
  }
  if (!mark) {
    mark = document.createElement("span");
    mark.className = "scrub-help";
    mark.textContent = "?";
    mark.setAttribute("aria-hidden", "true"); // the input's description says it
    label.after(mark);
  }
  mark.title = help;
  input.setAttribute("aria-description", help);
}

/** Show slider `name` at `value`, and the frame the server drew for it (if it has one yet). */
function move(view, name, value) {
  view.values[name] = value;
  view.moved = name;
  showValue(view, name);
  const frame = frameFor(view.frameSet, view.values, name);
  view.root.classList.toggle("scrub-pending", frame === null);
  if (frame) showFrame(view, frame);
}

const AWAIT_MS = 3000; // after this, a release the server never answered stops holding the sliders

function release(view, name) {
  view.held = null;
  view.awaited = { values: { ...view.values }, at: performance.now() };
  view.setTriggerValue("release", { ...view.values, moved: name });
}

function showValue(view, name) {
  const input = view.inputs[name];
  const value = view.values[name];
  if (input.valueAsNumber !== value) input.value = value;
  const text = valueText(view.frameSet && sliderNamed(view.frameSet, name), value);
  input.setAttribute("aria-valuetext", text);
  input.parentElement.querySelector("output").textContent = text;
}

/**
 * A part's HTML as DOM, parsed once: swapping in a parsed node is cheaper than parsing a
 * 25 kB SVG on every pointer move (bench/drag.py). Nodes are kept by their HTML, so a part
 * that the next frame set holds too (after a release, most do) is not parsed again.
 * A node lives in one slot at a time.
 */
function nodeFor(view, html) {
  let node = view.nodes.get(html);
  if (!node) {
    node = document.createElement("div");
    node.style.display = "contents";
    node.innerHTML = html;
    fillPictures(node);
    view.nodes.set(html, node);
  }
  return node;
}

/** Parse the frame set's parts while the browser is idle, before the pointer needs them. */
function parseAhead(view, frameSet) {
  const pending = frameSet.parts.map((_, index) => index);
  const idle = window.requestIdleCallback || ((work) => setTimeout(() => work({ timeRemaining: () => 8 }), 1));
  const work = (deadline) => {
    while (pending.length && view.frameSet === frameSet && deadline.timeRemaining() > 2) {
      nodeFor(view, frameSet.parts[pending.pop()]);
    }
    if (pending.length && view.frameSet === frameSet) idle(work);
  };
  idle(work);
}

function showFrame(view, frame) {
  const html = frame.map((index) => view.frameSet.parts[index]);
  const changed = changedSlots(view.shown, html); // by content: a new frame set's same part stays
  for (const slot of changed) view.slots[slot].replaceChildren(nodeFor(view, html[slot]));
  view.shown = html;
  if (changed.length) view.root.dataset.frame = frame.join(","); // the drag benchmark watches this
}

/** A new frame set from the server: build the view once, then adopt the new values. */
function arrive(view, frameSet) {
  view.frameSet = frameSet;
  const kept = new Set(frameSet.parts); // forget the nodes of parts this frame set no longer holds
  for (const html of view.nodes.keys()) if (!kept.has(html)) view.nodes.delete(html);
  if (!view.root.firstChild) {
    view.root.appendChild(buildSliders(view, frameSet));
    const first = frameSet.frames[frameSet.sliders[0].name][0];
    const inline = new Set((frameSet.layout && frameSet.layout.inline) || []);
    view.slots = first.map(() => view.root.appendChild(document.createElement("div")));
    view.slots.forEach((slot, index) => {
      slot.className = `scrub-slot scrub-slot-${index}${inline.has(index) ? " scrub-slot-inline" : ""}`;
    });
    if (frameSet.layout && frameSet.layout.class) view.root.classList.add(frameSet.layout.class);
  } else if (!sameNames(Object.keys(view.inputs), frameSet.sliders.map((slider) => slider.name))) {
    view.inputs = {}; // another set of sliders (a typed grid has no size slider): build them anew
    view.root.firstChild.replaceWith(buildSliders(view, frameSet));
    if (view.held && !(view.held in view.inputs)) view.held = null;
  }
  const awaited = view.awaited && performance.now() - view.awaited.at < AWAIT_MS ? view.awaited.values : null;
  if (!awaited || sameValues(awaited, frameSet.base)) view.awaited = null;
  view.values = valuesOnArrival(frameSet, view.values, view.held, awaited);
  for (const slider of frameSet.sliders) {
    const input = view.inputs[slider.name];
    Object.assign(input, { min: slider.low, max: slider.high, step: slider.step }); // a range can change (the output cells)
    const label = input.parentElement.querySelector("label");
    if (label.textContent !== slider.label) label.textContent = slider.label; // the language may have changed
    showHelp(input, slider.help);
    showValue(view, slider.name);
  }
  const name = view.held || view.moved || frameSet.sliders[0].name;
  const frame = frameFor(frameSet, view.values, name);
  view.root.classList.toggle("scrub-pending", frame === null);
  if (frame) showFrame(view, frame);
  view.root.dataset.base = JSON.stringify(frameSet.base);
  parseAhead(view, frameSet);
}

function newView(parentElement, key) {
  const root = document.createElement("div");
  root.className = "scrub-view";
  parentElement.appendChild(root);
  return { root, key: key || "scrub", inputs: {}, slots: [], nodes: new Map(), values: null, held: null, shown: null };
}

export default function ({ data, parentElement, setTriggerValue, key }) {
  let mount = mounts.get(parentElement);
  if (!mount) mounts.set(parentElement, (mount = { version: 0, view: null }));
  mount.setTriggerValue = setTriggerValue;
  if (mount.view) mount.view.setTriggerValue = setTriggerValue;
  if (!data) return undefined;
  const version = (mount.version += 1); // a slower, older payload must not win
  gunzipJson(data).then((payload) => {
    if (version !== mount.version) return;
    if (isPictureSet(payload)) {
      arrivePictures(parentElement, payload.pictures);
      return;
    }
    if (!mount.view) mount.view = newView(parentElement, key); // a picture set draws no view
    mount.view.setTriggerValue = mount.setTriggerValue;
    arrive(mount.view, payload);
  });
  return () => pictureSets.delete(parentElement); // unmounted: its pictures go
}
