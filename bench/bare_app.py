"""The floor of this stack: a bare Streamlit page with one slider and one line of text.

``bench/latency.py`` and ``bench/cold_start.py`` measure it next to cnnviz, so their
ratios say what cnnviz adds on top of Streamlit itself.
"""

import streamlit as st

value = st.slider("Value", 0, 100, 50, key="bare.value")
st.write(f"The value is {value}.")
