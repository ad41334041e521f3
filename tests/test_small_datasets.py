"""A user's first small dataset, in every real layout, for every method: a `smoke` run of 20 training identities with
3 images per modality (10 optimiser steps) must evaluate with finite features. Before BatchNorm statistics were
re-estimated before evaluation (precise BN, nbs/09_engine), such runs could end with NaN eval features because the
running statistics were stale and AGW's non-local blocks cube the error."""
import json
import pytest
from vireid_nb.core import METHODS
from vireid_nb.engine import run_experiment
import vireid_nb.methods  # noqa: F401  (registers the built-in methods)

from fake_trees import write_small_tree

LAYOUTS = ('sysu', 'regdb', 'llcm')


@pytest.fixture(scope='module')
def trees(tmp_path_factory):
    root = tmp_path_factory.mktemp('small')
    return {layout: write_small_tree(layout, root / layout) for layout in LAYOUTS}


@pytest.mark.parametrize('layout', LAYOUTS)
@pytest.mark.parametrize('method', sorted(METHODS))
def test_small_dataset_trains_and_evaluates(tmp_path, trees, method, layout):
    res = run_experiment(verbose=False, method=method, dataset=layout, data_root=str(trees[layout]), preset='smoke',
                         eval_trials=1, out_dir=str(tmp_path / 'run'))
    steps = sum(int(float(l.split(',')[1])) for l in (tmp_path / 'run' / 'history.csv').read_text().splitlines()[1:])
    assert steps == 10                                           # 20 ids / 4 per batch × 2 epochs
    for r in res['results']:
        assert 0 <= r['rank1'] <= 100 and 0 <= r['mAP'] <= 100 and r['n_query'] > 0
    assert json.loads((tmp_path / 'run' / 'config.json').read_text())['precise_bn'] == 8
