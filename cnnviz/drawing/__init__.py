"""The drawing layer: views made from the engine's numbers, as HTML, SVG or MathML text.

Nothing here computes lesson maths: every number comes from an engine module
(``cnnviz.arithmetic``, ``cnnviz.windows``...), and these modules only lay it out.

- ``mathml``: a formula's LaTeX source as MathML, for views drawn outside Streamlit's KaTeX.
- ``frames``: a "frame set" for a scrubbing view: every value of every slider, drawn ahead
  of time, deduplicated, in the shape ``cnnviz/frontend/scrub_view.js`` reads.
- ``output_size_view``: the Output size lesson's frames (the size, the formula, the windows).
- ``conv_steps_view``: the Step by step lesson's frames (the sum, the grids, the cell's marks).
- ``losses_view``: the Loss functions lesson's sigmoid frames (p, both dL/dz, the charts) and softmax frames (the loss, entropy, KL, the charts).
- ``pool_view``: the Pooling lesson's frames (the grids, the window's marks and formula, the size).
- ``activations_view``: the Activation functions lesson's frames (the curves and their slopes).

(The older drawing modules, ``figures.py``, ``svg.py``, ``*_views.py``, ``feature_pictures.py``
and ``training_plots.py``, still sit flat in ``cnnviz/``; see ``cnnviz/drawing/README.md``.)
"""
