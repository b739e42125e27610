# Sourced by the recipes that pre-train on other corpora's real speakers (ljspeech, librispeech
# run.sh). Needs $python (recipes/parse_options.sh) and $get (--download or empty).
# pool_speakers OUT_DIR OWN_NAME OWN_DIR [NAME DATA_DIR]... : prepares each other corpus whose
# DATA_DIR is not empty with its own recipe's prepare.py (its split, into data/NAME) and pools
# every corpus's training speakers into OUT_DIR/pretrain_real (recipes/english/prepare.py).
pool_speakers() {
  local out=$1 pool="--corpus $2=$3"
  shift 3
  while [ $# -gt 0 ]; do
    if [ -n "$2" ]; then
      $python "recipes/$1/prepare.py" --data-dir "$2" --out-dir "data/$1" $get
      pool="$pool --corpus $1=data/$1"
    fi
    shift 2
  done
  $python recipes/english/prepare.py --out-dir "$out/pretrain_real" $pool
}
