"""lstmlib.text: the corpus is exactly the files its manifest lists, and the ground truth of its
structure is what Python's tokenizer says."""

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from lstmlib.text import STRUCTURE_PROPERTIES, load_corpus, python_structure

CORPUS = Path(__file__).resolve().parent.parent / "book" / "data" / "cpython-3.11.7-lib"


@pytest.fixture(scope="module")
def corpus():
    return load_corpus(CORPUS)


def test_the_corpus_is_42_files_of_cpython_split_37_to_5(corpus):
    assert len(corpus.train_files) == 37 and len(corpus.held_out_files) == 5
    assert not set(corpus.train_files) & set(corpus.held_out_files)
    assert len(corpus.train) == 1_103_396 and len(corpus.held_out) == 124_644
    assert corpus.V == 96 and corpus.vocab == "".join(sorted(corpus.vocab))


def test_the_selection_rule_of_the_readme_gives_exactly_these_files(corpus):
    manifest = json.loads((CORPUS / "manifest.json").read_text())
    names = [f["name"] for f in manifest["files"]]
    assert names == sorted(names)
    for k, f in enumerate(manifest["files"]):
        data = (CORPUS / f["name"]).read_bytes()
        assert 20_000 <= len(data) <= 50_000 and data.isascii() and b"\t" not in data
        assert not f["name"].startswith("_")
        assert f["split"] == ("held_out" if k % 8 == 7 else "train"), f["name"]


def test_a_changed_file_is_refused(tmp_path):
    copy = tmp_path / "corpus"
    shutil.copytree(CORPUS, copy)
    (copy / "os.py").write_text((copy / "os.py").read_text() + "# changed\n")
    with pytest.raises(ValueError, match="os.py has sha256"):
        load_corpus(copy)


def test_encode_and_decode_are_inverse_and_refuse_unknown_characters(corpus):
    text = "def f(x):\n    return x  # ok\n"
    ids = corpus.encode(text)
    assert ids.dtype == np.int64 and corpus.decode(ids) == text
    with pytest.raises(ValueError, match="outside the vocabulary"):
        corpus.encode("caf\u00e9")
    with pytest.raises(ValueError, match=r"ids: expected indices in \[0, 96\)"):
        corpus.decode([96])
    with pytest.raises(TypeError, match="text: expected a str"):
        corpus.encode(b"abc")


def test_one_hot_has_a_single_one_at_each_index(corpus):
    x = corpus.one_hot(np.array([[0, 5], [95, 1]]))
    assert x.shape == (2, 2, 96) and x.dtype == np.float64
    assert (x.sum(-1) == 1).all() and x[1, 0, 95] == 1
    with pytest.raises(TypeError, match="ids: expected integer"):
        corpus.one_hot(np.array([1.0]))


def test_structure_marks_strings_comments_brackets_columns_and_indents():
    src = 'x = f(a, "b(")  # c\nif x:\n    y = [1,\n         2]\n'
    s = python_structure(src)
    assert sorted(s) == sorted(STRUCTURE_PROPERTIES)
    at = {k: v for k, v in s.items()}
    i = src.index("b(")
    assert at["in_string"][i] and at["in_string"][i + 1] and not at["in_string"][i - 1]  # quote
    assert at["bracket_depth"][i + 1] == 1  # the "(" inside the string does not count
    assert at["bracket_depth"][src.index("a")] == 1 and at["bracket_depth"][src.index("f")] == 0
    assert at["bracket_depth"][src.index("(")] == 0 and at["bracket_depth"][src.index(")")] == 0
    assert at["in_comment"][src.index("# c")] and at["in_comment"][src.index("c\n")]
    assert at["column"][src.index("if")] == 0 and at["column"][src.index("y")] == 4
    assert at["indent"][src.index("y")] == 4 and at["indent"][src.index("2")] == 9
    assert at["bracket_depth"][src.index("2")] == 1 and at["bracket_depth"][src.index("]")] == 0


def test_structure_of_several_texts_lines_up_with_their_concatenation(corpus):
    texts = corpus.held_out_texts
    s = python_structure(texts)
    assert all(len(v) == len(corpus.held_out) for v in s.values())
    assert s["bracket_depth"].min() == 0 and s["column"][0] == 0
    # inside a string about a fifth of the held-out characters (docstrings), as counted
    assert 0.15 < s["in_string"].mean() < 0.25
