"""lstmlib.interact: ipywidgets sliders for Jupyter and the kernel-free slider for the HTML."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import itertools  # noqa: E402
import re  # noqa: E402
from html.parser import HTMLParser  # noqa: E402

import ipywidgets as widgets  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from lstmlib import interact  # noqa: E402

PNG = re.compile(r"data:image/png;base64,[A-Za-z0-9+/=]+")  # as in tests/nbval_sanitize.cfg
SMALL = {"figsize": (2.0, 1.0), "dpi": 30}  # tiny frames keep the tests fast


class Recorder:
    """A plot_fn that remembers every call."""

    def __init__(self):
        self.calls = []

    def __call__(self, ax, **values):
        self.calls.append(values)
        ax.plot([0, 1], [0, values.get("f", 0.0)])


class _Elements(HTMLParser):
    def __init__(self, text):
        super().__init__()
        self.tags = []
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def all(self, tag):
        return [a for t, a in self.tags if t == tag]


# --- valve_sliders (Jupyter) ------------------------------------------------------------------


def _sliders(ui):
    return list(ui.children[0].children)


def test_valve_sliders_has_one_slider_per_spec_with_its_range_and_description():
    ui = interact.valve_sliders(
        Recorder(), f=(0.0, 1.0, 0.05, 0.9, "forget valve $f_t$"), i=(0, 1, 0.1, 0.2)
    )
    assert isinstance(ui, widgets.VBox)
    f, i = _sliders(ui)
    assert isinstance(f, widgets.FloatSlider) and isinstance(i, widgets.FloatSlider)
    assert (f.min, f.max, f.step, f.value, f.description) == (0, 1, 0.05, 0.9, "forget valve $f_t$")
    assert (i.min, i.max, i.step, i.value, i.description) == (0, 1, 0.1, 0.2, "i")
    assert (f.readout_format, i.readout_format) == (".2f", ".1f")  # as precise as the step
    assert isinstance(ui.children[1], widgets.Output)


def test_moving_a_slider_redraws_with_the_new_value_and_the_fixed_arguments():
    record = Recorder()
    ui = interact.valve_sliders(record, fixed={"steps": 7}, f=(0, 1, 0.05, 0.9), i=(0, 1, 0.1, 0.2))
    assert record.calls[-1] == {"steps": 7, "f": 0.9, "i": 0.2}  # drawn once at the start
    f, i = _sliders(ui)
    f.value = 0.25
    assert record.calls[-1] == {"steps": 7, "f": 0.25, "i": 0.2}
    i.value = 0.7
    assert record.calls[-1] == {"steps": 7, "f": 0.25, "i": 0.7}
    assert len(record.calls) == 3


def test_the_plot_is_the_output_widgets_state_with_alt_text_and_changes_with_the_slider(capsys):
    ui = interact.valve_sliders(Recorder(), f=(0, 1, 0.05, 0.9, "forget valve"))
    out, (f,) = ui.children[1], _sliders(ui)
    (first,) = out.outputs
    assert '<img src="data:image/png;base64,' in first["data"]["text/html"]
    assert 'alt="The plot redrawn for forget valve = 0.90"' in first["data"]["text/html"]
    f.value = 0.5
    (second,) = out.outputs
    assert 'alt="The plot redrawn for forget valve = 0.50"' in second["data"]["text/html"]
    assert capsys.readouterr().out == "", "the plot must not be displayed into the cell's outputs"


def test_valve_sliders_alt_may_be_a_callable_of_the_values():
    ui = interact.valve_sliders(
        Recorder(), alt=lambda f: f"memory for f={f:.1f}", f=(0, 1, 0.1, 0.3)
    )
    assert 'alt="memory for f=0.3"' in ui.children[1].outputs[0]["data"]["text/html"]
    with pytest.raises(TypeError, match="alt: expected a string or a callable"):
        interact.valve_sliders(Recorder(), alt=3, f=(0, 1, 0.1, 0.3))


def test_a_slider_spec_may_be_a_dict():
    ui = interact.valve_sliders(Recorder(), f={"min": 0, "max": 2, "step": 0.5, "value": 1})
    (f,) = _sliders(ui)
    assert (f.min, f.max, f.step, f.value) == (0, 2, 0.5, 1)


@pytest.mark.parametrize(
    ("spec", "match"),
    [
        ((0, 1, 0.1), r"f: expected \(min, max, step, value\)"),
        ((1, 0, 0.1, 0.5), "min < max"),
        ((0, 1, 0.0, 0.5), "step"),
        ((0, 1, 0.1, 1.5), "min <= value <= max"),
        ((0, 1, 0.1, np.nan), "finite"),
        ({"min": 0, "max": 1, "step": 0.1, "value": 0.5, "colour": "red"}, "unknown key"),
    ],
)
def test_a_bad_slider_spec_raises_a_clear_error(spec, match):
    with pytest.raises(ValueError, match=match):
        interact.valve_sliders(Recorder(), f=spec)


def test_valve_sliders_refuses_bad_arguments():
    with pytest.raises(ValueError, match="at least one slider"):
        interact.valve_sliders(Recorder())
    with pytest.raises(TypeError, match="plot_fn"):
        interact.valve_sliders("plot", f=(0, 1, 0.1, 0.5))
    with pytest.raises(ValueError, match="fixed"):
        interact.valve_sliders(Recorder(), fixed={"f": 1}, f=(0, 1, 0.1, 0.5))
    with pytest.raises(ValueError, match="figsize"):
        interact.valve_sliders(Recorder(), figsize=(0, 3), f=(0, 1, 0.1, 0.5))


# --- static_slider (the book's HTML) ----------------------------------------------------------


@pytest.fixture
def fresh_ids(monkeypatch):
    """Start the element ids from 1, as in a fresh kernel."""
    monkeypatch.setattr(interact, "_ids", itertools.count(1))


def _static(plot_fn=None, values=(0.0, 0.5, 1.0), **kw):
    kw = {"alt": "A line rising to f", "label": "forget valve f_t", **SMALL, **kw}
    return interact.static_slider(plot_fn or Recorder(), "f", values, **kw).data


def test_static_slider_has_one_frame_per_value_each_with_alt_text_naming_its_value(fresh_ids):
    record = Recorder()
    text = _static(record, values=np.linspace(0.2, 0.8, 4), fixed={"steps": 3})
    assert record.calls == [{"steps": 3, "f": v} for v in np.linspace(0.2, 0.8, 4)]
    imgs = _Elements(text).all("img")
    assert len(imgs) == 4
    for img, value in zip(imgs, ("0.20", "0.40", "0.60", "0.80"), strict=True):
        assert img["alt"] == f"A line rising to f, forget valve f_t = {value}"
        assert PNG.fullmatch(img["src"])
    assert [("hidden" in img) for img in imgs] == [True, False, True, True]  # the middle first


def test_static_slider_range_input_matches_the_values_and_is_labelled(fresh_ids):
    elements = _Elements(_static(values=np.linspace(0.5, 1.0, 11), initial=0.9))
    (rng,) = elements.all("input")
    assert rng["type"] == "range"
    assert (rng["min"], rng["max"], rng["step"], rng["value"]) == ("0.5", "1", "0.05", "0.9")
    assert rng["aria-valuetext"] == "0.90"
    assert "disabled" in rng  # enabled by its script; without JavaScript one frame still shows
    (label,) = elements.all("label")
    assert label["for"] == rng["id"]
    (figure,) = elements.all("figure")
    assert figure["data-lstm-frames"] == "11"


def test_static_slider_loads_nothing_from_anywhere(fresh_ids):
    text = _static()
    assert "http" not in text.lower() and "//" not in PNG.sub("", text)
    elements = _Elements(text)
    assert {t for t, _ in elements.tags} <= {"figure", "div", "label", "output", "input", "img",
                                             "script"}  # fmt: skip
    for tag, attrs in elements.tags:
        for key in ("src", "href", "srcset", "data", "action"):
            assert key not in attrs or (tag == "img" and PNG.fullmatch(attrs[key])), (tag, key)


def test_static_slider_ids_are_deterministic_so_stored_outputs_do_not_change(monkeypatch):
    def run():
        monkeypatch.setattr(interact, "_ids", itertools.count(1))
        first, second = _static(), _static(values=(1, 2))
        return PNG.sub("<PNG>", first), PNG.sub("<PNG>", second)

    a1, a2 = run()
    assert run() == (a1, a2)
    assert 'id="lstm-slider-1"' in a1 and 'id="lstm-slider-2"' in a2
    assert not re.search(r"[0-9a-f]{8}-[0-9a-f]{4}", a1)  # no uuid


def test_static_slider_escapes_its_text(fresh_ids):
    text = _static(label="<b>f</b>", alt='say "hi"', fmt="{:.1f}</script>")
    assert "<b>" not in text and "&lt;b&gt;" in text and "say &quot;hi&quot;" in text
    assert text.count("</script>") == 1


def test_static_slider_accepts_a_callable_alt(fresh_ids):
    imgs = _Elements(_static(alt=lambda f: f"the memory keeps {f:.0%}")).all("img")
    assert [img["alt"] for img in imgs] == ["the memory keeps 0%", "the memory keeps 50%",
                                            "the memory keeps 100%"]  # fmt: skip


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"values": [0.5]}, ValueError, "2 to"),
        ({"values": np.linspace(0, 1, interact.MAX_FRAMES + 1)}, ValueError, "2 to"),
        ({"values": [0, 0.1, 0.3]}, ValueError, "evenly spaced"),
        ({"values": [1, 0.5, 0]}, ValueError, "increasing"),
        ({"values": [0, np.inf]}, ValueError, "finite"),
        ({"values": ["a", "b"]}, TypeError, "values"),
        ({"alt": ""}, ValueError, "alt"),
        ({"alt": lambda v: ""}, ValueError, "alt"),
        ({"label": ""}, ValueError, "label"),
        ({"fixed": {"f": 1}}, ValueError, "fixed"),
        ({"initial": 0.3}, ValueError, "initial"),
        ({"fmt": "{:d}"}, ValueError, "fmt"),
        ({"dpi": 0}, ValueError, "dpi"),
    ],
)
def test_static_slider_refuses_bad_arguments(kwargs, error, match):
    with pytest.raises(error, match=match):
        _static(**kwargs)


def test_static_slider_refuses_a_bad_name_or_plot_fn():
    with pytest.raises(ValueError, match="name"):
        interact.static_slider(Recorder(), "forget valve", [0, 1], alt="a", **SMALL)
    with pytest.raises(TypeError, match="plot_fn"):
        interact.static_slider(None, "f", [0, 1], alt="a", **SMALL)


@pytest.mark.browser
def test_several_static_sliders_on_one_page_move_with_the_keyboard(tmp_path, fresh_ids):
    from playwright.sync_api import sync_playwright

    from tests.browser.chromium import LAUNCH_ARGS, find_chromium

    body = _static() + _static(values=(1, 2, 3, 4))
    path = tmp_path / "page.html"
    path.write_text(f"<!doctype html><html><body>{body}</body></html>")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=find_chromium(), args=LAUNCH_ARGS)
        try:
            page = browser.new_page()
            problems = []
            page.on("pageerror", lambda e: problems.append(str(e)))
            page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
            page.on("request", lambda r: None if r.url.startswith(("file:", "data:"))
                    else problems.append(r.url))  # fmt: skip
            page.goto(path.as_uri())
            for k, (before, after, last) in enumerate([("0.50", "1.00", "1.00"),
                                                        ("2.00", "3.00", "4.00")]):  # fmt: skip
                fig = page.locator("figure[data-lstm-frames]").nth(k)
                rng = fig.locator("input[type=range]")
                assert rng.is_enabled()
                assert fig.locator("output").text_content() == before
                assert fig.locator("img:visible").count() == 1
                shown = fig.locator("img:visible").get_attribute("alt")
                rng.focus()
                page.keyboard.press("ArrowRight")
                assert fig.locator("output").text_content() == after
                assert rng.get_attribute("aria-valuetext") == after
                assert fig.locator("img:visible").count() == 1
                assert fig.locator("img:visible").get_attribute("alt").endswith(after)
                assert fig.locator("img:visible").get_attribute("alt") != shown
                page.keyboard.press("End")
                assert fig.locator("output").text_content() == last
            assert problems == []
        finally:
            browser.close()
