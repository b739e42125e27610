#!/usr/bin/env bash
# Set up everything on a fresh Debian machine: system packages, a virtual environment in
# .venv and the toolkit with its dev extras, and the decoder's compiled kernels. Safe to re-run:
# each step is skipped when done.
set -euo pipefail
cd "$(dirname "$0")/.."

# PortAudio for the microphone (asr live); PulseAudio gives the tests a real virtual microphone.
APT_PACKAGES=(espeak-ng flite festival festvox-kallpc16k festvox-kdlpc16k sox libportaudio2 pulseaudio pulseaudio-utils libasound2-plugins)
PYTHON=${PYTHON:-python3}
VENV=${VENV:-.venv}

missing=()
for pkg in "${APT_PACKAGES[@]}"; do
  dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
done
if ! "$PYTHON" -c "import ensurepip, venv" >/dev/null 2>&1; then
  missing+=(python3-venv)
fi
if [ ${#missing[@]} -gt 0 ]; then
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO=sudo
  echo "setup: installing Debian packages: ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

stamp="$VENV/.installed-$(cat setup.cfg pyproject.toml | sha1sum | cut -c1-12)"
if [ ! -f "$stamp" ]; then
  [ -x "$VENV/bin/python" ] || "$PYTHON" -m venv "$VENV"
  echo "setup: installing Python packages into $VENV"
  # torch 2.14.1 + torchaudio 2.11.0 is the pair that installs quickly here and runs on CPU or CUDA.
  "$VENV/bin/pip" install -q --disable-pip-version-check torch==2.14.1 torchaudio==2.11.0
  "$VENV/bin/pip" install -q --disable-pip-version-check -e '.[dev]'
  rm -f "$VENV"/.installed-*
  touch "$stamp"
fi
# Compile the beam-search kernels into their on-disk cache now (20-30 s once), so the first
# `asr transcribe --beam ...` of a new install does not pay for it; a warm cache loads in < 1 s.
"$VENV/bin/python" -m asr.decode.warmup
echo "setup: ready ($VENV)"
