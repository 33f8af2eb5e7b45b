"""Expected-failure files: known gaps are listed and do not block certification; an entry
for a case that passes (a stale entry) fails it."""

from __future__ import annotations

import json

import pytest

from polytape.conformance.expected_failures import ExpectedFailure, load_file, match

# exp's four value cases, plus sin's (which pass: a run where nothing passed certifies nothing).
EXP_VALUES = ("test_value and (exp-{name} or sin-{name}) and not logsumexp and not arcsin "
              "and not asinh and not logaddexp and not complex")


@pytest.fixture
def wrong_exp(register_backend, variant, wrong_exp_kernel):
    """A backend whose exp is 25% off (its four exp value cases fail)."""
    return register_backend(variant("faulty_exp", exp=wrong_exp_kernel), "faulty_exp")


def test_text_file_turns_failures_into_known_gaps(certify, wrong_exp, tmp_path):
    xfail = tmp_path / "faulty_exp.txt"
    xfail.write_text("# known gaps of faulty_exp\n\n"
                     "test_value[exp-faulty_exp-*]   exp is approximated to 25%\n")
    cert = certify("--backend", wrong_exp, "--xfail-file", str(xfail),
                   "-k", EXP_VALUES.format(name=wrong_exp))
    assert cert.code == 0, cert.markdown
    b = cert.backend(wrong_exp)
    assert b["verdict"] == "certified"
    assert b["counts"]["xfailed"] == 4 and b["failures"] == [] and b["counts"]["passed"] == 4
    gaps = {g["id"]: g["reason"] for g in b["known_gaps"]}
    assert "test_op_values.py::test_value[exp-faulty_exp-float32]" in gaps
    assert all("exp is approximated to 25%" in r for r in gaps.values())
    assert "### Known gaps (4)" in cert.markdown
    assert cert.data["expected_failure_entries"][0]["matched"] == 4


def test_without_the_file_the_same_run_fails(certify, wrong_exp):
    cert = certify("--backend", wrong_exp, "-k", EXP_VALUES.format(name=wrong_exp))
    assert cert.code == 1
    assert len(cert.backend(wrong_exp)["failures"]) == 4


def test_stale_entry_fails_certification(certify, register_backend, variant, tmp_path):
    """XPASS is strict: an entry for a case that passes fails the run, naming the case."""
    name = register_backend(variant("fixed_exp"), "fixed_exp")
    xfail = tmp_path / "stale.json"
    xfail.write_text(json.dumps({"backend": name, "expected_failures": [
        {"id": "test_value[exp-fixed_exp-float32]", "reason": "was broken in 1.0"}]}))
    cert = certify("--backend", name, "--xfail-file", str(xfail), "-k", EXP_VALUES.format(name=name))
    assert cert.code == 1
    b = cert.backend(name)
    assert b["verdict"] == "not certified"
    (failure,) = b["failures"]
    assert failure["id"] == "test_op_values.py::test_value[exp-fixed_exp-float32]"
    assert failure["outcome"] == "xpassed" and "stale" in failure["message"]
    assert "'test_value[exp-fixed_exp-float32]'" in failure["message"]  # names the entry


def test_scoped_file_applies_to_its_backend_only(certify, wrong_exp, tmp_path):
    xfail = tmp_path / "gaps.txt"
    xfail.write_text("test_value[exp-*]  exp is approximated\n")
    cert = certify("--backend", wrong_exp, "--xfail-file", f"some_other_backend={xfail}",
                   "-k", EXP_VALUES.format(name=wrong_exp))
    assert cert.code == 1
    assert cert.backend(wrong_exp)["counts"]["xfailed"] == 0


def test_backend_ships_its_own_expected_failures(certify, register_backend, variant, wrong_exp_kernel):
    cls = variant("shipped_gaps", exp=wrong_exp_kernel)
    cls.conformance_expected_failures = {"test_value[exp-shipped_gaps-*]": "our exp is approximate"}
    name = register_backend(cls, "shipped_gaps")
    cert = certify("--backend", name, "-k", EXP_VALUES.format(name=name))
    assert cert.code == 0
    gaps = cert.backend(name)["known_gaps"]
    assert len(gaps) == 4 and all("our exp is approximate" in g["reason"] for g in gaps)


def test_file_formats(tmp_path):
    text = tmp_path / "a.txt"
    text.write_text("# comment\nid_one  # reason one\nid_two | reason two\nid_three\n")
    entries = load_file(str(text))
    assert [(e.pattern, e.reason) for e in entries] == [
        ("id_one", "reason one"), ("id_two", "reason two"), ("id_three", "listed in a.txt")]
    flat = tmp_path / "b.json"
    flat.write_text(json.dumps({"x[": "why"}))
    (e,) = load_file(f"MyChip={flat}")  # backend names are case-insensitive
    assert (e.pattern, e.reason, e.backend) == ("x[", "why", "mychip")
    bad = tmp_path / "c.json"
    bad.write_text(json.dumps({"expected_failures": [{"reason": "no id"}]}))
    with pytest.raises(ValueError, match="'id'"):
        load_file(str(bad))
    with pytest.raises(ValueError, match="cannot read"):
        load_file(str(tmp_path / "missing.txt"))


def test_text_file_is_never_read_as_json(tmp_path):
    """A text file whose first line starts with a bracket is text; a JSON-looking line is an
    error that says to use a .json file (it used to be parsed as JSON by its first byte)."""
    text = tmp_path / "gaps.txt"
    text.write_text('[abc]  a pattern that starts with a bracket?\n')
    with pytest.raises(ValueError, match=r"gaps.txt:1: this line looks like JSON.*\.json"):
        load_file(str(text))
    text.write_text('{"test_value[tan-x-float16]": "why"}\n')
    with pytest.raises(ValueError, match="looks like JSON"):
        load_file(str(text))


def test_patterns_match_whole_ids_with_globs():
    """`tan` never matches `arctan`; `*` and `?` are globs, brackets are literal; the file
    part of an id is optional."""
    tan = ExpectedFailure("test_value[tan-mychip-*]", "r", "f")
    assert tan.applies("test_op_values.py::test_value[tan-mychip-float16]", "mychip")
    assert tan.applies("test_value[tan-mychip-float32]", "mychip")
    assert not tan.applies("test_op_values.py::test_value[arctan-mychip-float16]", "mychip")
    assert not tan.applies("test_op_values.py::test_value[tanh-mychip-float16]", "mychip")
    exact = ExpectedFailure("test_value[tan-mychip-float16]", "r", "f")
    assert not exact.applies("test_op_values.py::test_value[tan-mychip-float16]x", "mychip")
    one = ExpectedFailure("test_value[tan-mychip-float?4]", "r", "f")
    assert one.applies("test_value[tan-mychip-float64]", "mychip")
    assert not one.applies("test_value[tan-mychip-float16]", "mychip")
    full = ExpectedFailure("test_op_values.py::test_value[*-mychip-bfloat16]", "r", "f")
    assert full.applies("test_op_values.py::test_value[sin-mychip-bfloat16]", "mychip")
    assert not full.applies("test_op_gradients.py::test_gradient[sin-mychip-bfloat16]", "mychip")


def test_match_respects_backend_and_counts_uses():
    entries = [ExpectedFailure("*[exp-*", "r", "f", backend="a"), ExpectedFailure("*[sin-*", "s", "f")]
    assert match(entries, "test_value[exp-a-float32]", "b") is None
    assert match(entries, "test_value[exp-a-float32]", "a") is entries[0]
    assert match(entries, "test_value[sin-b-float16]", "b") is entries[1]
    assert [e.used for e in entries] == [1, 1]


def test_too_broad_entry_is_named_as_such(certify, register_backend, variant, wrong_exp_kernel,
                                          tmp_path):
    """An entry covering failing and passing cases fails the run; the message says the entry
    is too broad (it matched several cases), not merely stale."""
    name = register_backend(variant("half_broken", exp=wrong_exp_kernel), "half_broken")
    xfail = tmp_path / "broad.txt"
    xfail.write_text("test_value[*-half_broken-float32]  exp is approximated\n")
    cert = certify("--backend", name, "--xfail-file", str(xfail), "-k",
                   f"test_value and (exp-{name}-float32 or sin-{name}-float32) "
                   "and not logsumexp and not arcsin and not asinh and not logaddexp")
    assert cert.code == 1
    b = cert.backend(name)
    assert [g["id"] for g in b["known_gaps"]] == ["test_op_values.py::test_value[exp-half_broken-float32]"]
    (failure,) = b["failures"]
    assert failure["id"] == "test_op_values.py::test_value[sin-half_broken-float32]"
    assert "matches 2 cases: the entry is too broad" in failure["message"]


def test_messages_name_the_cli_flags(certify, tmp_path, capfd):
    """Under `polytape conformance` a bad expected-failure file is reported as --xfail-file."""
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    cert = certify("--backend", "numpy", "--xfail-file", str(bad), "-k", "s000_quadratic")
    err = capfd.readouterr()
    assert cert.code == 4
    assert "--xfail-file: " in err.out + err.err and "--polytape-xfail-file" not in err.out + err.err


def test_malformed_file_is_a_usage_error(certify, tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    cert = certify("--backend", "numpy", "--xfail-file", str(bad), "-k", "s000_quadratic")
    assert cert.code == 4
