"""The live-training page: checks the network before running, trains, compares, hands the result on."""

import pytest

from cnnviz import i18n
from cnnviz.drawing import training_charts
from tests.app.conftest import open_page
from tests.charts import page_charts
from tests.views import captions

PAGE = "pages/training.py"


def run_until_idle(at, limit: int = 200):
    """Rerun (each rerun trains one time slice) until no run is active or queued."""
    for _ in range(limit):
        runs = at.session_state["train.runs"]
        if not at.session_state["train.queue"] and all(run.done for run in runs.values()):
            return at
        at.run()
    raise AssertionError("training did not finish")


def test_page_checks_the_default_network_before_anything_runs():
    at = open_page(PAGE)
    assert not at.exception
    table = at.dataframe[0].value
    assert table.iloc[-1].tolist()[1:] == ["10", 850]  # LeNet-5's last layer: 10 scores, 84*10+10 weights
    assert at.info[0].value == i18n.translate("train.empty")


def test_impossible_network_is_explained_and_start_is_disabled():
    at = open_page(PAGE)
    at.text_area(key="train.spec").set_value("conv 8 k5\nrelu\npool max 2\nconv 8 k13\nflatten\ndense 10").run()
    assert not at.exception
    assert "Line 4: No window fits" in at.warning[0].value  # the line typed, not "Layer 3 (Conv)"
    assert at.button[0].disabled


def test_one_epoch_on_a_tiny_subset_trains_and_offers_the_weights():
    at = open_page(PAGE, **{"train.size": "200", "train.epochs": "1", "train.batch": "32"})
    at.button[0].click().run()
    run_until_idle(at)
    assert not at.exception
    (run,) = at.session_state["train.runs"].values()
    assert len(run.history) == 7  # ceil(200 / 32) steps
    assert run.history[-1].heldout_accuracy is not None
    assert run.history[-1].train_loss < run.history[0].train_loss
    assert "trained_networks" in at.session_state
    loss, accuracy = page_charts(at)  # the learning curves, side by side in one element
    assert not at.get("plotly_chart") and len([m for m in at.markdown if "<svg" in m.value]) == 1
    colour = training_charts.PALETTE[0]
    heldout = [m for m in run.history if m.heldout_accuracy is not None]
    for chart, title in ((loss, "train.chart.loss"), (accuracy, "train.chart.accuracy")):
        (train,) = chart.lines(colour + training_charts.TRAIN_ALPHA)
        assert len(train) == len(heldout)  # training images measured when the held-out ones are
        assert len(chart.dots(colour)) == len(heldout)
        assert {i18n.translate(title), i18n.translate("train.chart.step"), run.label} <= set(chart.texts)
    tips = [dot.hover for dot in accuracy.dots(colour)]
    assert tips[-1] == f"{run.label} · step {heldout[-1].step}: {heldout[-1].heldout_accuracy:.3g}"
    assert [m.label for m in at.metric][:2] == [
        i18n.translate("train.metric.loss"),
        i18n.translate("train.metric.heldout_acc"),
    ]


def test_loss_comparison_queues_two_runs_from_the_same_start():
    at = open_page(PAGE, **{"train.size": "200", "train.epochs": "1"})
    compare = next(b for b in at.button if b.label == i18n.translate("train.compare_losses"))
    compare.click().run()
    run_until_idle(at)
    runs = list(at.session_state["train.runs"].values())
    assert [r.settings.output for r in runs] == ["softmax_ce", "sigmoid_mse"]
    first_weights = [next(r.network.parameters()) for r in runs]
    assert first_weights[0].shape == first_weights[1].shape


def test_page_renders_in_chinese():
    at = open_page(PAGE, lang="zh")
    assert not at.exception
    assert at.title[0].value == i18n.translate("train.title", "zh")


def test_a_run_started_in_chinese_is_named_in_chinese():
    at = open_page(PAGE, lang="zh", **{"train.size": "200", "train.epochs": "1"})
    next(b for b in at.button if b.label == i18n.translate("train.start", "zh")).click().run()
    (label,) = at.session_state["train.runs"] | {entry[0]: None for entry in at.session_state["train.queue"]}
    assert i18n.translate("train.as_written", "zh") in label and "as_written" not in label, label


def test_a_link_made_in_chinese_opens_the_same_settings_in_english():
    link = {
        "train.output": "sigmoid_mse",
        "train.optimizer": "adam",
        "train.data": "shapes",
        "train.activation": "tanh",
    }
    for lang in ("zh", "en"):
        at = open_page(PAGE, lang=lang, **link)
        assert not at.exception
        assert at.selectbox(key="train.output").value == "sigmoid_mse"
        assert at.selectbox(key="train.optimizer").value == "adam"
        assert at.selectbox(key="train.activation").value == "tanh"
        assert at.session_state["train.data"] == "shapes"


def test_a_run_shows_its_predictions_on_its_own_data_after_the_data_set_changes(trained_run):
    """The digits network's predictions stay on digits when the shapes data set is picked for the next run."""
    at = open_page(PAGE)
    at.session_state["train.runs"] = {trained_run.label: trained_run}
    at.segmented_control(key="train.data").set_value("shapes").run()
    assert not at.exception and not at.error, [error.value for error in at.error]
    predicted = [caption.value for caption in at.caption if caption.value[:1] in "✓✗"]
    assert len(predicted) == 6
    assert {caption.split()[1] for caption in predicted} <= set(trained_run.class_names)


def test_both_runs_of_a_comparison_are_on_the_chart_without_leaving_the_page():
    at = open_page(PAGE, **{"train.size": "200", "train.epochs": "1"})
    next(b for b in at.button if b.label == i18n.translate("train.compare_losses")).click().run()
    run_until_idle(at)
    at.run()
    labels = list(at.session_state["train.runs"])
    assert len(labels) == 2
    assert at.multiselect(key="train.shown").value == labels
    for chart in page_charts(at):
        assert set(labels) <= set(chart.texts), "every run of the comparison is in the legend"
    for run in at.session_state["train.runs"].values():  # the gap in numbers, as measured
        last = run.history[-1]
        gap = i18n.translate(
            "train.gap",
            label=run.label,
            train=f"{last.train_set_accuracy:.1%}",
            heldout=f"{last.heldout_accuracy:.1%}",
            gap=f"{100 * (last.train_set_accuracy - last.heldout_accuracy):+.1f}",
        )
        assert gap in captions(at)


def test_the_data_sets_are_made_once_per_server_not_per_rerun(monkeypatch):
    """Making the 2,500 shape pictures costs ~8 s of a core: a slider moved on the page must not pay it again."""
    from cnnviz import datasets

    made = []
    make = datasets.shape_images
    monkeypatch.setattr(datasets, "shape_images", lambda *args, **kwargs: made.append(args) or make(*args, **kwargs))
    at = open_page(PAGE, **{"train.data": "shapes"})
    for epochs in (2, 3):
        at.slider(key="train.epochs").set_value(epochs).run()
    assert not at.exception and not at.error
    assert len(made) <= 1  # none when an earlier test of this process already made them


def test_two_thousand_shapes_train_on_two_thousand():
    at = open_page(PAGE, **{"train.data": "shapes", "train.size": "2000", "train.epochs": "1", "train.batch": "256"})
    at.button[0].click().run()
    (run,) = at.session_state["train.runs"].values()
    assert len(run.data.images) == 2000 and run.total_steps == 8
    assert len(run.data.heldout_images) == 500


def button(at, key: str):
    return next(b for b in at.button if b.label == i18n.translate(key))


def test_a_running_training_can_be_cancelled():
    at = open_page(PAGE, **{"train.size": "2000", "train.epochs": "10", "train.batch": "16"})
    at.button[0].click().run()
    assert at.session_state["train.runs"] and not button(at, "train.cancel").disabled
    button(at, "train.cancel").click().run()
    assert not at.exception
    assert at.session_state["train.runs"] == {} and at.session_state["train.queue"] == []
    assert button(at, "train.cancel").disabled
    assert at.info[0].value == i18n.translate("train.empty")
    from cnnviz import heavy_jobs

    assert heavy_jobs.shared().status() == (0, 0)


@pytest.fixture
def one_heavy_job(monkeypatch):
    """The server's heavy-job budget at one job at once (``CNNVIZ_HEAVY_JOBS=1``)."""
    from cnnviz import heavy_jobs

    monkeypatch.setenv("CNNVIZ_HEAVY_JOBS", "1")
    heavy_jobs._make_shared.cache_clear()
    yield heavy_jobs.shared()
    heavy_jobs._make_shared.cache_clear()  # the next test's queue is sized by its own environment


SMALL = {"train.size": "200", "train.epochs": "1", "train.batch": "32"}


def waiting_place(at) -> str:
    return next((info.value for info in at.info if info.value.startswith("Waiting:")), "")


def test_training_waits_for_the_servers_heavy_job_slot_and_shows_its_place(one_heavy_job):
    queue = one_heavy_job
    other = queue.enqueue("another student")  # the one slot: another student's training slice
    try:
        at = open_page(PAGE, **SMALL)
        button(at, "train.start").click().run()
        assert not at.exception and not at.error
        (run,) = at.session_state["train.runs"].values()
        assert run.history == []  # not one step while another job holds the slot
        assert "Waiting: 1st in line" in waiting_place(at)
        assert queue.status() == (1, 1)
        at.run()  # the live view's timer: still waiting, still nothing trained
        assert run.history == [] and "1st in line" in waiting_place(at)
        other.release()
        run_until_idle(at)
        assert not at.exception and not at.error
        assert len(run.history) == 7 and not waiting_place(at)
    finally:
        other.release()
    assert queue.status() == (0, 0)  # every slice gave its slot back


def test_between_two_slices_the_progress_bar_says_the_run_waits(one_heavy_job, monkeypatch):
    queue = one_heavy_job
    drawn = []
    draw = training_charts.learning_curves
    monkeypatch.setattr(training_charts, "learning_curves", lambda *args: drawn.append(args) or draw(*args))
    at = open_page(PAGE, **{"train.epochs": "30", "train.batch": "16"})  # 3,750 steps: many slices
    button(at, "train.start").click().run()
    (run,) = at.session_state["train.runs"].values()
    assert run.history and not run.done
    other = queue.enqueue("another student")  # takes the slot between two of its slices
    try:
        steps = len(run.history)
        at.run()
        assert len(run.history) == steps and not waiting_place(at)  # no box that comes and goes per slice
        assert "waiting for its turn: 1st in line" in at.get("progress")[0].proto.text
        charts = len(drawn)
        at.run()  # still waiting: the same chart, not drawn again (a waiting class costs the sliders little)
        assert len(drawn) == charts and len(page_charts(at)) == 2
    finally:
        other.release()
    at.run()
    assert len(run.history) > steps and "in line" not in at.get("progress")[0].proto.text
    button(at, "train.cancel").click().run()
    assert not at.exception and not at.error and queue.status() == (0, 0)


def test_cancel_and_pause_leave_the_line(one_heavy_job):
    queue = one_heavy_job
    other = queue.enqueue("another student")
    try:
        at = open_page(PAGE, **SMALL)
        button(at, "train.start").click().run()
        assert queue.status() == (1, 1)
        button(at, "train.pause").click().run()  # a paused run gives its place to the next student
        assert queue.status() == (1, 0) and not waiting_place(at)
        button(at, "train.resume").click().run()
        assert queue.status() == (1, 1) and "1st in line" in waiting_place(at)
        button(at, "train.cancel").click().run()
        assert not at.exception and not at.error
        assert queue.status() == (1, 0) and at.session_state["train.runs"] == {}
    finally:
        other.release()
    assert queue.status() == (0, 0)


def test_only_the_last_runs_are_kept_and_the_page_says_so(monkeypatch):
    monkeypatch.setenv("CNNVIZ_KEPT_RUNS", "2")
    at = open_page(PAGE, **SMALL)
    for _ in range(3):
        button(at, "train.start").click().run()
        run_until_idle(at)
    assert not at.exception and not at.error
    labels = list(at.session_state["train.runs"])
    assert [label.split()[0] for label in labels] == ["#2", "#3"]  # the oldest dropped, numbers not reused
    assert set(at.session_state["trained_networks"]) == set(labels)
    assert i18n.translate("train.kept", count=2) in captions(at)
    for _ in range(3):  # the line of runs waiting to start is bounded too
        button(at, "train.start").click().run()
    assert len(at.session_state["train.queue"]) + len(at.session_state["train.runs"]) <= 2 * 2


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_a_training_worker_that_dies_stops_the_run_and_the_page_says_why(monkeypatch, lang):
    """The process training a slice is killed mid-slice (as the out-of-memory killer would): the
    student reads why in their language, the run offers no download, and Start trains again."""
    import os
    import signal

    from cnnviz import training_workers

    train_slice = training_workers.TrainingWorkers.train_slice

    def slice_whose_worker_dies(workers, run, position, seconds, stop, max_steps):
        def kill_the_worker() -> bool:
            for pid in workers.pids():
                os.kill(pid, signal.SIGKILL)
            return False

        return train_slice(workers, run, position, seconds, kill_the_worker, max_steps)

    monkeypatch.setattr(training_workers.TrainingWorkers, "train_slice", slice_whose_worker_dies)
    at = open_page(PAGE, lang=lang, **SMALL)
    next(b for b in at.button if b.label == i18n.translate("train.start", lang)).click().run()
    run_until_idle(at)
    assert not at.exception and not at.error
    (run,) = at.session_state["train.runs"].values()
    assert run.failure.reason == "training_worker_stopped" and run.history == []
    said = i18n.translate("error.training_worker_stopped", lang, step=0)
    assert [warning.value for warning in at.warning] == [f"{run.label}: {said}"]
    assert "trained_networks" not in at.session_state and not at.get("download_button")
    monkeypatch.undo()  # the next worker lives
    next(b for b in at.button if b.label == i18n.translate("train.start", lang)).click().run()
    run_until_idle(at)
    first, second = at.session_state["train.runs"].values()
    assert first is run and second.failure is None and len(second.history) == second.total_steps == 7
    assert set(at.session_state["trained_networks"]) == {second.label} and at.get("download_button")


def test_a_rerun_with_no_new_step_does_not_run_the_network_again(trained_run, monkeypatch):
    """While a run waits for its turn in the server's line, its live view reruns about once a second
    with the same weights; running the network on the held-out pictures each time cost the server
    ~2/3 of its time for a trainer (py-spy, bench/classroom_training.py): the classroom's sliders
    waited for it. The predictions and the filter sheet are made once per step of a run."""
    calls = {"predictions": 0, "filters": 0}
    predict, filters = training_charts.predictions, training_charts.first_layer_filters

    def counted(name, function):
        def call(*args, **kwargs):
            calls[name] += 1
            return function(*args, **kwargs)

        return call

    monkeypatch.setattr(training_charts, "predictions", counted("predictions", predict))
    monkeypatch.setattr(training_charts, "first_layer_filters", counted("filters", filters))
    at = open_page(PAGE)
    at.session_state["train.runs"] = {trained_run.label: trained_run}
    for _ in range(3):
        at.run()
    assert not at.exception and not at.error
    assert calls == {"predictions": 1, "filters": 1}
    shown = [caption.value for caption in at.caption if caption.value[:1] in "✓✗"]
    expected = training_charts.predictions(
        trained_run.network, trained_run.data.heldout_images[:6], lambda z: z.softmax(1)
    )  # an independent check: the shown guesses are the network's own on these pictures
    names = [trained_run.class_names[int(row.argmax())] for row in expected]
    assert [caption.split()[1] for caption in shown] == names
