"""A lightweight Streamlit session: Streamlit's own websocket protocol without a browser.

A browser tab costs ~100 MB and a core's worth of JavaScript on a 2-core machine; this
client costs almost nothing, so 30 of them measure the server rather than chromium.
It speaks what the frontend speaks (``streamlit/proto``): it sends ``BackMsg.rerun_script``
with the page and the widget states (and, for a widget inside an ``st.fragment``, that
fragment's id, so only the fragment reruns), and reads ``ForwardMsg`` deltas until
``script_finished``. It does not render, fetch media, or report cached message
hashes (so the server sends every message in full, a little more than a browser gets).

Loopback only: ``connect`` refuses any host but 127.0.0.1 / localhost.
"""

from __future__ import annotations

import asyncio
import gzip
import itertools
import json
import random
import time
from dataclasses import dataclass, field
from urllib.parse import urlparse

from streamlit.proto.Alert_pb2 import Alert
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ClientState_pb2 import ClientState
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from streamlit.proto.WidgetStates_pb2 import WidgetState, WidgetStates
from websockets.asyncio.client import ClientConnection, connect

LOOPBACK = ("127.0.0.1", "localhost")


@dataclass
class Slider:
    """A numeric ``st.slider`` or an ``st.select_slider`` (by option index) as the last run described it."""

    widget_id: str
    label: str
    low: float
    high: float
    step: float
    value: list[float]
    fragment_id: str = ""  # the st.fragment it sits in: moving it reruns only that fragment
    options: list[str] = field(default_factory=list)  # a select_slider's labels; its values are indices
    # For a slider of a scrubbing view (pages/scrub_view.py): the component's trigger widget id,
    # the slider's name, and the view's values; a move sends the "release" trigger as the view does.
    scrub: tuple[str, str, dict] | None = None
    path: tuple[int, ...] = ()  # where it sits on the page (the delta's path)


@dataclass
class Button:
    """An ``st.button`` as the last run described it."""

    widget_id: str
    label: str
    disabled: bool = False
    fragment_id: str = ""


@dataclass
class RunResult:
    """What one script run sent back."""

    seconds: float
    status: str  # ForwardMsg.ScriptFinishedStatus name, or "timeout" / "closed"
    errors: list[str] = field(default_factory=list)
    sliders: list[Slider] = field(default_factory=list)
    buttons: list[Button] = field(default_factory=list)
    progress: str = ""  # the text of the run's last progress bar
    messages: int = 0
    payload_bytes: int = 0

    @property
    def ok(self) -> bool:
        return self.status in ("FINISHED_SUCCESSFULLY", "FINISHED_FRAGMENT_RUN_SUCCESSFULLY") and not self.errors


class Session:
    """One Streamlit session over one websocket, driven one run at a time."""

    def __init__(self, connection: ClientConnection):
        self.connection = connection
        self.page = ""
        #: The page's script hash, from the server's ``navigation`` message: sent with every later rerun
        #: of the page, as the browser does (a fragment's ``st.rerun()`` reruns the page by its hash).
        self.page_hash = ""
        self.widgets: dict[str, WidgetState] = {}
        self.positions: dict[str, float] = {}  # the value (select_slider: index) each moved slider was set to
        self.sliders: list[Slider] = []
        self.buttons: list[Button] = []
        #: A fragment that reruns itself (``st.fragment(run_every=...)``): (seconds, fragment id), as
        #: the last run asked; the browser then sends that fragment's rerun on a timer (``tick``).
        self.auto_rerun: tuple[float, str] | None = None

    @classmethod
    async def open(cls, base_url: str, timeout: float = 30.0) -> Session:
        """Connect to ``base_url`` (``http://127.0.0.1:<port>``)."""
        parsed = urlparse(base_url)
        if parsed.hostname not in LOOPBACK:
            raise ValueError(f"Load tests target the loopback interface only, not {parsed.hostname!r}.")
        connection = await connect(
            f"ws://{parsed.netloc}/_stcore/stream", subprotocols=["streamlit"], max_size=None, proxy=None,
            open_timeout=timeout, ping_interval=None,
        )  # fmt: skip
        return cls(connection)

    async def close(self) -> None:
        await self.connection.close()

    async def goto(self, page: str, timeout: float = 120.0) -> RunResult:
        """Open a page by its URL path ("" for the home page), with its widgets at their defaults."""
        self.page, self.page_hash, self.widgets, self.positions = page, "", {}, {}
        return await self.rerun(timeout)

    async def set_slider(self, slider: Slider, value: float, timeout: float = 120.0) -> RunResult:
        """Move ``slider`` to ``value`` (one thumb; a select_slider's option index) and rerun, as the
        browser does after a drag. A select_slider's state is its option's label, as the browser sends it."""
        if slider.scrub is not None:
            return await self._release(slider, value, timeout)
        state = WidgetState(id=slider.widget_id)
        if slider.options:
            state.string_array_value.data.append(slider.options[round(value)])
        else:
            state.double_array_value.data.append(float(value))
        self.widgets[slider.widget_id] = state
        self.positions[slider.widget_id] = value
        return await self.rerun(timeout, slider.fragment_id)

    async def _release(self, slider: Slider, value: float, timeout: float) -> RunResult:
        """What a scrubbing view sends on release: a one-shot trigger with all its values."""
        trigger_id, name, values = slider.scrub
        trigger = WidgetState(id=trigger_id)
        released = {**values, name: int(value), "moved": name}
        trigger.json_trigger_value = json.dumps([{"event": "release", "value": released}])
        self.widgets[trigger_id] = trigger
        component_id = slider.widget_id.split("|")[0]
        self.widgets.setdefault(component_id, WidgetState(id=component_id, json_value="{}"))  # as the browser does
        self.positions[slider.widget_id] = value
        try:
            return await self.rerun(timeout, slider.fragment_id)
        finally:
            del self.widgets[trigger_id]  # triggers fire once

    async def click(self, label: str, timeout: float = 120.0) -> RunResult | None:
        """Press the enabled button labelled ``label`` as the browser does (a one-shot trigger, with
        its fragment's id); None when the page shows no such button."""
        button = next((b for b in self.buttons if b.label == label and not b.disabled), None)
        if button is None:
            return None
        self.widgets[button.widget_id] = WidgetState(id=button.widget_id, trigger_value=True)
        try:
            return await self.rerun(timeout, button.fragment_id)
        finally:
            del self.widgets[button.widget_id]  # triggers fire once

    async def tick(self, timeout: float = 120.0) -> RunResult | None:
        """What the browser's timer does for a self-rerunning fragment: wait its interval, rerun it.
        None when no fragment asked for it."""
        if self.auto_rerun is None:
            return None
        seconds, fragment_id = self.auto_rerun
        await asyncio.sleep(seconds)
        return await self.rerun(timeout, fragment_id, auto=True)

    async def move_random_slider(self, rng: random.Random, timeout: float = 120.0) -> RunResult | None:
        """Move one of the page's sliders to another value; None when the page has no slider to move."""
        movable = [slider for slider in self.sliders if slider.high > slider.low and len(slider.value) == 1]
        if not movable:
            return None
        slider = rng.choice(movable)
        value = self.positions.get(slider.widget_id, slider.value[0])
        steps = round((slider.high - slider.low) / slider.step)
        current = round((value - slider.low) / slider.step)
        choices = [step for step in range(steps + 1) if step != current]
        return await self.set_slider(slider, slider.low + rng.choice(choices) * slider.step, timeout)

    async def rerun(self, timeout: float = 120.0, fragment_id: str = "", auto: bool = False) -> RunResult:
        """Send the current page and widget states; collect messages until the run finishes.

        With ``fragment_id`` only that fragment reruns, and only its sliders are renewed.
        """
        message = BackMsg(
            rerun_script=ClientState(
                page_name=self.page,
                page_script_hash=self.page_hash,
                widget_states=WidgetStates(widgets=list(self.widgets.values())),
                fragment_id=fragment_id,
                is_auto_rerun=auto,
            )
        )
        started = time.perf_counter()
        result = RunResult(seconds=0.0, status="timeout")
        sliders: list[Slider] = []
        buttons: list[Button] = []
        paths: list[tuple[int, ...]] = []  # of every element and block this run sent
        if not fragment_id:
            self.auto_rerun = None  # a whole run asks again for the timers it wants
        try:
            await self.connection.send(message.SerializeToString())
            async with asyncio.timeout(timeout):
                while True:
                    raw = await self.connection.recv()
                    result.messages += 1
                    result.payload_bytes += len(raw)
                    forward = ForwardMsg()
                    forward.ParseFromString(raw)
                    kind = forward.WhichOneof("type")
                    if kind == "delta":
                        paths.append(tuple(forward.metadata.delta_path))
                        _read_delta(forward, sliders, result.errors, buttons)
                        if forward.delta.new_element.WhichOneof("type") == "progress":
                            result.progress = forward.delta.new_element.progress.text
                    elif kind == "navigation":  # the page st.navigation chose (its hash)
                        self.page_hash = forward.navigation.page_script_hash
                    elif kind == "auto_rerun":
                        self.auto_rerun = (forward.auto_rerun.interval, forward.auto_rerun.fragment_id)
                    elif kind == "stop_auto_rerun":
                        self.auto_rerun = None
                    elif kind == "page_not_found":
                        result.errors.append(f"page not found: {self.page!r}")
                    elif kind == "script_finished":
                        status = ForwardMsg.ScriptFinishedStatus.Name(forward.script_finished)
                        if status == "FINISHED_EARLY_FOR_RERUN":
                            continue
                        result.status = status
                        break
        except TimeoutError:
            result.status = "timeout"
        except Exception as error:  # the connection closed or a frame was not a ForwardMsg
            result.status = "closed"
            result.errors.append(f"{type(error).__name__}: {error}")
        result.seconds = time.perf_counter() - started
        if fragment_id:  # only the fragment's widgets were sent again; the others stay as they were,
            # except those inside the fragment that it did not draw again (e.g. a nested fragment's)
            renewed = {slider.widget_id for slider in sliders}
            redrawn = _container(paths)
            sliders = [
                slider for slider in self.sliders
                if slider.widget_id not in renewed and not (redrawn and slider.path[: len(redrawn)] == redrawn)
            ] + sliders  # fmt: skip
            pressed = {button.widget_id for button in buttons}
            buttons = [button for button in self.buttons if button.widget_id not in pressed] + buttons
        result.sliders, result.buttons = self.sliders, self.buttons = sliders, buttons
        return result


def _container(paths: list[tuple[int, ...]]) -> tuple[int, ...]:
    """The path of the block a fragment run redrew: the common prefix of what it sent, above its
    shallowest element (() when it sent nothing)."""
    if not paths:
        return ()
    common = itertools.takewhile(lambda values: len(set(values)) == 1, zip(*paths, strict=False))
    prefix = tuple(values[0] for values in common)
    return prefix[: min(len(path) for path in paths) - 1]


def _read_delta(forward: ForwardMsg, sliders: list[Slider], errors: list[str], buttons: list[Button]) -> None:
    delta = forward.delta
    if delta.WhichOneof("type") != "new_element":
        return
    element = delta.new_element
    kind = element.WhichOneof("type")
    if kind == "slider" and element.slider.data_type in (0, 1):  # INT or FLOAT (not dates)
        proto = element.slider
        value = list(proto.value) if proto.set_value and proto.value else list(proto.default)
        sliders.append(
            Slider(proto.id, proto.label, proto.min, proto.max, proto.step or 1.0, value, delta.fragment_id,
                   list(proto.options), path=tuple(forward.metadata.delta_path))
        )  # fmt: skip
    elif kind == "bidi_component" and element.bidi_component.component_name == "cnnviz.scrub_view":
        proto = element.bidi_component
        frame_set = json.loads(gzip.decompress(proto.bytes))
        trigger_id = f"$$STREAMLIT_INTERNAL_KEY_{proto.id}__events"  # bidi_component.main._make_trigger_id
        for view_slider in frame_set.get("sliders", ()):  # none in a picture set (frames.split_pictures)
            sliders.append(
                Slider(f"{proto.id}|{view_slider['name']}", view_slider["label"], view_slider["low"],
                       view_slider["high"], view_slider["step"], [view_slider["value"]], delta.fragment_id,
                       scrub=(trigger_id, view_slider["name"], frame_set["base"]), path=tuple(forward.metadata.delta_path))
            )  # fmt: skip
    elif kind == "button":
        proto = element.button
        buttons.append(Button(proto.id, proto.label, proto.disabled, delta.fragment_id))
    elif kind == "exception":
        errors.append(f"exception: {element.exception.type}: {element.exception.message}")
    elif kind == "alert" and element.alert.format == Alert.ERROR:
        errors.append(f"st.error: {element.alert.body[:200]}")
