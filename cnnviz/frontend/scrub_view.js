// A lesson view that follows its sliders while they are dragged, with no trip to the server.
//
// Mounted by pages/scrub.py as an st.components.v2 component. `data` is a frame set
// (see scrub_logic.js, above its functions) as gzipped JSON bytes. The view draws one
// <input type=range> per slider (focusable, labelled, arrow keys and touch for free) and
// one slot per part of a frame. On every `input` event it swaps in the frame the server drew
// for that value; on release (`change`: pointer up, or a key press) it sends all values
// back as the trigger "release", so Python reruns and the other panels, the URL and the
// code follow. A lazy frame set (pictures: Convolution on the photo) holds one slider's frames
// at most: pressing a slider the view has no frames for sends its name as the trigger "press",
// and the server answers with them. A part may hold pictures that report clicks (the markup of
// cnnviz/drawing/marks.py's clickable_picture_html): a click, or an arrow key on the focused
// picture, sends {picture, row, col} as the trigger "click". The logic functions above this
// line come from click_logic.js and scrub_logic.js.
//
// Places (see scrub_logic.js): the same component mounted with data { place, view } is where the
// view draws that place's slots (the code panel, a rules panel below the view): the view keeps them in
// a box (.scrub-place) that it puts in the place's element, whichever of the two mounts first; a place
// mounted again in another element (a full rerun) takes the box there. A code block in a frame
// (cnnviz/drawing/markup.py: code_html) has a copy button: a click copies its code.
//
// The same component also mounts picture sets (`data` is { pictures }, see scrub_logic.js): it
// draws nothing for them, and a part's <img data-picture-id="id"> takes its src from them. A
// release sends a new frame set (its base moved) but the same picture set, which Streamlit
// then sends as a reference to what the browser already holds, not as megabytes again.

const mounts = new WeakMap(); // parentElement -> { version, setTriggerValue, view }, kept across reruns
const pictureSets = new Map(); // a picture set's parentElement -> its pictures ({id: data URL})
const unfilled = new Set(); // <img data-picture-id> whose picture has not arrived yet
const views = new Map(); // a view's element's "st-key-…" class -> the view mounted last with it
const placeElements = new Map(); // placeId(view's key class, place name) -> the element the place was mounted in

/** The "st-key-…" class of the nearest element around `element` that has one (a widget's key), or "". */
function keyClassAround(element) {
  for (let node = element; node; node = node.parentElement) {
    const found = keyClassIn(node.classList);
    if (found) return found;
  }
  return "";
}

/** Put the view's box for place `name` in the place's element, if both exist and it is not there yet. */
function showPlace(view, name) {
  const element = placeElements.get(placeId(view.keyClass, name));
  const box = view.places[name];
  if (element && box && box.parentElement !== element) element.replaceChildren(box);
}

/** A place mounted in `parentElement`: its view's slots for it go there (now, or when the view builds them). */
function mountPlace(parentElement, payload) {
  const viewKeyClass = keyClass(payload.view);
  placeElements.set(placeId(viewKeyClass, payload.place), parentElement);
  const view = views.get(viewKeyClass);
  if (view && view.root.isConnected) showPlace(view, payload.place); // not a view left from another page
}

/** An unmounted element is no place any more. */
function forgetPlace(parentElement) {
  for (const [id, element] of placeElements) if (element === parentElement) placeElements.delete(id);
}

/** The box that holds a place's slots, made once per view and place. */
function placeBox(view, name) {
  if (!view.places[name]) {
    const box = document.createElement("div");
    box.className = `scrub-place scrub-place-${name}`;
    box.dataset.place = name;
    box.addEventListener("click", copyClick);
    view.places[name] = box;
  }
  return view.places[name];
}

/** A click on a code block's copy button (markup.py: code_html) copies the block's code, and says so a moment. */
function copyClick(event) {
  const button = event.target.closest && event.target.closest(".cnnviz-code-copy");
  if (!button) return;
  const code = button.closest(".cnnviz-code").querySelector("code").textContent;
  copyText(code, button).then(
    () => flash(button, "copied"),
    () => flash(button, "refused"),
  );
}

async function copyText(text, button) {
  if (canUseClipboard(navigator, window.isSecureContext)) {
    try {
      await navigator.clipboard.writeText(text);
      return;
    } catch {
      // refused (no permission): the text area below may still work
    }
  }
  // An http page has no clipboard API: copy the selection of a hidden text area (then give the focus back).
  const area = document.createElement("textarea");
  area.value = text;
  area.setAttribute("readonly", "");
  area.style.cssText = "position:fixed;top:0;left:0;width:1px;height:1px;opacity:0;pointer-events:none";
  document.body.appendChild(area);
  area.select();
  const copied = document.execCommand("copy");
  area.remove();
  button.focus();
  if (!copied) throw new Error("The browser refused to copy.");
}

function flash(button, state) {
  button.dataset.state = state;
  setTimeout(() => delete button.dataset.state, 1500);
}

/** Give `image` its picture (decoded before it is swapped in); false when its picture set has not arrived. */
function fillPicture(image) {
  const source = pictureFor(pictureSets.values(), image.dataset.pictureId);
  if (!source) return false;
  image.src = source;
  image.decode().catch(() => {});
  return true;
}

function arrivePictures(parentElement, pictures) {
  pictureSets.set(parentElement, pictures);
  for (const image of unfilled) if (fillPicture(image)) unfilled.delete(image);
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
    input.addEventListener("pointerdown", () => {
      view.held = slider.name;
      askFrames(view, slider.name);
    });
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
  showFrameFor(view, name);
}

/** Show the frame for slider `name` at the current values, or mark the view pending without one. */
function showFrameFor(view, name) {
  const found = findFrame(view.frameSets, view.values, name);
  view.root.classList.toggle("scrub-pending", found === null);
  for (const box of Object.values(view.places)) box.classList.toggle("scrub-pending", found === null);
  if (found) showFrame(view, found.frameSet, found.frame);
}

/** A lazy view: ask the server for slider `name`'s frames, unless it has them or has just asked. */
function askFrames(view, name) {
  if (!view.frameSet || !view.frameSet.lazy || view.asked === name) return;
  if (slidersReady(view.frameSets, view.values).includes(name)) return;
  view.asked = name;
  view.setTriggerValue("press", name);
}

/** Say which sliders can be dragged with no trip to the server (tests and the drag benchmark wait on it). */
function showReady(view) {
  view.root.dataset.ready = slidersReady(view.frameSets, view.values).join(",");
}

const AWAIT_MS = 3000; // after this, a release the server never answered stops holding the sliders

function release(view, name) {
  view.held = null;
  view.awaited = { values: { ...view.values }, at: performance.now() };
  view.setTriggerValue("release", { ...view.values, moved: name });
  showReady(view);
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
    for (const img of node.querySelectorAll("img:not([data-picture-id])")) img.decode().catch(() => {}); // decoded before it is swapped in
    for (const img of node.querySelectorAll("img[data-picture-id]")) if (!fillPicture(img)) unfilled.add(img);
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

function showFrame(view, frameSet, frame) {
  const html = frame.map((index) => frameSet.parts[index]);
  const changed = changedSlots(view.shown, html); // by content: a new frame set's same part stays
  const focused = document.activeElement;
  const picture = focused && view.root.contains(focused) && focused.classList.contains("click-frame")
    ? focused.dataset.picture : null;
  for (const slot of changed) view.slots[slot].replaceChildren(nodeFor(view, html[slot]));
  view.shown = html;
  if (changed.length) view.root.dataset.frame = frame.join(","); // the drag benchmark watches this
  if (picture !== null && !view.root.contains(focused)) { // the arrow keys keep moving the pixel
    const next = view.root.querySelector(`.click-frame.clickable[data-picture="${picture}"]`);
    if (next) next.focus();
  }
}

/** A click, or an arrow key, on a picture of the frame that reports its pixel (click_logic.js). */
function pictureEvent(view, event) {
  const frame = event.target.closest && event.target.closest(".click-frame.clickable");
  if (!frame || !view.root.contains(frame)) return;
  const rows = Number(frame.dataset.rows);
  const cols = Number(frame.dataset.cols);
  let pixel;
  if (event.type === "click") {
    const box = frame.getBoundingClientRect();
    pixel = pixelAt(event.clientX - box.left, event.clientY - box.top, box.width, box.height, rows, cols);
  } else {
    const [row, col] = (frame.dataset.at || "0,0").split(",").map(Number);
    pixel = pixelAfterKey(event.key, { row, col }, rows, cols);
    if (pixel) event.preventDefault(); // the arrow moves the pixel, not the page
  }
  if (pixel) view.setTriggerValue("click", { picture: Number(frame.dataset.picture || 0), ...pixel });
}

/** A new frame set from the server: build the view once, then adopt the new values. */
function arrive(view, frameSet) {
  view.frameSet = frameSet;
  view.frameSets = frameSet.lazy ? keptSets(frameSet, view.frameSets) : [frameSet];
  view.asked = null;
  const kept = new Set(view.frameSets.flatMap((set) => set.parts)); // forget the nodes of parts no set holds
  for (const html of view.nodes.keys()) if (!kept.has(html)) view.nodes.delete(html);
  if (!view.root.firstChild) {
    view.root.appendChild(buildSliders(view, frameSet));
    const first = frameSet.rest || frameSet.frames[frameSet.sliders[0].name][0];
    const inline = new Set((frameSet.layout && frameSet.layout.inline) || []);
    const places = slotPlaces(frameSet.layout, first.length); // a slot in a place goes in that place's box
    view.slots = first.map((_, index) => (places[index] ? placeBox(view, places[index]) : view.root)
      .appendChild(document.createElement("div")));
    view.slots.forEach((slot, index) => {
      slot.className = `scrub-slot scrub-slot-${index}${inline.has(index) ? " scrub-slot-inline" : ""}`;
    });
    if (frameSet.layout && frameSet.layout.class) view.root.classList.add(frameSet.layout.class);
    for (const name of Object.keys(view.places)) showPlace(view, name);
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
  showFrameFor(view, view.held || view.moved || frameSet.sliders[0].name);
  view.root.dataset.base = JSON.stringify(frameSet.base);
  showReady(view);
  parseAhead(view, frameSet);
}

function newView(parentElement, key) {
  const root = document.createElement("div");
  root.className = "scrub-view";
  parentElement.appendChild(root);
  const view = { root, key: key || "scrub", inputs: {}, slots: [], nodes: new Map(), values: null, held: null,
                 shown: null, frameSets: [], asked: null, places: {}, keyClass: keyClassAround(parentElement) };
  if (view.keyClass) views.set(view.keyClass, view);
  root.addEventListener("click", (event) => pictureEvent(view, event));
  root.addEventListener("click", copyClick);
  root.addEventListener("keydown", (event) => pictureEvent(view, event));
  return view;
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
    if (isPlace(payload)) {
      mountPlace(parentElement, payload);
      return;
    }
    if (!mount.view) mount.view = newView(parentElement, key); // a picture set draws no view
    mount.view.setTriggerValue = mount.setTriggerValue;
    arrive(mount.view, payload);
  });
  return () => { // unmounted: its pictures go, and it is no place any more
    pictureSets.delete(parentElement);
    forgetPlace(parentElement);
  };
}
