"""Run a notebook with papermill's command line, as a user does (shared by the end-to-end tests)."""
import subprocess, sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NBS = ROOT / 'nbs'


def papermill(args, cwd=NBS) -> subprocess.CompletedProcess:
    "`papermill <args>` in `cwd` (default: nbs/), with output captured."
    return subprocess.run([sys.executable, '-m', 'papermill', '--no-progress-bar', *map(str, args)],
                          cwd=cwd, capture_output=True, text=True)
