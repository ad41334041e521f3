"""The method contract (nbs/20_methods), checked for every registered method: a new method gets these tests for free.

- `augment` keeps every image aligned with its label, camera and modality (traced through autograd: each output image
  must come from exactly one input image, whose label, camera and modality it carries);
- `step` gives a finite scalar loss and finite terms, its declared degenerate terms are terms it logs, and the
  gradient reaches every parameter that learns;
- in eval mode the model returns finite (B, D) features, which its declared parts divide evenly; paired embeddings
  (if any) have one finite row per pair and a valid side;
- a bad value of any method parameter stops `make_config` with the allowed values; an unknown one lists them.
"""
import math
import pytest
import torch
from vireid_nb.core import METHODS, Modality, Range, make_config
from vireid_nb.methods.base import Batch, LossTerms, Method, Output, make_method
import vireid_nb.methods  # noqa: F401  (registers the built-in methods)

METHOD_NAMES = sorted(METHODS)
P, K, N_CLASSES = 3, 2, 5


def _method(name, **params) -> Method:
    return make_method(make_config(name, 'synth', 'smoke', **params))


def _batch(requires_grad=False) -> Batch:
    "P ids × (K visible + K infrared), distinct cameras per image, images in (0, 1) so no clamp is active."
    g = torch.Generator().manual_seed(0)
    x = (0.1 + 0.8 * torch.rand(2 * P * K, 3, 64, 32, generator=g)).requires_grad_(requires_grad)
    labels = torch.tensor([1, 3, 4]).repeat_interleave(K).repeat(2)
    modality = torch.tensor([int(Modality.VIS)] * (P * K) + [int(Modality.IR)] * (P * K))
    return Batch.of(x, labels, modality, cams=torch.arange(10, 10 + 2 * P * K))


def test_every_method_is_registered_as_a_class():
    assert {'agw', 'caj', 'den', 'rfm'} <= set(METHOD_NAMES)
    for name in METHOD_NAMES:
        cls = METHODS.get(name)
        assert isinstance(cls, type) and issubclass(cls, Method) and cls.name == name


@pytest.mark.parametrize('name', METHOD_NAMES)
def test_augment_keeps_images_labels_cameras_and_modalities_aligned(name):
    method, inp = _method(name), _batch(requires_grad=True)
    out = method.augment(inp, torch.Generator().manual_seed(1))
    assert isinstance(out, Batch) and len(out) >= len(inp)
    assert out.x.shape[1:] == inp.x.shape[1:] and out.x.dtype == torch.float32
    assert torch.isfinite(out.x.detach()).all()        # (pixel scale; CAJ's normalised-space mixing may leave [0, 1])
    assert out.x.requires_grad, f'{name}.augment detached the images: the contract asks for tensor ops only'
    for j in range(len(out)):
        g, = torch.autograd.grad(out.x[j].sum(), inp.x, retain_graph=True)
        src = (g.flatten(1).abs().sum(1) > 0).nonzero().flatten().tolist()
        assert len(src) == 1, f'{name}: augmented image {j} depends on input images {src}, not exactly one'
        s = src[0]
        assert (out.labels[j], out.cams[j], out.modality[j]) == (inp.labels[s], inp.cams[s], inp.modality[s]), \
            f'{name}: augmented image {j} comes from input {s} but carries the label/camera/modality of another image'
    assert set(out.group.tolist()) >= {0, 1}                                     # visible and infrared stay apart


@pytest.mark.parametrize('name', METHOD_NAMES)
def test_step_is_finite_and_reaches_every_learning_parameter(name):
    method = _method(name)
    torch.manual_seed(0)
    model = method.build_model(N_CLASSES).train()
    batch = method.augment(_batch(), torch.Generator().manual_seed(1))
    res = method.step(model, batch)
    assert isinstance(res, LossTerms) and res.loss.ndim == 0 and torch.isfinite(res.loss)
    assert res.terms and all(v.ndim == 0 and torch.isfinite(v) for v in res.terms.values()), res.terms
    assert set(method.degenerate()) <= set(res.terms), 'degenerate() names a term the step does not log'
    assert res.features is not None and res.features.shape[0] == len(batch)
    res.loss.backward()
    learning = [(n, p) for n, p in model.named_parameters() if p.requires_grad]
    unreached = [n for n, p in learning if p.grad is None]
    assert not unreached, f'{name}: the loss does not reach {unreached[:5]}'
    assert all(torch.isfinite(p.grad).all() for _, p in learning)
    # every top-level part of the network gets a non-zero gradient (zero-initialised blocks aside)
    for child, mod in model.named_children():
        ps = [p for p in mod.parameters() if p.requires_grad]
        if ps: assert sum(float(p.grad.abs().sum()) for p in ps) > 0, f'{name}: no gradient reaches {child}'
    # the parameter groups cover every learning parameter exactly once
    groups = method.param_groups(model)
    ids = [id(p) for g in groups for p in g['params']]
    assert sorted(ids) == sorted(id(p) for _, p in learning)


@pytest.mark.parametrize('name', METHOD_NAMES)
def test_train_output_is_typed_and_eval_gives_finite_features(name):
    method = _method(name)
    torch.manual_seed(0)
    model = method.build_model(N_CLASSES)
    b = _batch()
    assert isinstance(model.train()(b.x, b.modality), Output)
    with torch.no_grad():
        model(b.x, b.modality)                                                 # one BN update before eval
        f = model.eval()(b.x, b.modality)
    assert isinstance(f, torch.Tensor) and f.ndim == 2 and f.shape[0] == len(b) and torch.isfinite(f).all()
    parts = method.parts(model)
    assert parts is None or (parts >= 1 and f.shape[1] % parts == 0)
    for mod_name, mod in method.attention_modules(model).items():
        assert any(mod is m for m in model.modules()) and hasattr(mod, 'logit'), mod_name
    n = P * K                                                                  # paired embeddings (MSCLNet's synergy)
    model.train()
    for emb_name, (e, side) in method.paired_embeddings(model, b.x[:n], b.x[n:]).items():
        assert e.shape[0] == n and e.ndim == 2 and torch.isfinite(e).all(), emb_name
        assert side in ('visible', 'infrared', 'pair'), (emb_name, side)
    assert model.training                                                     # the hook leaves the mode as it was


def _bad_value(rule, default):
    if isinstance(rule, Range):
        return (rule.lo - 1) if rule.lo is not None else (rule.hi + 1), f'it must be in {rule}'
    return '__not_an_option__', 'choose one of ' + ', '.join(map(str, rule))


@pytest.mark.parametrize('name', METHOD_NAMES)
def test_bad_parameter_values_stop_with_the_allowed_values(name):
    cls = METHODS.get(name)
    checked = 0
    for param, default in cls.params.items():
        rule = cls.param_rules.get(param)
        if rule is not None: value, message = _bad_value(rule, default)
        elif isinstance(default, bool): value, message = 'maybe', 'choose True or False'
        elif isinstance(default, (int, float)): value, message = 'abc', 'it must be a number'
        else: continue
        with pytest.raises(ValueError) as e:
            make_config(name, 'synth', 'smoke', **{param: value})
        assert message in str(e.value) and param in str(e.value), (param, str(e.value))
        checked += 1
    assert checked == len(cls.params) or not cls.params or checked > 0
    with pytest.raises(ValueError) as e:
        make_config(name, 'synth', 'smoke', not_a_parameter_of_anything=1)
    assert all(p in str(e.value) for p in cls.params)


@pytest.mark.parametrize('name', METHOD_NAMES)
def test_presets_resolve_and_paper_uses_the_official_epoch(name):
    for preset in ('smoke', 'demo'):
        assert make_config(name, 'synth', preset).epoch_len == 'ids'
    cfg = make_config(name, 'sysu', 'paper')
    # the official code's epoch: AGW's sampler length ('official') or MPANet's list of pairs ('pairs'), never 'ids'
    assert cfg.epoch_len in ('official', 'pairs') and cfg.backbone == 'resnet50' and cfg.pretrained == 'imagenet'
    assert math.isfinite(cfg.lr) and cfg.epochs >= 1
