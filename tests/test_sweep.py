"""A study end to end, as the README runs it: `papermill nbs/sweep.ipynb` over two methods × two seeds at the smoke
preset writes four run folders (each an ordinary train.ipynb execution from nbs/, with its report) and a leaderboard;
the same command again skips every finished run and changes none of them."""
import hashlib, json, time
import pandas as pd
import pytest

from papermill_cli import ROOT, papermill

RUNS = ['agw-s0', 'agw-s1', 'caj-s0', 'caj-s1']
LEADERBOARD = ['method', 'dataset', 'preset', 'settings', 'protocol', 'n_runs', 'rank1_mean', 'rank1_std', 'mAP_mean',
               'mAP_std', 'mINP_mean', 'mINP_std']
SCHEMA = {'method', 'dataset', 'preset', 'seed', 'device', 'amp', 'selection', 'selected_epoch', 'train_seconds',
          'train_images_per_second', 'train_steps', 'results'}
PROTOCOL_KEYS = {'protocol', 'n_ids', 'n_query', 'n_gallery', 'trials', 'rank1', 'rank5', 'rank10', 'rank20',
                 'mAP', 'mINP', 'per_trial'}


def _sweep(out, report):
    t0 = time.time()
    p = papermill(['nbs/sweep.ipynb', report, '-p', 'methods', 'agw,caj', '-p', 'seeds', '0,1', '-p', 'preset', 'smoke',
                   '-p', 'out_dir', out, '-p', 'jobs', '2'], cwd=ROOT)
    assert p.returncode == 0, p.stderr[-3000:]
    return time.time() - t0


def _files(out) -> dict:
    return {str(p.relative_to(out)): hashlib.sha1(p.read_bytes()).hexdigest()
            for p in sorted(out.rglob('*')) if p.is_file() and p.parent != out}


@pytest.fixture(scope='module')
def swept(tmp_path_factory):
    d = tmp_path_factory.mktemp('sweep')
    secs = _sweep(d / 'S', d / 'first.ipynb')
    return d, secs


def test_sweep_writes_runs_and_leaderboard(swept):
    d, secs = swept
    out = d / 'S'
    print(f'smoke sweep of {len(RUNS)} runs through papermill: {secs:.0f} s')
    assert sorted(p.name for p in out.iterdir() if p.is_dir()) == RUNS
    lb = pd.read_csv(out / 'leaderboard.csv')
    assert LEADERBOARD == [c for c in lb.columns if c in LEADERBOARD]
    assert sorted(zip(lb.method, lb.protocol)) == [(m, p) for m in ('agw', 'caj') for p in ('synth/ir2vis', 'synth/vis2ir')]
    assert (lb.n_runs == 2).all() and lb.rank1_std.notna().all()
    # the leaderboard is the mean ± std of the runs' own results.json
    agw = [json.loads((out / r / 'results.json').read_text())['results'][0]['mAP'] for r in ('agw-s0', 'agw-s1')]
    row = lb[(lb.method == 'agw') & (lb.protocol == 'synth/ir2vis')].iloc[0]
    assert row.mAP_mean == pytest.approx(sum(agw) / 2) and row.mAP_std == pytest.approx(abs(agw[0] - agw[1]) / 2 ** 0.5)
    status = pd.read_csv(out / 'sweep.csv')
    assert status.status.tolist() == ['trained'] * 4
    # the study's report: leaderboard, curves, paired differences
    text = json.dumps(json.loads((d / 'first.ipynb').read_text()))
    assert '| agw | (preset) | synth/ir2vis | 2 (0,1) |' in text and 'image/png' in text and 'no resolved difference' in text


def test_each_run_is_a_train_notebook_report(swept):
    "Each run is train.ipynb executed from nbs/: its report, results schema, files, one progress line, settings as used."
    run = swept[0] / 'S' / 'caj-s1'
    res = json.loads((run / 'results.json').read_text())
    assert SCHEMA <= set(res) and (res['method'], res['seed'], res['device'], res['amp']) == ('caj', 1, 'cpu', False)
    for r in res['results']:
        assert PROTOCOL_KEYS <= set(r) and isinstance(r['n_gallery'], int)
        assert 0 <= r['rank1'] <= r['rank5'] <= r['rank10'] <= r['rank20'] <= 100
        assert len(r['per_trial']) == r['trials'] == 2
    names = sorted(p.name for p in run.iterdir())
    assert [n for n in names if not n.startswith('events.out.tfevents.')] == \
        ['.lock', 'config.json', 'history.csv', 'model.pt', 'report.ipynb', 'results.json', 'steps.csv']
    assert len(names) == 8                                      # one TensorBoard event file; no checkpoint.pt left
    nb = json.loads((run / 'report.ipynb').read_text())
    cells = {''.join(c['source']).splitlines()[0]: c for c in nb['cells'] if c['cell_type'] == 'code' and c['source']}
    train = next(c for c in cells.values() if 'exp.fit()' in ''.join(c['source']))          # the training cell
    progress = [o for o in train['outputs'] if o['output_type'] == 'display_data' and 'steps |' in ''.join(o['data'].get('text/plain', ''))]
    assert len(progress) == 1                                  # one line, updated in place, not one output per refresh
    assert ''.join(progress[0]['data']['text/plain']).startswith('[####################] 6/6 steps | epoch 2/2 | loss ')
    table = next(c for k, c in cells.items() if 'settings()' in k)['outputs'][0]['data']['text/plain']
    table = ''.join(table)
    assert 'device' in table and ' cpu\n' in table and 'auto' not in table.split('device')[1].split('\n')[0]
    assert 'image/png' in json.dumps(nb) and 'rank1' in json.dumps(nb)


def test_tensorboard_events(swept):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
    acc = EventAccumulator(str(swept[0] / 'S' / 'agw-s0')); acc.Reload()
    tags = set(acc.Tags()['scalars'])
    assert {'step/loss', 'step/id', 'step/tri', 'epoch/loss', 'epoch/lr', 'epoch/images_per_s',
            'test/synth/ir2vis/rank1', 'test/synth/vis2ir/mAP'} <= tags
    assert [e.step for e in acc.Scalars('step/loss')] == list(range(1, 7)) and [e.step for e in acc.Scalars('epoch/lr')] == [3, 6]


def test_rerun_skips_finished_runs_and_changes_nothing(swept):
    d, first = swept
    before = _files(d / 'S')
    again = _sweep(d / 'S', d / 'second.ipynb')
    print(f'the same sweep again: {again:.0f} s (first: {first:.0f} s)')
    assert pd.read_csv(d / 'S' / 'sweep.csv').status.tolist() == ['skipped (finished)'] * 4
    assert _files(d / 'S') == before                            # every file of every run byte-identical
    assert again < first / 2


def test_learning_curve_notebook(swept):
    "nbs/learning_curve.ipynb: one curve run scored every epoch; the preset's stars read from a finished sweep."
    d = swept[0]
    p = papermill(['nbs/learning_curve.ipynb', d / 'curve.ipynb', '-p', 'preset', 'smoke', '-p', 'inits', 'none',
                   '-p', 'curve_epochs', '4', '-p', 'eval_every', '1', '-p', 'preset_runs', d / 'S', '-p', 'out_dir', d / 'C'], cwd=ROOT)
    assert p.returncode == 0, p.stderr[-3000:]
    assert [r.name for r in (d / 'C').iterdir()] == ['curve'] and not (d / 'C' / 'preset').exists()   # stars: the sweep's runs
    run = d / 'C' / 'curve' / 'agw-pretrained=None-s0'
    hist = pd.read_csv(run / 'history.csv')
    assert hist['test_synth/ir2vis_rank1'].notna().tolist() == [True, True, True, False]   # epoch 4: results.json
    cfg = json.loads((run / 'config.json').read_text())
    assert (cfg['epochs'], cfg['eval_every'], cfg['preset']) == (4, 1, 'smoke')
    text = json.dumps(json.loads((d / 'curve.ipynb').read_text()))
    assert 'image/png' in text and 'smoke preset' in text and 'curve' in text
