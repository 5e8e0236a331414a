// Pictures that say which of their pixels was clicked: the Convolution lesson's output, a feature map.
//
// Mounted by pages/click_view.py as an st.components.v2 component. `data` is
//   { label: "what a click does", pictures: [{ src, alt, caption, rows, cols, clickable, at, marks }] }
// src: a data: URL; rows x cols: the picture's own size in pixels (the engine's, before any
// enlarging for the screen); at: {row, col} marked now, or null; marks: an SVG drawn by
// cnnviz/drawing/marks.py in those pixels, laid over the picture. A click (or an arrow key
// on a focused picture) sends {picture, row, col} as the trigger "click"; Python reruns and
// draws the new marks. The logic functions above this line come from click_logic.js.

const views = new WeakMap(); // parentElement -> { root, figures, pictures, setTriggerValue }

function send(view, index, pixel) {
  if (pixel) view.setTriggerValue("click", { picture: index, row: pixel.row, col: pixel.col });
}

function buildFigure(view, index) {
  const figure = document.createElement("figure");
  figure.className = "click-figure";
  figure.innerHTML = '<div class="click-frame"><img draggable="false"><div class="click-marks-slot"></div></div>' +
    "<figcaption></figcaption>";
  const frame = figure.querySelector(".click-frame");
  frame.addEventListener("click", (event) => {
    const picture = view.pictures[index];
    if (!picture.clickable) return;
    const box = frame.getBoundingClientRect();
    send(view, index, pixelAt(event.clientX - box.left, event.clientY - box.top, box.width, box.height,
                              picture.rows, picture.cols));
  });
  frame.addEventListener("keydown", (event) => {
    const picture = view.pictures[index];
    const moved = picture.clickable && pixelAfterKey(event.key, picture.at || { row: 0, col: 0 }, picture.rows,
                                                      picture.cols);
    if (!moved) return;
    event.preventDefault(); // the arrow moves the pixel, not the page
    send(view, index, moved);
  });
  return figure;
}

function showFigure(view, figure, picture, label) {
  const img = figure.querySelector("img");
  if (img.getAttribute("src") !== picture.src) img.setAttribute("src", picture.src); // unchanged: not decoded again
  img.alt = picture.alt || "";
  const frame = figure.querySelector(".click-frame");
  frame.classList.toggle("clickable", Boolean(picture.clickable));
  frame.tabIndex = picture.clickable ? 0 : -1;
  frame.title = picture.clickable ? label : "";
  frame.dataset.rows = picture.rows;
  frame.dataset.cols = picture.cols;
  frame.dataset.at = picture.at ? `${picture.at.row},${picture.at.col}` : "";
  const slot = figure.querySelector(".click-marks-slot");
  if (slot.dataset.marks !== picture.marks) {
    slot.innerHTML = picture.marks || "";
    slot.dataset.marks = picture.marks || "";
  }
  const caption = figure.querySelector("figcaption");
  caption.textContent = picture.caption || "";
  caption.hidden = !picture.caption;
}

export default function ({ data, parentElement, setTriggerValue }) {
  let view = views.get(parentElement);
  if (!view) {
    const root = document.createElement("div");
    root.className = "click-view";
    parentElement.appendChild(root);
    view = { root, figures: [], pictures: [] };
    views.set(parentElement, view);
  }
  view.setTriggerValue = setTriggerValue;
  if (!data) return;
  view.pictures = data.pictures;
  while (view.figures.length > data.pictures.length) view.figures.pop().remove();
  while (view.figures.length < data.pictures.length) {
    const figure = buildFigure(view, view.figures.length);
    view.root.appendChild(figure);
    view.figures.push(figure);
  }
  data.pictures.forEach((picture, index) => showFigure(view, view.figures[index], picture, data.label));
}
