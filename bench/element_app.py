"""One slider, one line of text, then ``n`` elements of one ``kind``, each redrawn on every move.

``bench/element_costs.py`` opens it once per kind (``?kind=markdown&n=20``) to measure what
each kind of element adds to a slider move in the browser. ``kind=none`` is the floor.
"""

import numpy as np
import streamlit as st

from cnnviz.drawing.charts import Chart

kind = st.query_params.get("kind", "none")
count = int(st.query_params.get("n", "20"))
value = st.slider("Value", 0, 100, 50, key="bare.value")
st.write(f"The value is {value}.")
x = np.linspace(-6, 6, 200)
picture = np.full((240, 240, 3), 2 * value, np.uint8)
if kind == "composed":  # the markdown lines below as one element
    st.markdown("".join(f"<p>Line <b>{i}</b>, value {value}</p>" for i in range(count)), unsafe_allow_html=True)
if kind == "svg_composed":  # the SVG charts below as one element
    charts = (
        Chart(x_label="x", y_label="y").line(x, np.tanh(x * value / 50) + i, "#2563eb", legend="tanh").svg()
        for i in range(count)
    )
    st.markdown("".join(charts), unsafe_allow_html=True)
if kind == "slider_columns":  # the sliders below in st.columns
    for i, column in enumerate(st.columns(count)):
        column.slider(f"Setting {i}", 0, 10, 5)
if kind == "slider_row":  # the sliders below in one horizontal container
    with st.container(horizontal=True):
        for i in range(count):
            st.slider(f"Setting {i}", 0, 10, 5)
if kind == "svg_img":  # the SVG charts below as pictures (<img>), in one element
    from urllib.parse import quote

    charts = (
        Chart(x_label="x", y_label="y").line(x, np.tanh(x * value / 50) + i, "#2563eb", legend="tanh").svg()
        for i in range(count)
    )
    st.markdown("".join(f'<img src="data:image/svg+xml,{quote(chart)}">' for chart in charts), unsafe_allow_html=True)
if kind in ("component", "component_svg"):  # one st.components.v2 element that sets its innerHTML
    view = st.components.v2.component(
        "bench_view",
        js="export default function ({ data, parentElement }) { parentElement.innerHTML = data; }",
        isolate_styles=False,
    )
    if kind == "component":
        view(data="".join(f"<p>Line <b>{i}</b>, value {value}</p>" for i in range(count)), key="view")
    else:
        charts = (
            Chart(x_label="x", y_label="y").line(x, np.tanh(x * value / 50) + i, "#2563eb", legend="tanh").svg()
            for i in range(count)
        )
        view(data="".join(charts), key="view")
if kind in ("photo", "photo_inline"):  # photos (480 px) that change on every move: st.image or inline <img>
    from cnnviz.drawing.pictures import jpeg, picture_html
    from cnnviz.images import load_sample, resize_longest_side

    photo = resize_longest_side(load_sample("cat.jpg").pixels, 480)
    photos = [np.clip(photo.astype(np.int16) + value - 50 + i, 0, 255).astype(np.uint8) for i in range(count)]
    if kind == "photo":
        for picture in photos:
            st.image(picture)
    else:
        st.markdown("".join(picture_html(jpeg(picture)) for picture in photos), unsafe_allow_html=True)
if kind in ("grids_markdown", "grids_html"):  # number grids (6 x 6) in one markdown or one st.html element
    from cnnviz.drawing.grids import number_grid_html

    grids = "".join(
        number_grid_html(np.arange(36).reshape(6, 6) * value + i, f"Grid {i}", decimals=0) for i in range(count)
    )
    if kind == "grids_markdown":
        st.markdown(grids, unsafe_allow_html=True)
    else:
        st.html(grids)
for i in range(count):
    y = np.tanh(x * value / 50) + i
    if kind == "markdown_unchanged":
        st.markdown(f"Line **{i}** stays the same")
    elif kind == "markdown":
        st.markdown(f"Line **{i}**, value {value}")
    elif kind == "html":
        st.html(f"<div>Line <b>{i}</b>, value {value}</div>")
    elif kind == "image":
        st.image(picture)
    elif kind == "container":
        st.container().markdown(f"Line **{i}**, value {value}")
    elif kind == "slider":
        st.slider(f"Setting {i}", 0, 10, 5)
    elif kind == "latex":
        st.latex(rf"x_{{{i}}} = \frac{{{value}}}{{2}}")
    elif kind == "columns":
        left, right = st.columns(2)
        left.markdown(f"Left {i}, value {value}")
        right.markdown(f"Right {i}")
    elif kind == "plotly":
        st.plotly_chart({"data": [{"type": "scatter", "x": x, "y": y}], "layout": {"height": 340}})
    elif kind == "plotly_unchanged":
        st.plotly_chart({"data": [{"type": "scatter", "x": x, "y": np.tanh(x) + i}], "layout": {"height": 340}})
    elif kind == "vega":
        st.line_chart({"y": y}, height=340)
    elif kind == "svg":
        st.markdown(Chart(x_label="x", y_label="y").line(x, y, "#2563eb", legend="tanh").svg(), unsafe_allow_html=True)
