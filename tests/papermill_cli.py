"""Run a notebook with papermill's command line, as a user does (shared by the end-to-end tests)."""
import csv, json, subprocess, sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NBS = ROOT / 'nbs'


def papermill(args, cwd=NBS) -> subprocess.CompletedProcess:
    "`papermill <args>` in `cwd` (default: nbs/), with output captured."
    return subprocess.run([sys.executable, '-m', 'papermill', '--no-progress-bar', *map(str, args)],
                          cwd=cwd, capture_output=True, text=True)


def smoke_run(method: str, args, out, through_papermill: bool = True):
    """A smoke run of `method` with `-p name value` args into `out`: through papermill as a user runs it, or in process
    (the notebook's own cells: `make_config` and `run_experiment`, with the values as strings, as the command line gives
    them). A failed papermill run fails the test with its stderr."""
    out = Path(out)
    if through_papermill:
        p = papermill(['train.ipynb', str(out.parent / f'{out.name}.ipynb'), '-p', 'method', method, '-p', 'preset', 'smoke',
                       '-p', 'out_dir', str(out), *args])
        assert p.returncode == 0, p.stderr[-3000:]
    else:
        from vireid_nb.engine import run_experiment
        run_experiment(verbose=False, method=method, preset='smoke', out_dir=str(out), **dict(zip(args[1::3], args[2::3])))
    return out


def read_run(out):
    "(results.json, config.json, history.csv rows) of a finished run folder."
    out = Path(out)
    hist = list(csv.DictReader((out / 'history.csv').open()))
    return json.loads((out / 'results.json').read_text()), json.loads((out / 'config.json').read_text()), hist
