"""Training under torchrun (DistributedDataParallel) on CPU with the gloo backend: `train.ipynb -p nproc 2` as a user
runs it, rank 0 alone writing the run folder, and the run resumed with a different number of processes."""
import json
import pytest
from papermill_cli import smoke_run
from vireid_nb.core import make_config
from vireid_nb.distributed import launch, LaunchFailed
from vireid_nb.engine import run_experiment, load_checkpoint


def test_two_processes_then_resume_with_one(tmp_path):
    out = smoke_run('agw', ['-p', 'nproc', '2', '-p', 'keep_checkpoint', 'True'], tmp_path / 'run')
    res = json.loads((out / 'results.json').read_text())
    assert res['world_size'] == 2 and res['train_steps'] > 0
    files = sorted(p.name for p in out.iterdir() if not p.name.startswith('events.out.tfevents.'))
    assert files == ['.lock', 'checkpoint.pt', 'config.json', 'history.csv', 'model.pt', 'results.json', 'steps.csv']
    assert len(list(out.glob('events.out.tfevents.*'))) == 1                    # one TensorBoard writer: rank 0
    ck = load_checkpoint(out / 'checkpoint.pt')
    assert (ck['world_size'], ck['epoch'], len(ck['history'])) == (2, 2, 2)
    steps = (out / 'steps.csv').read_text().splitlines()
    assert len(steps) == 1 + res['train_steps']                                # one row per step, not one per rank
    # extended by one epoch in a single process: the checkpoint of the 2-process run fits
    r3 = run_experiment(verbose=False, method='agw', preset='smoke', out_dir=str(out), resume=True, epochs=3)
    assert r3['world_size'] == 1 and r3['train_steps'] == res['train_steps'] * 3 // 2
    assert json.loads((out / 'results-2ep.json').read_text())['world_size'] == 2


def test_a_refused_folder_stops_every_rank(tmp_path):
    run_experiment(verbose=False, method='agw', preset='smoke', out_dir=str(tmp_path / 'done'), epochs=1)
    cfg = make_config('agw', preset='smoke', out_dir=str(tmp_path / 'done'), nproc=2)
    with pytest.raises(LaunchFailed, match='a finished run is never overwritten'):
        launch(cfg, echo=False)
