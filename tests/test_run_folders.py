"""Run folders never lose work: refusals before training, a killed run resumed to the same result, one process per
folder, damaged files named, a NaN loss that keeps the last good checkpoint (nbs/09_engine, "Run folders")."""
import hashlib, json, os, shutil, signal, subprocess, sys, textwrap, time
from pathlib import Path
import pytest
import torch

from papermill_cli import ROOT
from vireid_nb.core import make_config
from vireid_nb.engine import (Experiment, RunFileError, RunFolderError, load_checkpoint, run_experiment, run_state,
                              _read_csv)

# long enough epochs (6 steps) that a kill lands inside one; CPU runs are deterministic, so results must match exactly
RUN = dict(method='agw', preset='smoke', epochs=3, epoch_len=6, eval_trials=2)


def _hashes(folder: Path) -> dict:
    return {p.name: hashlib.sha1(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir()) if p.is_file()}


def _metrics(folder: Path) -> list:
    return [{k: p[k] for k in ('protocol', 'rank1', 'mAP', 'mINP', 'per_trial')}
            for p in json.loads((folder / 'results.json').read_text())['results']]


@pytest.fixture(scope='module')
def finished(tmp_path_factory) -> Path:
    "An uninterrupted run of RUN (the reference)."
    out = tmp_path_factory.mktemp('finished') / 'run'
    run_experiment(verbose=False, out_dir=str(out), **RUN)
    return out


def test_finished_run_is_never_overwritten(finished):
    assert run_state(finished) == 'finished'
    assert not (finished / 'checkpoint.pt').exists() and (finished / 'model.pt').exists()   # keep_checkpoint False
    before = _hashes(finished)
    # (the same through papermill, stopped before any data is loaded: test_train_notebook.py's root-form test)
    with pytest.raises(RunFolderError, match=f'{finished} holds a finished run .* never overwritten'):
        Experiment(make_config(out_dir=str(finished), **RUN), verbose=False)
    assert _hashes(finished) == before                            # every file byte-identical
    with pytest.raises(ValueError, match="resume='no' is not valid; choose True or False"):
        make_config(out_dir=str(finished), resume='no', **RUN)
    with pytest.raises(RunFolderError, match='a finished run is never overwritten'):   # resume without a kept checkpoint
        Experiment(make_config(out_dir=str(finished), resume=True, **{**RUN, 'epochs': 4}), verbose=False)
    assert _hashes(finished) == before


def test_overwrite_starts_over(finished, tmp_path):
    out = tmp_path / 'run'
    shutil.copytree(finished, out)
    (out / 'features.pt').write_bytes(b'stale')
    res = run_experiment(verbose=False, out_dir=str(out), overwrite=True, **{**RUN, 'epochs': 1})
    assert res['train_steps'] == 6 and not (out / 'features.pt').exists()
    assert json.loads((out / 'config.json').read_text())['epochs'] == 1
    assert len(list(out.glob('events.out.tfevents.*'))) == 1      # the old run's events went with it


def test_killed_run_resumes_to_the_same_results(finished, tmp_path):
    out = tmp_path / 'run'
    script = textwrap.dedent(f'''
        from vireid_nb.engine import run_experiment
        run_experiment(verbose=False, out_dir={str(out)!r}, **{RUN!r})''')
    child = subprocess.Popen([sys.executable, '-c', script], cwd=ROOT, stderr=subprocess.PIPE, text=True)
    try:
        t0 = time.time()
        while not (out / 'checkpoint.pt').exists():               # epoch 1 done
            assert child.poll() is None, child.stderr.read()[-2000:]
            assert time.time() - t0 < 300, 'the child run wrote no checkpoint in 5 minutes'
            time.sleep(0.2)
        time.sleep(1.0)                                           # inside epoch 2 (6 steps of ~0.5-1 s each)
        # a second process cannot train into the folder while the first holds it
        with pytest.raises(RunFolderError, match=f'is in use: pid {child.pid} on'):
            Experiment(make_config(out_dir=str(out), resume=True, **RUN), verbose=False)
        child.send_signal(signal.SIGKILL); child.wait(30)
    finally:
        if child.poll() is None: child.kill()
    ck_epoch = load_checkpoint(out / 'checkpoint.pt')['epoch']
    assert 1 <= ck_epoch < RUN['epochs'] and run_state(out) == 'interrupted'
    with pytest.raises(RunFolderError, match=r'interrupted run \(agw on synth, \d of 3 epochs done\): continue it with -p resume True'):
        Experiment(make_config(out_dir=str(out), **RUN), verbose=False)
    # the OS freed the killed process's lock: the run resumes, and ends exactly where the uninterrupted one did
    res = run_experiment(verbose=False, out_dir=str(out), resume=True, **RUN)
    assert _metrics(out) == _metrics(finished)
    assert res['train_steps'] == 18 and _read_csv(out / 'steps.csv') == _read_csv(finished / 'steps.csv')
    a, b = load_checkpoint(out / 'model.pt'), load_checkpoint(finished / 'model.pt')
    assert all(torch.equal(a[k], b[k]) for k in b)
    assert not (out / 'checkpoint.pt').exists()


def _interrupted(out: Path) -> Path:
    "A run of RUN stopped after its first epoch, before evaluation (checkpoint.pt written, no results.json)."
    exp = Experiment(make_config(out_dir=str(out), **{**RUN, 'epochs': 1}), verbose=False)
    exp.fit(); exp.release()
    return out


def test_damaged_files_are_named(finished, tmp_path):
    from vireid_nb.studies import collect_runs
    from vireid_nb.analysis.runs import load_run
    # interrupted run, truncated checkpoint: resume fails naming the file and the ways out, and rewrites nothing
    out = _interrupted(tmp_path / 'cut')
    ck = out / 'checkpoint.pt'; ck.write_bytes(ck.read_bytes()[:1000])
    before = _hashes(out)
    with pytest.raises(RunFileError, match=r'checkpoint.pt cannot be read: it is truncated or corrupt .*overwrite True'):
        run_experiment(verbose=False, out_dir=str(out), resume=True, **RUN)
    assert _hashes(out) == before                                 # config.json not rewritten by the failed resume
    # interrupted run, corrupt config.json: refused, naming it
    (out / 'config.json').write_text('{"method": "agw", "epo')
    with pytest.raises(RunFolderError, match='config.json cannot be read'):
        Experiment(make_config(out_dir=str(out), resume=True, **RUN), verbose=False)
    # finished run: every file a reader opens is named when damaged
    for name, read, message in [
            ('results.json', lambda d: collect_runs(d), 'results.json cannot be read'),
            ('history.csv', lambda d: _read_csv(d / 'history.csv'), 'history.csv cannot be read'),
            ('steps.csv', lambda d: _read_csv(d / 'steps.csv'), 'steps.csv cannot be read'),
            ('config.json', lambda d: load_run(d), 'config.json cannot be read'),
            ('model.pt', lambda d: load_run(d), 'model.pt cannot be read: it is truncated or corrupt')]:
        d = tmp_path / f'bad-{name}'; shutil.copytree(finished, d)
        data = (d / name).read_bytes(); (d / name).write_bytes(data[:len(data) // 2 + 3])
        with pytest.raises((RunFileError, RunFolderError), match=message): read(d)
        with pytest.raises(RunFolderError):                       # and still never trained over
            Experiment(make_config(out_dir=str(d), **RUN), verbose=False)


def test_nan_loss_keeps_the_last_good_checkpoint(tmp_path):
    from vireid_nb.core import METHODS
    from vireid_nb.methods.agw import AGW

    class _NaNAfterEpoch1(AGW):
        steps = 0
        def loss(self, out, batch):
            res = super().loss(out, batch); type(self).steps += 1
            return res if type(self).steps <= 6 else type(res)(res.loss * float('nan'), res.terms, res.features)
    METHODS.register('_nan', _NaNAfterEpoch1)
    try:
        out = tmp_path / 'run'
        with pytest.raises(FloatingPointError, match='loss is nan at step 1 of epoch 2'):
            run_experiment(verbose=False, out_dir=str(out), **{**RUN, 'method': '_nan'})
        ck = load_checkpoint(out / 'checkpoint.pt')
        assert ck['epoch'] == 1 and all(torch.isfinite(v).all() for v in ck['model'].values() if v.is_floating_point())
        assert run_state(out) == 'interrupted' and not (out / 'model.pt').exists()
        # the failed process released the folder: resuming (after a fix) is possible at once
        Experiment(make_config(out_dir=str(out), resume=True, **{**RUN, 'method': '_nan'}), verbose=False).release()
    finally:
        del METHODS['_nan']


def test_files_follow_the_umask(finished):
    if os.name != 'posix': pytest.skip('POSIX permissions')
    mask = os.umask(0); os.umask(mask)
    for f in ('results.json', 'model.pt', 'config.json', 'history.csv'):
        assert (finished / f).stat().st_mode & 0o777 == 0o666 & ~mask, f
