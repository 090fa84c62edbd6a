#!/usr/bin/env bash
# Prints the commit the protobuf contracts are checked against (`buf breaking`, deploy/test.sh):
#   - on main (or a detached HEAD that main contains): HEAD's parent, the contract before this
#     commit; comparing main with itself would prove nothing;
#   - elsewhere: the merge-base of HEAD with main, or with origin/main on a clone that has no
#     local main (a CI checkout of a branch);
#   - in a repository of a single commit: nothing (an empty line), since nothing came before.
# Fails, saying why, when no baseline can be found otherwise (no main to compare with, or a
# shallow clone that lacks the commits): a check that silently skipped would prove nothing.
set -euo pipefail
cd "${1:-.}"

fail() {
  echo "contract baseline: $*" >&2
  exit 1
}

git rev-parse --verify -q HEAD >/dev/null || fail "no commit in $(pwd -P)"
head="$(git rev-parse HEAD)"
shallow="$(git rev-parse --is-shallow-repository)"
has_parent() { git rev-parse --verify -q "$1^" >/dev/null; }

main_ref=""
for ref in refs/heads/main refs/remotes/origin/main; do
  if git rev-parse --verify -q "$ref" >/dev/null; then
    main_ref="$ref"
    break
  fi
done

on_main=false
if [[ "$(git symbolic-ref -q --short HEAD || true)" == main ]]; then
  on_main=true
elif [[ -n "$main_ref" ]] && git merge-base --is-ancestor "$head" "$main_ref"; then
  on_main=true # a detached checkout of main's history (what CI clones)
fi

if $on_main; then
  if has_parent "$head"; then
    git rev-parse "$head^"
  elif [[ "$shallow" == true ]]; then
    fail "shallow clone: HEAD's parent is not here (git fetch --deepen=1)"
  else
    echo "" # the repository's first commit: no earlier contract
  fi
  exit 0
fi

[[ -n "$main_ref" ]] || fail "no main or origin/main to compare the contracts with (git fetch origin main)"
base="$(git merge-base "$head" "$main_ref")" ||
  fail "HEAD and $main_ref share no history (shallow clone: $shallow; git fetch --unshallow)"
echo "$base"
