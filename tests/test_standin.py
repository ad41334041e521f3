"""The synthetic ImageNet stand-in (nbs/05a_standin): its people are never benchmark people, `pretrained='synth'` builds
it on first use into <home>/data/standin and reuses it, an interrupted build resumes to the same weights, and the
`vireid-standin` command reports it. The builds here use a tiny recipe (seconds); the real one takes ~15 min."""
import json
import numpy as np
import pytest
import torch

from vireid_nb.core import make_config
from vireid_nb.data import synth as S
from vireid_nb.data.datasets import load_synth
from vireid_nb.methods.base import make_method
from vireid_nb.models import standin as SI

TINY = dict(n_ids=16, imgs_per_camera=(1, 2), img_size=(32, 16), steps=4, batch=8)


def _people(spec) -> set:
    "One fingerprint per person: every drawn parameter (reflectances, body, garments, patterns), rounded."
    I = spec.ident
    cols = [I['refl'].reshape(len(I['pid']), -1)] + [np.asarray(I[k], np.float64).reshape(-1, 1) for k in
            ('height', 'width', 'head', 'waist', 'pat_freq', 'pat_duty', 'pat_phase', 'logo_size', 'bag_side', 'hair_long',
             'sleeve', 'low_kind', 'pattern', 'low_stripe', 'acc', 'logo_round')]
    return {tuple(np.round(r, 6)) for r in np.concatenate(cols, 1)}


def test_standin_people_are_never_benchmark_people():
    recipe = SI.standin_recipe()
    assert recipe['seed'] >= S.RESERVED_SEED
    with pytest.raises(ValueError, match='reserved'):
        load_synth(seed=recipe['seed'])                       # the stand-in's seed cannot be a benchmark
    with pytest.raises(ValueError, match='benchmark seed'):
        SI.standin_recipe(seed=0)                             # nor a benchmark seed the stand-in's
    pretrain = _people(SI.standin_spec(recipe))
    assert len(pretrain) > 0.99 * recipe['n_ids']             # the fingerprint tells people apart (look-alikes may share one)
    assert _people(SI.standin_spec(recipe)) == pretrain       # the check would see a shared person (same draws)
    for seed in range(10):                                    # the seeds a study uses, demo and full sizes
        for size in ('demo', 'full'):
            bench = S.synth_spec(size, seed=seed)
            assert not pretrain & _people(bench), (seed, size)


def test_pretrained_synth_builds_once_and_loads(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv('VIREID_HOME', str(tmp_path))
    monkeypatch.setattr(SI, 'STANDIN_RECIPE', {**SI.STANDIN_RECIPE, **TINY})
    cfg = make_config('agw', preset='smoke', pretrained='synth', out_dir=str(tmp_path / 'run'))
    model = make_method(cfg).build_model(5)
    path = SI.standin_path()
    assert path.parent == tmp_path / 'data' / 'standin' and path.exists()
    assert 'building the synthetic ImageNet stand-in' in capsys.readouterr().out
    prov = json.loads(path.with_suffix('.json').read_text())
    assert prov['recipe']['seed'] >= S.RESERVED_SEED and prov['generator_version'] == S.GENERATOR_VERSION
    assert prov['n_ids'] == TINY['n_ids'] and prov['n_images'] > 0
    sd = torch.load(path, weights_only=True)
    for stem in model.backbone.stems:                          # both stems start from the stand-in's visible stem
        assert torch.equal(stem[0].weight, sd['conv1.weight'])
    mtime = path.stat().st_mtime_ns
    make_method(cfg).build_model(5)
    assert path.stat().st_mtime_ns == mtime and 'building' not in capsys.readouterr().out   # reused
    assert SI.main(['--no-check']) == 0                        # the command finds it and reports its provenance
    out = capsys.readouterr().out
    assert 'stand-in: ' + str(path) in out and '16 people' in out and 'building' not in out


def test_interrupted_build_resumes_to_the_same_weights(tmp_path, monkeypatch):
    monkeypatch.setattr(SI, '_PARTIAL_EVERY', 1)
    full = torch.load(SI.pretrain_standin(TINY, tmp_path / 'a.pt', verbose=False), weights_only=True)
    calls = {'n': 0}
    real = SI._augment

    def dies_at_third_step(*a):
        calls['n'] += 1
        if calls['n'] == 3: raise KeyboardInterrupt
        return real(*a)
    monkeypatch.setattr(SI, '_augment', dies_at_third_step)
    with pytest.raises(KeyboardInterrupt):
        SI.pretrain_standin(TINY, tmp_path / 'b.pt', verbose=False)
    assert (tmp_path / 'b.partial.pt').exists() and not (tmp_path / 'b.pt').exists()
    monkeypatch.setattr(SI, '_augment', real)
    resumed = torch.load(SI.pretrain_standin(TINY, tmp_path / 'b.pt', verbose=False), weights_only=True)
    assert not (tmp_path / 'b.partial.pt').exists()
    for k, v in full.items():
        assert torch.allclose(v.float(), resumed[k].float(), atol=1e-6), k
