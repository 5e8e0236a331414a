"""An ImageNet forward pass on the feature-map page goes through the server's heavy-work budget
(``ui.heavy_work``, ``cnnviz.heavy_jobs``), as the attribution maps do: while every slot is taken,
the page says its place in line and computes nothing; when a slot frees up, it computes and shows
the maps; a rerun on the same picture does not queue again."""

import threading
import time

from cnnviz import features, heavy_jobs
from pages import ui
from tests.app.conftest import open_page
from tests.app.test_feature_maps import PAGE, ok, texts
from tests.app.test_feature_maps_domain import resnet_file  # noqa: F401 (a fixture)


def test_an_imagenet_forward_pass_waits_for_a_slot_and_says_its_place(resnet_file, monkeypatch):  # noqa: F811
    passes, shown = [], []
    real_maps, real_waiting = features.feature_maps, ui._show_waiting
    monkeypatch.setattr(features, "feature_maps", lambda *args, **kw: passes.append(args[2]) or real_maps(*args, **kw))

    def waiting(where, position):  # what the page writes in the slot's place
        shown.append(ui.t("heavy.waiting", place=ui.place_in_line(position), slots=heavy_jobs.shared().slots))
        real_waiting(where, position)

    monkeypatch.setattr(ui, "_show_waiting", waiting)
    queue = heavy_jobs.shared()
    others = [queue.enqueue("another student").__enter__() for _ in range(queue.slots)]  # every slot busy
    opened = {}
    student = threading.Thread(target=lambda: opened.update(at=open_page(PAGE, **{"fmap.network": "resnet18"})))
    try:
        student.start()
        deadline = time.monotonic() + 60
        while not shown and time.monotonic() < deadline:
            time.sleep(0.1)
        time.sleep(1.5)  # a few more turns of waiting
        assert shown and shown[0].startswith("Waiting: 1st in line.")
        assert passes == [] and queue.status() == (queue.slots, 1)  # nothing computed meanwhile
    finally:
        for ticket in others:
            ticket.__exit__(None, None, None)
    student.join(120)
    at = opened["at"]
    assert ok(at) and "layer4.1\nBasicBlock" in texts(at) and not any("Waiting" in info.value for info in at.info)
    assert len(passes) == 1 and queue.status() == (0, 0)
    at.button_group(key="fmap.scale").set_value("network").run()  # the same picture: no new pass, no queue
    assert ok(at) and len(passes) == 1
