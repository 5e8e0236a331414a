"""cnnviz: the router and the frame every lesson shares.

Run with ``streamlit run app.py``. Registers the lessons with ``st.navigation``,
offers the language switch and the image picker in the sidebar, then runs the page.
"""

import logging
import os
from pathlib import Path

# One torch thread per operation, set before the first lesson imports torch. The lessons'
# tensors are small, and on a 2-core server that is also serving a room (and, on a laptop,
# running the browser) a second thread mostly waits for a core: an activations slider took
# 1.8 s at p90 with two threads and 58 ms with one (bench/RESULTS.md, session 4).
# Sessions still run in parallel, one script thread each. Set OMP_NUM_THREADS to override.
os.environ.setdefault("OMP_NUM_THREADS", "1")

import streamlit as st

from cnnviz.i18n import LANGUAGES
from pages import ui
from pages.registry import LESSONS

logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")

ui.enter_frame()
st.set_page_config(page_title="cnnviz", page_icon="assets/icon.png", layout="wide")
st.html(Path(__file__).parent / "assets" / "app.css")  # once per page load: fragment reruns keep it

link_settings = None if "link.checked" in st.session_state else st.query_params.to_dict()

# The language lives in the URL as ?lang=en|zh (kept by hand: a bound widget would put
# its display label, "简体中文", in the URL).
if st.session_state.get("lang") not in LANGUAGES:
    st.session_state["lang"] = ui.lang()
with st.sidebar:
    st.segmented_control("Language / 语言", list(LANGUAGES), format_func=LANGUAGES.get, key="lang", required=True,
                         on_change=ui.keep_choices_through_language_switch)  # fmt: skip
st.query_params["lang"] = st.session_state["lang"]

home = st.Page("pages/home.py", title=ui.t("home.title"), icon=":material/home:", default=True)
lessons = [
    st.Page(lesson.script, title=ui.t(f"lesson.{lesson.slug}.title"), icon=lesson.icon, url_path=lesson.slug)
    for lesson in LESSONS
]
page = st.navigation({"": [home], ui.t("home.lessons"): lessons})
ui.image_picker()
page.run()
if link_settings is not None:
    st.session_state["link.checked"] = True
    ui.notice_ignored_link_settings(link_settings)
