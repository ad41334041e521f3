"""The synthetic dataset written to disk in each real layout trains and evaluates through the same readers,
driven by the train notebook's own cells (make_config, run_experiment) with the values a user passes."""
import json
import pytest
from vireid_nb.data import synth

WRITERS = {'sysu': synth.write_sysu_layout, 'regdb': synth.write_regdb_layout, 'llcm': synth.write_llcm_layout}
PROTOCOLS = {'sysu': ['sysu/all', 'sysu/indoor'], 'regdb': ['regdb/vis2ir', 'regdb/ir2vis'],
             'llcm': ['llcm/ir2vis', 'llcm/vis2ir']}


@pytest.fixture(scope='module')
def spec():
    return synth.synth_spec('tiny', seed=0)


@pytest.mark.parametrize('dataset', ['sysu', 'regdb', 'llcm'])
def test_synthetic_tree_trains_through_train_notebook(tmp_path, spec, dataset):
    "In process: the notebook's cells are `make_config` + `run_experiment` (test_sweep.py and test_train_notebook.py run it)."
    tree = WRITERS[dataset](spec, tmp_path / dataset)
    out = tmp_path / 'run'
    from vireid_nb.engine import run_experiment
    run_experiment(verbose=False, dataset=dataset, data_root=str(tree), preset='smoke', out_dir=str(out))
    res = json.loads((out / 'results.json').read_text())
    assert res['dataset'] == dataset
    assert [r['protocol'] for r in res['results']] == PROTOCOLS[dataset]
    n_test_ids = len(spec.test_ids) if dataset != 'regdb' else len(spec.test_ids) + len(spec.train_ids) - (len(spec.test_ids) + len(spec.train_ids)) // 2
    for r in res['results']:
        assert r['n_ids'] == n_test_ids
        assert r['n_query'] > 0 and r['n_gallery'] > 0
        assert len(r['per_trial']) == r['trials'] == (1 if dataset == 'regdb' else 2)


def test_paper_preset_epoch_has_the_official_length(tmp_path):
    "A `paper` run, shortened, on a SYSU-MM01 tree: its epoch is ⌊max(N_vis, N_ir) / (P·K)⌋ + 1 batches (IdentitySampler)."
    import csv
    from fake_trees import make_sysu
    from vireid_nb.data.datasets import load_dataset
    tree = make_sysu(tmp_path / 'sysu', train=tuple(range(1, 9)), val=(9,), test=(10, 11, 12, 13), per_cam=6, missing=())
    out = tmp_path / 'run'
    from vireid_nb.engine import run_experiment     # in process, with the strings the command line would give
    run_experiment(verbose=False, dataset='sysu', data_root=str(tree), preset='paper', epochs='1', backbone='resnet18',
                   img_size='64,32', pretrained='None', eval_trials='1', out_dir=str(out))
    cfg = json.loads((out / 'config.json').read_text())
    ds = load_dataset('sysu', tree)
    n_vis, n_ir = ((ds.modality[ds.train] == m).sum() for m in (0, 1))
    expected = max(n_vis, n_ir) // (cfg['ids_per_batch'] * cfg['imgs_per_modality']) + 1
    assert (cfg['epoch_len'], n_vis, expected) == ('official', 9 * 4 * 6, 7)    # 9 ids ⇒ 'ids' would be 2 batches
    with open(out / 'history.csv') as f: hist = list(csv.DictReader(f))
    assert [int(float(r['steps'])) for r in hist] == [expected]
    with open(out / 'steps.csv') as f: assert len(list(csv.DictReader(f))) == expected
