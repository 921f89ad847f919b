#!/bin/sh
# Re-makes the pictures in docs/images/ (used by docs/tour.md and the README):
#   make-run.svg          `make run` in a real terminal (tmux), colours as a TTY shows them
#   nvim-diagnostics.svg  Neovim with the quorum plugin, diagnostics and the float (nvim_scene.py)
# Each is a `tmux capture-pane -e` rendered by ansi2svg.py. Needs tmux, nvim (0.7.2+), python3;
# offline (the Neovim scene uses the stand-in model server on loopback). With rsvg-convert on
# PATH it also writes PNG previews to build/capture/ for checking. Run from anywhere:
#   docs/capture/run.sh
set -eu
cd "$(dirname "$0")/../.."
here=docs/capture
out=docs/images
tmp=build/capture
sock="quorum-capture-$$"
mkdir -p "$out" "$tmp"
trap 'tmux -L "$sock" kill-server 2>/dev/null || true' EXIT

make -s all >/dev/null

# make run: a plain shell with a "$ " prompt; the command is typed as a user would. Colours
# need a TTY and NO_COLOR unset. make all just ran, so make run prints only the review — unless
# a source changed in between, which the grep below catches.
tmux -L "$sock" -f /dev/null new-session -d -x 120 -y 30 \
  "env -u NO_COLOR TERM=xterm-256color PS1='\$ ' bash --norc --noprofile"
tmux -L "$sock" set-option -g status off
sleep 0.5
tmux -L "$sock" send-keys 'make run' Enter
i=0
until tmux -L "$sock" capture-pane -p | grep -q 'OPENAI_API_KEY or ANTHROPIC_API_KEY'; do
  i=$((i + 1))
  if [ $i -ge 300 ]; then
    echo "capture: make run did not finish; the screen:" >&2
    tmux -L "$sock" capture-pane -p >&2; exit 1
  fi
  sleep 0.2
done
sleep 0.3 # the prompt after it
tmux -L "$sock" capture-pane -e -p >"$tmp/make-run.txt"
tmux -L "$sock" kill-server
if grep -q '^cc ' "$tmp/make-run.txt"; then
  echo "capture: make run rebuilt something; run again" >&2; exit 1
fi
python3 "$here/ansi2svg.py" --title 'make run' --cols 120 <"$tmp/make-run.txt" >"$out/make-run.svg"

python3 "$here/nvim_scene.py" bin/quorum-ls >"$tmp/nvim.txt"
python3 "$here/ansi2svg.py" --title 'nvim src/buffer.c' --cols 120 <"$tmp/nvim.txt" \
  >"$out/nvim-diagnostics.svg"

if command -v rsvg-convert >/dev/null; then
  for f in make-run nvim-diagnostics; do rsvg-convert "$out/$f.svg" -o "$tmp/$f.png"; done
  echo "capture: previews in $tmp/*.png"
fi
echo "capture: wrote $out/make-run.svg $out/nvim-diagnostics.svg"
