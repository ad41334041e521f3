"""The synthetic dataset written to disk in each real layout trains and evaluates through the same readers,
driven by train.ipynb exactly as a user would run it."""
import json
import pytest
from vireid_nb.data import synth

from papermill_cli import ROOT, papermill
WRITERS = {'sysu': synth.write_sysu_layout, 'regdb': synth.write_regdb_layout, 'llcm': synth.write_llcm_layout}
PROTOCOLS = {'sysu': ['sysu/all', 'sysu/indoor'], 'regdb': ['regdb/vis2ir', 'regdb/ir2vis'],
             'llcm': ['llcm/ir2vis', 'llcm/vis2ir']}


@pytest.fixture(scope='module')
def spec():
    return synth.synth_spec('tiny', seed=0)


@pytest.mark.parametrize('dataset', ['sysu', 'regdb', 'llcm'])
def test_synthetic_tree_trains_through_train_notebook(tmp_path, spec, dataset):
    tree = WRITERS[dataset](spec, tmp_path / dataset)
    out = tmp_path / 'run'
    p = papermill(['train.ipynb', str(tmp_path / 'out.ipynb'),
                        '-p', 'dataset', dataset, '-p', 'data_root', str(tree), '-p', 'preset', 'smoke',
                        '-p', 'out_dir', str(out)], cwd=ROOT / 'nbs')
    assert p.returncode == 0, p.stderr[-3000:]
    res = json.loads((out / 'results.json').read_text())
    assert res['dataset'] == dataset
    assert [r['protocol'] for r in res['results']] == PROTOCOLS[dataset]
    n_test_ids = len(spec.test_ids) if dataset != 'regdb' else len(spec.test_ids) + len(spec.train_ids) - (len(spec.test_ids) + len(spec.train_ids)) // 2
    for r in res['results']:
        assert r['n_ids'] == n_test_ids
        assert r['n_query'] > 0 and r['n_gallery'] > 0
        assert len(r['per_trial']) == r['trials'] == (1 if dataset == 'regdb' else 2)
