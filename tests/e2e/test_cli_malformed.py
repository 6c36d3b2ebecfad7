"""Every malformed file of the corpus: the CLI gives the reader's message and sends nothing."""

from __future__ import annotations

import importlib.util
import io
from pathlib import Path
from typing import Any

import pytest

from recotap_desktop.cli import main
from recotap_desktop.sandbox import DEMO_API_KEY, SandboxServer

DATA = Path(__file__).resolve().parent.parent / "data"


def _corpus_expectations() -> Any:
    spec = importlib.util.spec_from_file_location(
        "corpus_expectations", DATA.parent / "files" / "test_files_corpus.py"
    )
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


CORPUS = _corpus_expectations()


@pytest.mark.parametrize("name", sorted(CORPUS.PROBLEMS))
def test_malformed_file_sends_zero_requests(
    name: str, small_sandbox: SandboxServer, tmp_path: Path
) -> None:
    fragments, _row, _column = CORPUS.PROBLEMS[name]
    before = len(small_sandbox.state.request_log)
    out, err = io.StringIO(), io.StringIO()
    code = main(
        [
            "--data-dir",
            str(tmp_path),
            "--base-url",
            small_sandbox.base_url("crm"),
            "import",
            "accounts",
            str(DATA / name),
            "--yes",
        ],
        stdin=io.StringIO(""),
        stdout=out,
        stderr=err,
        env={"RECOTAP_API_KEY": DEMO_API_KEY},
    )
    assert code == 2, err.getvalue()
    for fragment in fragments:
        assert fragment.lower() in err.getvalue().lower()
    assert list(small_sandbox.state.request_log)[before:] == []  # not even a GET
