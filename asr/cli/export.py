"""`asr export`: a streaming checkpoint -> TorchScript or ONNX files (`asr.export`), parity-checked."""

from __future__ import annotations

import argparse
from pathlib import Path


def add_parsers(commands) -> None:
    from asr.export import FORMATS

    p = commands.add_parser("export", help="export a streaming model to TorchScript or ONNX (for --runtime)")
    p.add_argument("model", type=Path, help="a streaming checkpoint (model.bidirectional: false)")
    p.add_argument("--format", required=True, choices=list(FORMATS), help="torchscript (torch.jit) or onnx (onnxruntime)")
    p.add_argument("-o", "--output", type=Path, help="path stem of the files (default: MODEL's, e.g. best-onnx.json)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from asr.export import default_path, export
    from asr.transcribe import load_model

    model = load_model(args.model, "cpu").model
    files = export(model, args.model, args.format, args.output or default_path(args.model, args.format))
    print(f"{files.meta}\n{files.encoder}\n{files.head}")
    print(f"parity with the eager model: within 1e-4 (asr stream --runtime {args.format})")
    return 0
