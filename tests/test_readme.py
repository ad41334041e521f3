"""README.md is generated from nbs/index.ipynb and must stay in step with it."""
from pathlib import Path
import nbformat
from nbconvert import MarkdownExporter

ROOT = Path(__file__).resolve().parents[1]


def test_readme_matches_index_notebook():
    body, _ = MarkdownExporter().from_notebook_node(nbformat.read(ROOT / 'nbs' / 'index.ipynb', as_version=4))
    readme = (ROOT / 'README.md').read_text()
    assert body.strip() == readme.strip(), (
        'README.md is out of step with nbs/index.ipynb: run '
        '`jupyter nbconvert --to markdown nbs/index.ipynb --output-dir . --output README`')


def test_readme_commands():
    readme = (ROOT / 'README.md').read_text()
    assert 'pip install -e ".[dev]"' in readme and 'papermill train.ipynb out.ipynb -p method agw' in readme
    test_cmd = 'nbdev_test --path nbs && pytest -q -n auto --dist loadfile tests'
    assert test_cmd in readme
    ci = (ROOT / '.ci' / 'run').read_text()
    assert 'pip install -e ".[dev]"' in ci and test_cmd in ci


def test_every_method_parameter_is_in_its_row_of_the_method_table():
    import vireid_nb.methods  # noqa: F401  (registers the built-in methods)
    from vireid_nb.core import METHODS
    readme = (ROOT / 'README.md').read_text()
    rows = {line.split('`')[1].split('_method_')[1]: line for line in readme.splitlines()
            if line.startswith('| ') and '_method_' in line.split('|')[2]}
    assert set(rows) == set(METHODS), (sorted(rows), sorted(METHODS))
    for name in METHODS:                     # a subclass's row may leave its parent's parameters to the parent's row
        cls = METHODS.get(name)
        text = rows[name] + ''.join(rows[c.name] for c in cls.__mro__[1:] if getattr(c, 'name', '') in rows)
        missing = [p for p in cls.params if f'`{p}`' not in text]
        assert not missing, f'README method table, row {name}: parameters not listed: {missing}'
