"""End-to-end: train.ipynb under papermill, as a user runs it (CLI from the root here; from nbs/ in test_sweep.py)."""
import json, shutil, time
import pytest
import papermill as pm

from papermill_cli import ROOT, NBS, papermill

SCHEMA = {'method', 'dataset', 'preset', 'seed', 'device', 'selection', 'selected_epoch', 'train_seconds',
          'train_images_per_second', 'results'}
PROTOCOL_KEYS = {'protocol', 'n_ids', 'n_query', 'n_gallery', 'trials', 'rank1', 'rank5', 'rank10', 'rank20',
                 'mAP', 'mINP', 'per_trial'}


def _run(args, cwd):
    t0 = time.time()
    p = papermill(args, cwd=cwd)
    return p, time.time() - t0


def test_from_repository_root_with_default_out_dir(tmp_path):
    "The documented root form; the default out_dir does not depend on the working directory; the same command again is refused."
    out = ROOT / 'runs' / 'agw-synth-smoke-s7'
    shutil.rmtree(out, ignore_errors=True)                     # this test's own earlier output
    args = ['nbs/train.ipynb', tmp_path / 'out.ipynb', '-p', 'preset', 'smoke', '-p', 'seed', '7', '-p', 'eval_trials', '1']
    p, _ = _run(args, ROOT)
    assert p.returncode == 0, p.stderr[-3000:]
    res = json.loads((out / 'results.json').read_text())
    assert res['seed'] == 7 and res['results'][0]['trials'] == 1
    before = {f.name: f.read_bytes() for f in out.iterdir()}
    p, _ = _run(args, ROOT)                                    # a finished run is never trained over
    assert p.returncode != 0
    nb = json.loads((tmp_path / 'out.ipynb').read_text())
    err = [o for c in nb['cells'] for o in c.get('outputs', []) if o['output_type'] == 'error'][0]
    assert err['ename'] == 'RunFolderError' and str(out) in err['evalue'] and 'never overwritten' in err['evalue']
    assert 'overwrite True' in err['evalue']
    printed = ''.join(''.join(o.get('text', '')) for c in nb['cells'] for o in c.get('outputs', []) if o['output_type'] == 'stream')
    assert 'data ready' not in printed and 'epoch 1/' not in printed   # refused before any data was loaded
    assert {f.name: f.read_bytes() for f in out.iterdir()} == before   # every file byte-identical


@pytest.mark.parametrize('args, message', [(['-p', 'method', 'agww'], 'valid methods: agw')])
def test_bad_parameters_stop_at_once(tmp_path, args, message):
    with pytest.raises(pm.PapermillExecutionError) as e:
        pm.execute_notebook(str(NBS / 'train.ipynb'), str(tmp_path / 'out.ipynb'), progress_bar=False,
                            parameters={a: _value(v) for a, v in zip(args[1::3], args[2::3])})
    assert message in str(e.value)
    assert e.value.exec_count <= 4          # stopped in the cell that reads the parameters


@pytest.mark.parametrize('params, message', [
    (dict(dataset='market'), 'valid datasets:'),
    (dict(epochz='3'), 'valid parameters:'),
    (dict(method='rfm', mam='foo'), 'choose one of mam, spatial, none'),   # method parameters (all: test_method_contract)
    (dict(resume='no'), "resume='no' is not valid; choose True or False"),
    (dict(epochs='abc'), "epochs='abc' is not valid; it must be an integer >= 1"),
    (dict(preset='fast'), 'valid presets: smoke, demo, study, paper'),
    (dict(backbone='vgg16'), 'choose one of resnet18, resnet34, resnet50'),
    (dict(epoch_len='paper'), "choose 'ids', 'official', 'pairs' or a positive number of batches"),
    (dict(method='den', ird_form='hinge'), 'choose one of push, pull, center'),
    (dict(method='caj', triplet='hard'), 'choose one of adp, wrt'),
])
def test_bad_parameters_named(params, message):
    "The notebook's parameter cell is `make_config(**params)` (the three papermill cases above prove it stops there)."
    from vireid_nb.core import make_config
    import vireid_nb.methods  # noqa: F401
    kw = dict(method='agw', dataset='synth', preset='smoke') | params
    with pytest.raises((ValueError, KeyError)) as e: make_config(**kw)
    assert message in str(e.value)


def _value(v):
    return int(v) if v.isdigit() else v


def test_selection_on_validation_identities(tmp_path):
    "In process (the notebook's cells: make_config + run_experiment); the papermill routes are covered by test_sweep.py."
    from vireid_nb.engine import run_experiment
    out = tmp_path / 'val'
    res = run_experiment(verbose=False, preset='smoke', selection='val', val_ids='3', out_dir=str(out), epochs='3')
    assert res['selection'] == 'val' and 1 <= res['selected_epoch'] <= 3
    hist = (out / 'history.csv').read_text().splitlines()
    assert 'val/ir2vis_mAP' in hist[0] and len(hist) == 4
    assert (out / 'best.pt').exists()
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
    acc = EventAccumulator(str(out)); acc.Reload()
    assert len(acc.Scalars('val/val/ir2vis/mAP')) == 3           # the validation curve, live, one point per epoch
