# Sourced by recipes' run.sh after they set their defaults (Kaldi's parse_options.sh habit):
# "--some-name VALUE" sets the existing shell variable some_name; for a variable holding
# true/false, "--some-name" sets it to true and "--no-some-name" to false. Unknown options
# are errors. Also puts the project's .venv on PATH when there is one, checks that `asr` is
# on PATH, and sets $python to the interpreter that runs it.
while [ $# -gt 0 ]; do
  case "$1" in
    --no-*) name=${1#--no-}; value=false; shift_by=1 ;;
    --*) name=${1#--}; value=${2-}; shift_by=2 ;;
    *) echo "$0: unexpected argument $1" >&2; exit 2 ;;
  esac
  name=${name//-/_}
  if [ -z "${!name+set}" ]; then echo "$0: unknown option $1" >&2; exit 2; fi
  current=${!name}
  if [ "$current" = true ] || [ "$current" = false ]; then
    [ "$shift_by" = 2 ] && value=true && shift_by=1
  elif [ "$shift_by" = 1 ] || [ $# -lt 2 ]; then
    echo "$0: option $1 needs a value" >&2; exit 2
  fi
  printf -v "$name" '%s' "$value"
  shift "$shift_by"
done
if [ -d .venv ]; then export PATH="$PWD/.venv/bin:$PATH"; fi
if ! command -v asr >/dev/null 2>&1; then
  echo "$0: the 'asr' command is not on PATH: run 'bash tools/setup.sh', or 'pip install -e .' in your own environment and activate it" >&2
  exit 1
fi
# The interpreter asr was installed with runs the recipe's own scripts (prepare.py), so they
# import the same asr; `python` may be missing or another environment's.
python=
for candidate in "$(sed -n '1s/^#! *//p' "$(command -v asr)")" python3 python; do
  if [ -n "$candidate" ] && $candidate -c "import asr" >/dev/null 2>&1; then python=$candidate; break; fi
done
if [ -z "$python" ]; then echo "$0: no python on PATH imports asr (the one 'asr' runs with: $(command -v asr))" >&2; exit 1; fi
