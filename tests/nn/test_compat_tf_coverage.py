"""docs/tensorflow-compat.md is generated from polytape.compat.coverage.NAMES and tells the
truth about each name."""

from __future__ import annotations

from pathlib import Path

import pytest

import polytape as pt
from polytape.compat import coverage

DOC = Path(__file__).resolve().parents[2] / "docs" / "tensorflow-compat.md"


def test_the_coverage_document_is_current():
    assert DOC.read_text() == coverage.render(), (
        "regenerate it: python -m polytape.compat.coverage > docs/tensorflow-compat.md")


@pytest.mark.parametrize("path", coverage.NAMES)
def test_each_entry_is_true(path):
    st = coverage.status(path)
    if st == "missing":
        with pytest.raises(pt.NotProvidedError, match="polytape does not provide tf.") as info:
            coverage._resolve(path)
        named = str(info.value).split("tf.", 1)[1].split(":", 1)[0]
        assert path == named or path.startswith(named + ".")  # the first missing part
        with pytest.raises(AttributeError):
            coverage._resolve(path)
    else:
        assert coverage._resolve(path) is not None


def test_partial_notes_name_listed_names():
    assert set(coverage.PARTIAL) <= set(coverage.NAMES)
    assert len(coverage.NAMES) == len(set(coverage.NAMES)) >= 145
