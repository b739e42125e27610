# Sourced by recipes' run.sh after they set their defaults (Kaldi's parse_options.sh habit):
# "--some-name VALUE" sets the existing shell variable some_name; for a variable holding
# true/false, "--some-name" sets it to true and "--no-some-name" to false. Unknown options
# are errors. Also puts the project's .venv on PATH when there is one.
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
[ -d .venv ] && export PATH="$PWD/.venv/bin:$PATH"
