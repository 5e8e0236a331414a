"""The drawing layer: views made from the engine's numbers, as HTML, SVG, MathML or pictures.

Nothing here computes lesson maths: every number comes from an engine module
(``cnnviz.arithmetic``, ``cnnviz.windows``, ``cnnviz.pooling``...), and these modules only lay
it out. Nothing here imports Streamlit either: pages show what these functions return.

Shared by several lessons:

- ``charts``: small charts as SVG text (lines, dots, bars, bands on two axes).
- ``grids``: grids of numbers, maps as images, colour scales and bars.
- ``pictures``: feature maps as pictures (colours, tiles, overlays, kernels), PNG/WebP/JPEG bytes.
- ``marks``: boxes drawn over a picture (a window, a pixel, a receptive field).
- ``mathml``: a formula's LaTeX source as MathML, for views drawn outside Streamlit's KaTeX.
- ``markup``: what a page would write with ``st.markdown`` or ``st.code``, as HTML for frames: the
  catalogue's markdown (``markdown_html``), a coloured code block with a copy button (``code_html``),
  columns side by side (``row_html``).
- ``frames``: a "frame set" for a scrubbing view: every value of every slider, drawn ahead
  of time, deduplicated, in the shape ``cnnviz/frontend/scrub_view.js`` reads; its pictures
  can travel apart (``split_pictures``), so a release does not send them again; some of its slots
  can be drawn in places elsewhere on the page (``places``: the code panel).

One lesson each (``*_view``: the lesson's scrubbing view, its frames; the others: its figures):

- Convolution on the photo: ``convolution_view`` (the input and output pictures, for every stride,
  padding, dilation and bias).
- Output size: ``output_size_view``, ``window_diagrams`` (where the windows land).
- Step by step: ``conv_steps_view``.
- Pooling: ``pooling_view``, ``pooling_figures`` (formulas, pictures, the shift chart).
- Activation functions: ``activations_view``, ``activation_charts``.
- Loss functions: ``losses_view``, ``loss_charts``.
- Feature maps: ``feature_maps_view`` (the Example view: the picture, the answer, every layer),
  ``attribution_view`` (where the network looks).
- Training: ``training_charts`` (learning curves, first-layer filters, predictions).
"""
