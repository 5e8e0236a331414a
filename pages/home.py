"""Home: what each lesson shows, with a thumbnail."""

from pathlib import Path

import streamlit as st

from pages import ui
from pages.registry import LESSONS

THUMBNAILS = Path(__file__).resolve().parent.parent / "assets" / "thumbnails"

st.title(ui.t("home.title"))
st.write(ui.t("home.intro"))

columns = st.columns(3)
for index, lesson in enumerate(LESSONS):
    with columns[index % 3].container(border=True):
        thumbnail = THUMBNAILS / f"{lesson.slug}.png"
        if thumbnail.exists():
            st.image(str(thumbnail), width="stretch")
        st.page_link(lesson.script, label=ui.t(f"lesson.{lesson.slug}.title"), icon=lesson.icon)
        st.caption(ui.t(f"lesson.{lesson.slug}.summary"))
