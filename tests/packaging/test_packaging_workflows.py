"""The GitHub workflows keep the rules actionlint and zizmor do not spell out (those two
run in .ci/test through .ci/lint-workflows): every action pinned to a full commit SHA with
its version beside it, the test workflow running .ci/test exactly as .ci/run does on the
three systems, and the release build without a dependency cache."""

from __future__ import annotations

import re
import shlex

import pytest
from packaging_helpers import ROOT

WORKFLOWS = ROOT / ".github" / "workflows"
USES = re.compile(r"^\s*(?:-\s+)?uses:\s*(?P<ref>\S+)(?P<rest>.*)$", re.MULTILINE)


def _workflow(name: str) -> str:
    return (WORKFLOWS / name).read_text(encoding="utf-8")


@pytest.mark.parametrize("name", sorted(p.name for p in WORKFLOWS.glob("*.yml")))
def test_every_action_is_pinned_to_a_commit_with_its_version_in_a_comment(name):
    uses = list(USES.finditer(_workflow(name)))
    assert uses, f"{name} uses no action?"
    for match in uses:
        action, _, ref = match["ref"].partition("@")
        assert re.fullmatch(r"[0-9a-f]{40}", ref), f"{name}: {match['ref']} is not a full SHA"
        assert re.fullmatch(r"\s*# v\d+\.\d+\.\d+", match["rest"]), (
            f"{name}: {action} needs its version in a comment (# vX.Y.Z)")


def test_checkouts_keep_no_credentials():
    for path in WORKFLOWS.glob("*.yml"):
        text = path.read_text(encoding="utf-8")
        checkouts = text.count("uses: actions/checkout@")
        assert text.count("persist-credentials: false") == checkouts, path.name


def test_the_test_workflow_runs_ci_test_like_ci_run_on_three_systems():
    text = _workflow("test.yml")
    ci_run = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    local = next(shlex.split(line) for line in ci_run.splitlines()
                 if line.startswith("bash .ci/test"))
    hosted = [shlex.split(line.strip().removeprefix("run: "))
              for line in text.splitlines() if "bash .ci/test" in line]
    assert hosted == [local]  # one step, same arguments: the same pytest options
    oses = set(re.findall(r"^\s+os: (\S+)", text, re.MULTILINE))
    assert {o.split("-")[0] for o in oses} == {"ubuntu", "windows", "macos"}
    for step in ("security create-keychain", "security unlock-keychain",
                 "security list-keychains", "security default-keychain"):
        assert step in text


def test_release_build_has_no_cache_and_least_permissions():
    text = _workflow("release.yml")
    assert not re.search(r"^\s+cache(-dependency-path)?:", text, re.MULTILINE)
    assert "actions/cache" not in text
    assert re.search(r"^permissions: \{\}$", text, re.MULTILINE)
    assert text.count("contents: write") == 1  # the release job only
