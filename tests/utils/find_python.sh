#!/usr/bin/env bash
# Print the path of the first working interpreter among the Python versions given (e.g. `3.13 3.12`).
# For each version it tries `pythonX.Y` in PATH, then pyenv's version folders (`pyenv root`/versions/
# X.Y.*/bin/pythonX.Y, newest first): pyenv's own `pythonX.Y` shims are in PATH but may answer
# "command not found" for a version that is not the global one, so every candidate is run, not trusted.
# Exit 1 with nothing on stdout when none works; with --explain, also say on stderr what is missing.
set -u
explain=0
[ "${1:-}" = --explain ] && { explain=1; shift; }
[ $# -gt 0 ] || { echo "usage: find_python.sh [--explain] X.Y [X.Y ...]" >&2; exit 2; }

works() {  # works PATH X.Y: the interpreter runs and is that version
    [ -x "$1" ] && [ "$("$1" -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null)" = "$2" ]
}

roots=()
if command -v pyenv >/dev/null 2>&1; then roots+=("$(pyenv root 2>/dev/null)"); fi
fallback_root=${PYENV_ROOT:-$HOME/.pyenv}
[ "${roots[0]:-}" = "$fallback_root" ] || roots+=("$fallback_root")

for version in "$@"; do
    candidates=()
    found=$(command -v "python$version" 2>/dev/null) && candidates+=("$found")
    for root in "${roots[@]}"; do
        [ -n "$root" ] || continue
        # Newest patch release first.
        while IFS= read -r dir; do
            candidates+=("$dir/bin/python$version")
        done < <(shopt -s nullglob; dirs=("$root"/versions/"$version".*); [ ${#dirs[@]} -eq 0 ] || printf '%s\n' "${dirs[@]}" | sort -t. -k3,3nr)
    done
    for candidate in "${candidates[@]}"; do
        if works "$candidate" "$version"; then
            if [ "$explain" = 1 ] && [ "$version" != "$1" ]; then
                echo "find_python: Python $1 not found (PATH, pyenv root versions); using Python $version: $candidate" >&2
            fi
            echo "$candidate"
            exit 0
        fi
    done
done
if [ "$explain" = 1 ]; then
    echo "find_python: none of Python $* works here (looked for python$1 etc. in PATH and under" \
         "$(printf '%s/versions ' "${roots[@]}")). Install one (e.g. \`pyenv install $1\` or your OS package" \
         "python$1) or name an interpreter with PYTHON=/path/to/python$1." >&2
fi
exit 1
