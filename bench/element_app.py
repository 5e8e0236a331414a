"""One slider, one line of text, then ``n`` elements of one ``kind``, each redrawn on every move.

``bench/element_costs.py`` opens it once per kind (``?kind=markdown&n=20``) to measure what
each kind of element adds to a slider move in the browser. ``kind=none`` is the floor.
"""

import numpy as np
import streamlit as st

from cnnviz.svg import Chart

kind = st.query_params.get("kind", "none")
count = int(st.query_params.get("n", "20"))
value = st.slider("Value", 0, 100, 50, key="bare.value")
st.write(f"The value is {value}.")
x = np.linspace(-6, 6, 200)
picture = np.full((240, 240, 3), 2 * value, np.uint8)
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
