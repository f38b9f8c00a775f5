"""lstmlib.textview: coloured text that needs no kernel and no outside host."""

import re

import numpy as np
import pytest

from lstmlib.textview import LEVELS, PALETTE, colored_text, text_viewer


def test_palette_runs_from_blue_through_white_to_red():
    assert len(PALETTE) == LEVELS and PALETTE[LEVELS // 2] == "#ffffff"
    assert PALETTE[0] == "#2166ac" and PALETTE[-1] == "#b2182b"


def test_colored_text_gives_each_character_the_colour_of_its_value():
    out = colored_text("a<\n", np.array([-1.0, 0.0, 2.0])).data
    spans = re.findall(r"background:(#[0-9a-f]{6})[^>]*>([^<]*)</span>", out)
    assert spans == [(PALETTE[0], "a"), (PALETTE[LEVELS // 2], "&lt;"), (PALETTE[-1], "\u21b5\n")]
    with pytest.raises(ValueError, match="values: expected 3 values"):
        colored_text("abc", np.zeros(2))


def test_the_viewer_is_self_contained_and_stores_one_level_per_character():
    out = text_viewer({"p": "ab</script>"}, {"unit 1": {"p": np.linspace(-1, 1, 11)}}).data
    assert "http" not in out and "<script src" not in out
    assert '"p": "0123456789a"' in out  # levels 0..10 in one hex digit each
    assert "<\\/script>" in out  # the text cannot close the JSON's script element
    with pytest.raises(ValueError, match="no values for passages"):
        text_viewer({"p": "ab", "q": "cd"}, {"u": {"p": np.zeros(2)}})
