# Sourced by bench/anchor.sh and bench/scale.sh (from the repository root):
# bench_venv creates, once, the virtualenv ${CAPLOOP_BENCH_VENV:-target/bench-venv}
# with the pinned packages of bench/requirements.txt (PyPI only), and reuses it
# while the installed versions match. Sets $venv.

bench_venv() {
    venv=${CAPLOOP_BENCH_VENV:-target/bench-venv}
    local python=${CAPLOOP_PYTHON:-python3}
    local start=$SECONDS
    have() {
        "$venv/bin/python" - bench/requirements.txt <<'EOF' 2>/dev/null
import sys, importlib.metadata as m
for line in open(sys.argv[1]):
    line = line.split("#")[0].strip()
    if not line:
        continue
    name, want = line.split("==")
    if m.version(name) != want:
        sys.exit(1)
EOF
    }
    if ! have; then
        echo "bench: installing $(grep -v '^#' bench/requirements.txt | tr '\n' ' ')into $venv" >&2
        if [[ ! -x "$venv/bin/python" ]]; then
            "$python" -m venv "$venv"
        fi
        PIP_DISABLE_PIP_VERSION_CHECK=1 "$venv/bin/python" -m pip install --quiet --no-input \
            -r bench/requirements.txt
        if ! have; then
            echo "bench: the packages of bench/requirements.txt are not importable from $venv" >&2
            exit 1
        fi
        echo "bench: installed in $((SECONDS - start))s" >&2
    else
        echo "bench: reusing $venv" >&2
    fi
}
