"""cnnviz: the router and the frame every lesson shares.

Run with ``streamlit run app.py``. Registers the lessons with ``st.navigation``,
offers the language switch and the image picker in the sidebar, then runs the page.
"""

import logging

import streamlit as st

from cnnviz.i18n import DEFAULT_LANGUAGE, LANGUAGES
from pages import ui
from pages.registry import LESSONS

logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")

st.set_page_config(page_title="cnnviz", page_icon=":material/grid_view:", layout="wide")

with st.sidebar:
    st.segmented_control(
        "Language / 语言",
        list(LANGUAGES),
        format_func=LANGUAGES.get,
        default=DEFAULT_LANGUAGE,
        key="lang",
        bind="query-params",
        required=True,
    )

home = st.Page("pages/home.py", title=ui.t("home.title"), icon=":material/home:", default=True)
lessons = [
    st.Page(lesson.script, title=ui.t(f"lesson.{lesson.slug}.title"), icon=lesson.icon, url_path=lesson.slug)
    for lesson in LESSONS
]
page = st.navigation({"": [home], ui.t("home.lessons"): lessons})
ui.image_picker()
page.run()
