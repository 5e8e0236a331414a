"""cnnviz: the engine behind the lessons. torch, numpy, PIL and plotly only; no Streamlit."""
