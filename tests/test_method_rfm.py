"""RFM end to end: the train notebook's cells (make_config, run_experiment) with the smoke preset and its ablation switches. (Bad values, the loss,
gradients and augmentation alignment are checked for every method in test_method_contract.py.)"""
import csv, json, time
import pytest

from papermill_cli import smoke_run


def _history(out):
    with open(out / 'history.csv') as f: return list(csv.DictReader(f))


def test_rfm_smoke(tmp_path):
    "In process: the notebook's cells are `make_config` + `run_experiment` (test_sweep.py covers the papermill route)."
    t0 = time.time()
    out = smoke_run('rfm', [], tmp_path / 'run', through_papermill=False)
    print(f'rfm smoke run: {time.time() - t0:.1f} s')
    res = json.loads((out / 'results.json').read_text())
    assert (res['method'], res['dataset'], res['preset']) == ('rfm', 'synth', 'smoke')
    assert [r['protocol'] for r in res['results']] == ['synth/ir2vis', 'synth/vis2ir']
    for r in res['results']:
        assert 0 <= r['rank1'] <= r['rank5'] <= r['rank10'] <= r['rank20'] <= 100 and 0 <= r['mAP'] <= 100
    hist = _history(out)
    # every term of Eq. 9 is logged: part ID, part triplet, cross-centre, modality ID losses; and the part head is alive
    assert {'loss', 'id', 'tri', 'cc', 'id_vis', 'id_ir', 'feat_zero', 'feat_norm'} <= set(hist[0])
    assert all(float(r['feat_zero']) == 0 and float(r['feat_norm']) > 1 for r in hist)
    mp = json.loads((out / 'config.json').read_text())['method_params']
    assert (mp['parts'], mp['center'], mp['part_neck'], mp['mod_classifier'], mp['eval_feat']) == \
        (4, 'cross', 'bn', 'shared', 'reduced')


@pytest.mark.parametrize('args, present, absent', [
    (['-p', 'ltg', 'False', '-p', 'cc', 'False', '-p', 'mam', 'none'], {'id', 'tri'}, {'cc', 'hc', 'center', 'id_vis', 'id_ir'}),
    (['-p', 'center', 'hetero', '-p', 'mod_classifier', 'separate'], {'id', 'tri', 'hc', 'id_vis', 'id_ir'}, {'cc', 'center'}),
    (['-p', 'center', 'center', '-p', 'mam', 'spatial', '-p', 'ltg_fg', 'uniform', '-p', 'eval_feat', 'pooled'],
     {'center'}, {'cc', 'id_vis'}),
])
def test_rfm_switches(tmp_path, args, present, absent):
    "In process, with the values as the command line gives them (strings)."
    out = smoke_run('rfm', ['-p', 'epochs', '1', '-p', 'eval_trials', '1', *args], tmp_path / 'run', through_papermill=False)
    cols = set(_history(out)[0])
    assert present <= cols and not (absent & cols), cols
    mp = json.loads((out / 'config.json').read_text())['method_params']
    for name, value in zip(args[1::3], args[2::3]):
        assert str(mp[name]) == value                      # the switch reached the run


def test_old_part_head_collapse_is_stopped_with_a_message(tmp_path):
    "PCB's FC → BN → ReLU neck under Eq. 8 dies within a few dozen steps; the run must stop, not report a table."
    from vireid_nb.engine import run_experiment, TrainingCollapsed
    out = tmp_path / 'run'
    with pytest.raises(TrainingCollapsed) as e:           # in process: the notebook runs the same `run_experiment`
        run_experiment(verbose=False, method='rfm', preset='smoke', out_dir=str(out), part_neck='fc_bn_relu',
                       ids_per_batch=4, imgs_per_modality=4, epochs=40, ltg=False)
    assert 'exactly zero at all' in str(e.value), str(e.value)
    assert not (out / 'results.json').exists() and not (out / 'model.pt').exists()
    hist = _history(out)
    assert 3 <= len(hist) < 40                              # stopped at the collapse, with the epochs before it logged
