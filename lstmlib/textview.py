"""Text coloured by a unit's activation, as Karpathy, Johnson & Fei-Fei (2015) showed their cells:
a static HTML rendering, a kernel-free viewer for the book's HTML, and a live explorer for Jupyter.

* :func:`colored_text` — one passage, each character's background the colour of a value in
  ``[-1, 1]`` (blue negative, white 0, red positive: a diverging palette readable by colour-blind
  readers), as self-contained HTML.
* :func:`text_viewer` — several passages and several units, pre-computed, with two ``<select>``
  menus and a few lines of vanilla JavaScript: works in the static HTML, no kernel, no outside host.
  Values are stored quantised to :data:`LEVELS` colours, one character per text character, so the
  page stays small.
* :func:`cell_explorer` — ipywidgets (Jupyter): pick a unit, type a prompt, sample a continuation
  and see it coloured.

This module imports IPython's display and (for the explorer) ipywidgets; like ``interact``, it is
not imported by ``lstmlib/__init__.py``.
"""

from __future__ import annotations

import html
import itertools
import json

import numpy as np
from IPython.display import HTML

from ._checks import check_array

__all__ = ["LEVELS", "cell_explorer", "colored_text", "text_viewer"]

#: Number of colours a value in [-1, 1] is quantised to (odd: white is the middle one).
LEVELS = 11

_ids = itertools.count(1)


def _palette() -> list[str]:
    """``LEVELS`` colours from blue (-1) through white (0) to red (+1) (ColorBrewer RdBu ends)."""
    blue, red, white = np.array([33, 102, 172]), np.array([178, 24, 43]), np.array([255, 255, 255])
    out = []
    for x in np.linspace(-1, 1, LEVELS):
        end = red if x > 0 else blue
        rgb = np.round(white + abs(x) * (end - white)).astype(int)
        out.append("#{:02x}{:02x}{:02x}".format(*rgb))
    return out


PALETTE = _palette()


def _levels(values) -> np.ndarray:
    """Values in [-1, 1] (clipped) -> colour indices 0..LEVELS-1."""
    v = np.clip(check_array("values", values, ndim=1), -1, 1)
    return np.rint((v + 1) / 2 * (LEVELS - 1)).astype(int)


def _spans(text: str, levels: np.ndarray) -> str:
    out = []
    for ch, k in zip(text, levels, strict=True):
        shown = "\u21b5\n" if ch == "\n" else html.escape(ch)
        dark = abs(k - LEVELS // 2) > 0.6 * (LEVELS // 2)  # white text on the deepest colours
        color = ";color:#fff" if dark else ""
        out.append(f'<span style="background:{PALETTE[k]}{color}">{shown}</span>')
    return "".join(out)


_BOX = (
    'style="font-family:monospace;white-space:pre-wrap;line-height:1.45;font-size:0.85em;'
    'color:#000;background:#fff;padding:0.5em;border:1px solid #ccc;overflow-x:auto"'
)


def colored_text(text: str, values, *, title: str = "") -> HTML:
    """``text`` (n characters) with character ``t`` on the colour of ``values[t]`` (n,), in [-1, 1]
    (values outside are clipped). Newlines show as ``↵``."""
    if not isinstance(text, str):
        raise TypeError(f"text: expected a str, got {type(text).__name__}")
    levels = _levels(values)
    if levels.size != len(text):
        raise ValueError(
            f"values: expected {len(text)} values (one per character), got {levels.size}"
        )
    head = f"<div><strong>{html.escape(title)}</strong></div>" if title else ""
    return HTML(f"{head}<div {_BOX}>{_spans(text, levels)}</div>")


def text_viewer(passages: dict[str, str], units: dict[str, dict[str, np.ndarray]]) -> HTML:
    """A kernel-free viewer: ``passages`` (name -> text), ``units`` (unit name -> passage name ->
    values (len(text),) in [-1, 1]). Two menus pick the unit and the passage; the text is coloured
    in the browser from the stored colour levels."""
    if not passages or not units:
        raise ValueError("passages, units: expected at least one of each")
    data = {"texts": passages, "palette": PALETTE, "levels": {}}
    for unit, per_passage in units.items():
        missing = set(passages) - set(per_passage)
        if missing:
            raise ValueError(f"units[{unit!r}]: no values for passages {sorted(missing)}")
        data["levels"][unit] = {
            p: "".join(str(k) if k < 10 else chr(ord("a") + k - 10) for k in _levels(v))
            for p, v in per_passage.items()
            if p in passages
        }
        for p, code in data["levels"][unit].items():
            if len(code) != len(passages[p]):
                raise ValueError(f"units[{unit!r}][{p!r}]: expected one value per character")
    uid = f"lstm-textview-{next(_ids)}"
    options = "".join(f"<option>{html.escape(u)}</option>" for u in units)
    poptions = "".join(f"<option>{html.escape(p)}</option>" for p in passages)
    # The script reads the JSON below, and rebuilds the coloured spans when a menu changes.
    script = f"""
<script>(function() {{
  const root = document.getElementById("{uid}");
  const data = JSON.parse(root.querySelector("script[type='application/json']").textContent);
  const unit = root.querySelector("select.unit"), passage = root.querySelector("select.passage");
  const out = root.querySelector("div.text");
  function draw() {{
    const text = data.texts[passage.value], code = data.levels[unit.value][passage.value];
    out.textContent = "";
    for (let i = 0; i < text.length; i++) {{
      const k = parseInt(code[i], 16), s = document.createElement("span");
      s.style.background = data.palette[k];
      if (Math.abs(k - {LEVELS // 2}) > {0.6 * (LEVELS // 2)}) s.style.color = "#fff";
      s.textContent = text[i] === "\\n" ? "\\u21b5\\n" : text[i];
      out.appendChild(s);
    }}
  }}
  unit.addEventListener("change", draw); passage.addEventListener("change", draw); draw();
}})();</script>"""
    payload = json.dumps(data, sort_keys=True).replace("</", "<\\/")
    body = (
        f'<div id="{uid}" class="lstm-textview">'
        f'<label>unit <select class="unit" aria-label="unit">{options}</select></label> '
        f'<label>passage <select class="passage" aria-label="passage">{poptions}</select></label>'
        f'<script type="application/json">{payload}</script>'
        f'<div class="text" {_BOX}></div>{script}</div>'
    )
    return HTML(body)


def cell_explorer(model, corpus, units: dict[str, int], *, memory: str = "c", scale=None):
    """ipywidgets in Jupyter: a unit menu, a prompt box, a temperature slider and a button that
    samples 300 characters after the prompt and shows prompt and sample coloured by the unit's
    ``memory`` ("c" or "h") divided by ``scale[unit]`` (default: 1)."""
    import ipywidgets as widgets

    from .cells import unit_states
    from .charlm import sample

    unit = widgets.Dropdown(options=list(units), description="unit")
    prompt = widgets.Textarea(value="def read(self, path):\n    ", description="prompt")
    temp = widgets.FloatSlider(value=0.8, min=0.2, max=1.2, step=0.1, description="temperature")
    seed = widgets.IntText(value=0, description="seed")
    button = widgets.Button(description="sample")
    out = widgets.Output()

    def run(_=None):
        ids = corpus.encode(prompt.value)
        drawn = sample(model, ids, 300, temperature=temp.value, seed=seed.value)
        text_ids = np.r_[ids, drawn]
        acts = unit_states(model, [text_ids])[memory][:, units[unit.value]]
        s = 1.0 if scale is None else scale[unit.value]
        out.clear_output()
        with out:
            from IPython.display import display

            display(colored_text(corpus.decode(text_ids), acts / s, title=unit.value))

    button.on_click(run)
    unit.observe(run, names="value")
    return widgets.VBox([widgets.HBox([unit, temp, seed, button]), prompt, out])
