"""The filter-visualization page: a short run, its result kept, the gallery, the presets, Chinese."""

import re

import pytest

from tests.app.conftest import open_page

PAGE = "pages/filter_viz.py"
#: A run that takes well under a second: 8 steps on a 32 x 32 image.
SHORT = {"fviz.steps": "8", "fviz.size": "32"}


def texts(at) -> str:
    return "\n".join([m.value for m in at.markdown] + [c.value for c in at.caption])


def run_to_end(at):
    """Press Run, then rerun as the lesson's timer does (one slice of the run each) until it ends."""
    at.button(key="fviz.run").click().run()
    for _ in range(200):
        if "fviz.job" not in at.session_state:
            return at
        at.run()
    raise AssertionError("the run never finished")


def image_count(at) -> int:
    return sum(len(element.proto.imgs) for element in at.get("image"))


def test_nothing_runs_until_asked():
    at = open_page(PAGE)
    assert not at.exception and not at.error
    assert any("press **Run**" in info.value for info in at.info)
    assert image_count(at) == 0
    assert at.selectbox(key="fviz.layer").value == "features.3"  # the digits network's last convolution


def test_a_short_run_shows_the_result_beside_the_data_and_keeps_it():
    at = open_page(PAGE, **SHORT)
    run_to_end(at)
    assert not at.exception and not at.error and not at.warning
    shown = texts(at)
    assert "the strongest of all 3,000 MNIST digits the app ships" in shown
    assert "in 8 steps" in shown
    assert "Channel 0 of features.3 on the sidebar's image: 10 × 10" in shown  # a 32 px digit -> 10 x 10 map
    assert image_count(at) == 1 + 6 + 1  # the result, six dataset patches, the map on the user's image
    [result] = at.session_state["fviz.results"].values()
    assert len(result.values) == 8 and result.image.shape == (32, 32)

    at.switch_page("pages/pooling.py").run()
    at.switch_page(PAGE).run()  # back again: the result is there without pressing Run
    assert not at.exception and image_count(at) == 8
    assert list(at.session_state["fviz.results"].values()) == [result]


def ratio_shown(at) -> float:
    [caption] = [c.value for c in at.caption if "the strongest of all" in c.value]
    return float(re.search(r"\*\*([\d.]+)×\*\*", caption).group(1))


def test_the_ratio_is_to_the_strongest_of_every_shipped_digit():
    """Recomputed here with torch alone: channel 0 of features.3 after its ReLU, averaged over
    the map, for the result and for all 3,000 shipped digits (2,000 training, 1,000 held out)."""
    import numpy as np
    import torch

    from cnnviz import datasets, models

    at = run_to_end(open_page(PAGE, **{**SHORT, "fviz.steps": "32"}))
    [result] = at.session_state["fviz.results"].values()
    network = models.load_bundled("digits")
    mean, std = network.manifest.mean[0], network.manifest.std[0]
    data = datasets.digits()
    digits = torch.cat([data.images, data.heldout_images])  # (3000, 1, 28, 28) in 0..1
    to_conv = network.model.features[:4]  # up to features.3, the page's default layer

    def channel_mean(pictures: torch.Tensor) -> np.ndarray:
        with torch.no_grad():
            return torch.relu(to_conv((pictures - mean) / std)[:, 0]).mean(dim=(1, 2)).numpy()

    ours = channel_mean(torch.from_numpy(result.image)[None, None])[0]
    assert len(digits) == 3000
    assert ours > 0 and ratio_shown(at) == pytest.approx(ours / channel_mean(digits).max(), abs=0.005)


@pytest.mark.parametrize("kind", ["channel", "neuron", "class"])
def test_at_the_page_defaults_every_kind_of_target_beats_every_shipped_digit(kind):
    """Measured at the defaults (Fourier + transforms, 128 steps, 64 px): channel 0 of features.3
    1.09x, the neuron 1.26x, the class "0" 1.53x the strongest of the 3,000 digits."""
    at = run_to_end(open_page(PAGE, **{"fviz.kind": kind}))
    assert not at.exception and not at.error and not at.warning
    assert ratio_shown(at) > 1
    kept = [c.value for c in at.caption if "keeps **" in c.value]
    assert len(kept) == (kind != "neuron")  # a neuron is run without moves: nothing to measure them by


def test_the_gallery_shows_one_image_per_channel():
    at = open_page(PAGE, **SHORT, **{"fviz.mode": "gallery", "fviz.count": "4", "fviz.layer": "features.0"})
    run_to_end(at)
    assert not at.exception and not at.error
    assert image_count(at) == 4
    assert [c.value for c in at.caption][:4] == ["channel 0", "channel 1", "channel 2", "channel 3"]
    assert "The first 4 of features.0" in [h.value for h in at.subheader]


def test_decorrelated_colour_is_offered_only_for_colour_networks():
    """A gray picture has no colours to decorrelate: the switch would do nothing."""
    gray = open_page(PAGE)
    assert not gray.exception
    assert "fviz.decorrelate" not in [toggle.key for toggle in gray.toggle]
    colour = open_page(PAGE, **{"fviz.network": "shapes"})
    assert colour.toggle(key="fviz.decorrelate").value  # the default preset's


def test_the_presets_set_every_switch():
    at = open_page(PAGE, **{"fviz.network": "shapes"})
    at.button(key="fviz.preset.pixels").click().run()
    assert at.segmented_control(key="fviz.param").value == "pixels"
    assert not any(at.toggle(key=f"fviz.{name}_on").value for name in ("pad", "jitter", "scale", "rotate", "l2", "tv"))
    assert not at.toggle(key="fviz.decorrelate").value
    at.button(key="fviz.preset.lucid").click().run()
    assert at.segmented_control(key="fviz.param").value == "fourier"
    assert at.slider(key="fviz.jitter").value == 4 and at.toggle(key="fviz.rotate_on").value


def test_a_class_of_the_colour_network():
    at = open_page(PAGE, **SHORT, **{"fviz.network": "shapes", "fviz.kind": "class", "fviz.index": "3"})
    assert not at.exception and "star" in texts(at)
    run_to_end(at)
    assert not at.exception and not at.error
    [result] = at.session_state["fviz.results"].values()
    assert result.image.shape == (64, 64, 3)  # a class score needs the network's own input size
    assert "Score for “star”" in texts(at)


def test_chinese():
    at = open_page(PAGE, lang="zh")
    assert not at.exception
    assert at.title[0].value == "滤波器想看什么：激活最大化"


def test_a_network_trained_on_the_training_page_can_be_visualized(trained_run):
    run = trained_run
    at = open_page(PAGE, **SHORT)
    at.session_state["trained_networks"] = {"#1 mine": run}
    at.run()
    assert "Trained by you: #1 mine" in at.selectbox(key="fviz.network").options
    at.selectbox(key="fviz.network").set_value("trained:#1 mine").run()
    first_conv = at.selectbox(key="fviz.layer").options[0]
    at.selectbox(key="fviz.layer").set_value(first_conv).run()
    run_to_end(at)
    assert not at.exception and not at.error and not at.warning
    [(key, result)] = at.session_state["fviz.results"].items()
    assert key[0].startswith("trained:") and key[0] != "trained:#1 mine"  # keyed by the weights, not the label
    assert len(result.values) == 8 and result.values[-1] > result.values[0]  # the ascent climbs
    assert "the strongest of all 3,000 MNIST digits the app ships" in texts(at)  # as for the bundled network
    assert run.network.training  # the run's own network was copied, not switched to eval mode


# --- Heavy work: a run is a job in the server's budget, in slices, stoppable ------------------

#: A gallery that takes many slices (tens of seconds): it is still under way after one rerun.
LONG = {"fviz.mode": "gallery", "fviz.count": "10", "fviz.size": "128", "fviz.steps": "512"}


def queue_status():
    from cnnviz import heavy_jobs

    return heavy_jobs.shared().status()


def test_a_long_gallery_runs_in_slices_and_stop_ends_it():
    at = open_page(PAGE, **LONG)
    at.button(key="fviz.run").click().run()  # Run, then one slice
    assert not at.exception and not at.error
    job = at.session_state["fviz.job"]
    done = len(job.values)
    assert 0 < done < 512  # under way
    assert "fviz.run" not in [button.key for button in at.button]  # Run became Stop
    assert any("Step" in bar.proto.text for bar in at.get("progress"))
    assert queue_status() == (0, 0)  # between two slices the session holds no slot
    at.run()  # the lesson's timer: the next slice
    assert len(at.session_state["fviz.job"].values) > done

    at.button(key="fviz.stop").click().run()
    assert not at.exception and not at.error
    assert "fviz.job" not in at.session_state and "fviz.results" not in at.session_state
    assert any("Stopped" in info.value for info in at.info)
    assert "fviz.run" in [button.key for button in at.button]
    assert queue_status() == (0, 0)


def test_a_run_waits_its_turn_shows_its_place_and_can_leave_the_line():
    from cnnviz import heavy_jobs

    queue = heavy_jobs.shared()
    others = [queue.enqueue("another student") for _ in range(queue.slots)]  # every slot busy
    ahead = queue.enqueue("one more student")
    try:
        at = open_page(PAGE, **SHORT)
        at.button(key="fviz.run").click().run()
        assert not at.exception and not at.error
        assert any("Waiting: 2nd in line" in info.value for info in at.info)
        assert at.session_state["fviz.job"].values == []  # nothing computed while waiting
        assert queue.status() == (queue.slots, 2)
        at.button(key="fviz.stop").click().run()  # leave the line
        assert queue.status() == (queue.slots, 1) and "fviz.job" not in at.session_state
        ahead.release()
        for ticket in others:
            ticket.release()
        run_to_end(at)
        assert not at.exception and not at.error
        [result] = at.session_state["fviz.results"].values()
        assert len(result.values) == 8
    finally:
        for ticket in [*others, ahead]:
            ticket.release()
    assert queue.status() == (0, 0)


def test_places_in_line_in_both_languages(monkeypatch):
    from pages import ui

    places = [1, 2, 3, 4, 11, 12, 13, 21, 22, 23, 101, 111, 112]
    assert [ui.place_in_line(n) for n in places] == [
        "1st", "2nd", "3rd", "4th", "11th", "12th", "13th", "21st", "22nd", "23rd", "101st", "111th", "112th"
    ]  # fmt: skip
    monkeypatch.setattr(ui, "lang", lambda: "zh")
    assert ui.place_in_line(3) == "第 3 位" and ui.t("heavy.stop") == "停止"
