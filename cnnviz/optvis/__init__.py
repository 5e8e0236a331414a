"""Feature visualization: the input that excites a filter most, found by gradient ascent.

Split as greentfrapp/lucent does: ``param`` (how the image is stored), ``transforms``
(random moves each step), ``objectives`` (what to maximize), ``render`` (the loop), plus
``dataset`` (the real patches that excite a filter most).
"""
