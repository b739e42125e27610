"""`python -m asr ...` is the `asr` command (what torchrun and environments without the script use)."""

import sys

from asr.cli import main

sys.exit(main())
