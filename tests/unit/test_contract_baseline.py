"""deploy/contract_baseline.sh: what `buf breaking` (deploy/test.sh) compares the contracts with.
On main, main's previous commit (comparing main with itself proved nothing); on a branch, where
it left main or origin/main (a CI clone of a branch has no local main); nothing in a repository
of one commit; a loud failure, not a skip, when there is no baseline. Real git repositories in
a temporary directory."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / "deploy" / "contract_baseline.sh"
BUF = REPO / "node_modules" / ".bin" / "buf"
GIT_ENV = {
    **os.environ,
    "GIT_AUTHOR_NAME": "t",
    "GIT_AUTHOR_EMAIL": "t@example.invalid",
    "GIT_COMMITTER_NAME": "t",
    "GIT_COMMITTER_EMAIL": "t@example.invalid",
    "GIT_CONFIG_GLOBAL": os.devnull,
    "GIT_CONFIG_NOSYSTEM": "1",
}


def git(cwd: Path, *args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=cwd, env=GIT_ENV, check=True, capture_output=True, text=True
    ).stdout.strip()


def commit(repo: Path, name: str, text: str) -> str:
    (repo / name).parent.mkdir(parents=True, exist_ok=True)
    (repo / name).write_text(text)
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", f"{name}: {text[:20]}")
    return git(repo, "rev-parse", "HEAD")


def baseline(repo: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", str(SCRIPT), str(repo)], env=GIT_ENV, capture_output=True, text=True, check=False
    )


def new_repo(path: Path, branch: str = "main") -> Path:
    path.mkdir()
    git(path, "init", "-q", "-b", branch)
    return path


def test_on_main_its_previous_commit_and_in_a_fresh_clone_too(tmp_path: Path) -> None:
    repo = new_repo(tmp_path / "origin")
    first = commit(repo, "a.txt", "1")
    assert baseline(repo).stdout.strip() == ""  # one commit: nothing came before
    assert baseline(repo).returncode == 0
    second = commit(repo, "a.txt", "2")
    assert baseline(repo).stdout.strip() == first
    clone = tmp_path / "clone"
    git(tmp_path, "clone", "-q", str(repo), str(clone))  # what CI runs on
    assert baseline(clone).stdout.strip() == first
    git(clone, "checkout", "-q", "--detach", second)
    assert baseline(clone).stdout.strip() == first


def test_on_a_branch_where_it_left_main_or_origin_main(tmp_path: Path) -> None:
    repo = new_repo(tmp_path / "origin")
    commit(repo, "a.txt", "1")
    fork = commit(repo, "a.txt", "2")
    git(repo, "checkout", "-q", "-b", "feature")
    commit(repo, "b.txt", "feature work")
    git(repo, "checkout", "-q", "main")
    commit(repo, "a.txt", "3")  # main moved on meanwhile
    git(repo, "checkout", "-q", "feature")
    assert baseline(repo).stdout.strip() == fork
    clone = tmp_path / "clone"
    git(tmp_path, "clone", "-q", "--branch", "feature", str(repo), str(clone))
    assert "main" not in git(clone, "branch", "--list")  # only origin/main
    assert baseline(clone).stdout.strip() == fork


def test_no_baseline_fails_loudly(tmp_path: Path) -> None:
    repo = new_repo(tmp_path / "trunk", branch="trunk")
    commit(repo, "a.txt", "1")
    commit(repo, "a.txt", "2")
    git(repo, "checkout", "-q", "-b", "feature")
    done = baseline(repo)
    assert done.returncode == 1 and "no main or origin/main" in done.stderr
    shallow = tmp_path / "shallow"
    main_repo = new_repo(tmp_path / "main")
    commit(main_repo, "a.txt", "1")
    commit(main_repo, "a.txt", "2")
    git(tmp_path, "clone", "-q", "--depth", "1", f"file://{main_repo}", str(shallow))
    done = baseline(shallow)
    assert done.returncode == 1 and "shallow clone" in done.stderr


@pytest.mark.skipif(not BUF.exists(), reason="npm's buf is installed by deploy/bootstrap.sh")
def test_buf_breaking_against_the_baseline_finds_a_removed_field(tmp_path: Path) -> None:
    repo = new_repo(tmp_path / "origin")
    (repo / "proto").mkdir()
    (repo / "proto" / "buf.yaml").write_text("version: v2\nbreaking:\n  use: [FILE]\n")
    message = 'syntax = "proto3";\npackage t.v1;\nmessage M {\n  string a = 1;\n%s}\n'
    commit(repo, "proto/t/v1/m.proto", message % "  string b = 2;\n")
    commit(repo, "proto/t/v1/m.proto", message % "")  # b removed on main: breaking
    found = baseline(repo).stdout.strip()

    def breaking() -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(BUF), "breaking", "proto", "--against", f".git#ref={found},subdir=proto"],
            cwd=repo,
            capture_output=True,
            text=True,
            check=False,
        )

    done = breaking()
    assert done.returncode != 0 and "deleted" in done.stdout + done.stderr
