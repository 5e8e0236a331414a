"""The filter-visualization page: a short run, its result kept, the gallery, the presets, Chinese."""

from tests.app.conftest import open_page

PAGE = "pages/filter_viz.py"
#: A run that takes well under a second: 8 steps on a 32 x 32 image.
SHORT = {"fviz.steps": "8", "fviz.size": "32"}


def texts(at) -> str:
    return "\n".join([m.value for m in at.markdown] + [c.value for c in at.caption])


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
    at.button(key="fviz.run").click().run()
    assert not at.exception and not at.error and not at.warning
    shown = texts(at)
    assert "the best of 200 held-out images" in shown
    assert "in 8 steps" in shown
    assert "Channel 0 of features.3 on the sidebar's image: 10 × 10" in shown  # a 32 px digit -> 10 x 10 map
    assert image_count(at) == 1 + 6 + 1  # the result, six dataset patches, the map on the user's image
    [result] = at.session_state["fviz.results"].values()
    assert len(result.values) == 8 and result.image.shape == (32, 32)

    at.switch_page("pages/pooling.py").run()
    at.switch_page(PAGE).run()  # back again: the result is there without pressing Run
    assert not at.exception and image_count(at) == 8
    assert list(at.session_state["fviz.results"].values()) == [result]


def test_the_gallery_shows_one_image_per_channel():
    at = open_page(PAGE, **SHORT, **{"fviz.mode": "gallery", "fviz.count": "4", "fviz.layer": "features.0"})
    at.button(key="fviz.run").click().run()
    assert not at.exception and not at.error
    assert image_count(at) == 4
    assert [c.value for c in at.caption][:4] == ["channel 0", "channel 1", "channel 2", "channel 3"]
    assert "The first 4 of features.0" in [h.value for h in at.subheader]


def test_the_presets_set_every_switch():
    at = open_page(PAGE)
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
    at.button(key="fviz.run").click().run()
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
    at.button(key="fviz.run").click().run()
    assert not at.exception and not at.error and not at.warning
    [(key, result)] = at.session_state["fviz.results"].items()
    assert key[0].startswith("trained:") and key[0] != "trained:#1 mine"  # keyed by the weights, not the label
    assert len(result.values) == 8 and result.values[-1] > result.values[0]  # the ascent climbs
    assert "the best of 200 held-out images" in texts(at)  # the digits sample, as for the bundled network
    assert run.network.training  # the run's own network was copied, not switched to eval mode
