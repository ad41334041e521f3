"Built-in methods: importing this package registers every method module in it (see `nbs/20_methods.ipynb`)."
import importlib as _importlib, pkgutil as _pkgutil

for _m in _pkgutil.iter_modules(__path__):
    if _m.name != 'base': _importlib.import_module(f'{__name__}.{_m.name}')
