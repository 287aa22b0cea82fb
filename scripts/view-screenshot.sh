#!/usr/bin/env bash
# Redraws docs/live-view.png: the live view of `up` a while into a run
# against the fake account (cmd/fakeaws), captured from tmux and drawn by
# headless Chromium. Needs tmux, python3 and Chromium (make setup installs
# Chromium). Usage: scripts/view-screenshot.sh [seconds into the run]
set -euo pipefail
cd "$(dirname "$0")/.."
at=${1:-22}
work=$(mktemp -d)
port=45$((RANDOM % 900 + 100))
sock=myappctl-shot-$$
make -s build
go build -o "$work/fakeaws" ./cmd/fakeaws
"$work/fakeaws" -addr "127.0.0.1:$port" -pace 10 -latency 30ms 2>"$work/fake.log" &
fake=$!
trap 'kill $fake 2>/dev/null; tmux -L $sock kill-server 2>/dev/null; rm -rf "$work"' EXIT
sleep 0.5
tmux -L "$sock" new-session -d -s shot -x 104 -y 30 "bash --norc"
tmux -L "$sock" send-keys -t shot "export PS1='$ ' AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test MYAPP_WAIT_POLL_INTERVAL=1s TERM=xterm-256color; clear" Enter
sleep 0.5
tmux -L "$sock" send-keys -t shot "bin/myappctl up --endpoint-url http://127.0.0.1:$port --state $work/state.json" Enter
sleep "$at"
tmux -L "$sock" capture-pane -e -p -t shot >"$work/screen.ans"

# ANSI (SGR) to HTML: bold, faint, the eight colours.
python3 - "$work/screen.ans" >"$work/screen.html" <<'PY'
import html, re, sys
colours = {30: "#1d1f21", 31: "#e06c75", 32: "#98c379", 33: "#e5c07b", 34: "#61afef", 35: "#c678dd", 36: "#56b6c2", 37: "#dcdfe4"}
out, state = [], {"fg": None, "bold": False, "faint": False}
def span(text):
    style = []
    if state["fg"]: style.append("color:" + state["fg"])
    if state["bold"]: style.append("font-weight:bold")
    if state["faint"]: style.append("opacity:0.55")
    t = html.escape(text)
    return f'<span style="{";".join(style)}">{t}</span>' if style else t
for part in re.split(r"(\x1b\[[0-9;]*m)", open(sys.argv[1], encoding="utf-8").read().rstrip("\n")):
    m = re.fullmatch(r"\x1b\[([0-9;]*)m", part)
    if not m:
        out.append(span(part)); continue
    for p in [int(x or 0) for x in m.group(1).split(";")]:
        if p == 0: state.update(fg=None, bold=False, faint=False)
        elif p == 1: state["bold"] = True
        elif p == 2: state["faint"] = True
        elif p == 22: state.update(bold=False, faint=False)
        elif p in colours: state["fg"] = colours[p]
        elif p == 39: state["fg"] = None
print('<!doctype html><meta charset="utf-8"><style>body{margin:0;background:#282c34}'
      'pre{margin:0;padding:18px 22px;color:#dcdfe4;font:15px/1.35 "DejaVu Sans Mono",monospace}</style><pre>'
      + "".join(out) + "</pre>")
PY
chromium --headless --no-sandbox --disable-gpu --hide-scrollbars --window-size=1020,640 \
  --screenshot="$PWD/docs/live-view.png" "file://$work/screen.html" 2>/dev/null
echo "wrote docs/live-view.png"
