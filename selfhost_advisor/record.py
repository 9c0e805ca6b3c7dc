"""Frozen, slotted records: what `@dataclass(frozen=True, slots=True)` gives, built ten times faster.

Why not dataclasses (a deviation from STYLE habit 4, issue 8): `dataclasses` compiles six methods per class from
source text at import, ~0.5 ms a class; the ~30 records on `fit`'s path cost ~15 ms of the ~35 ms that issue 8's
start-up goal (1.6x `import typer`) leaves us. Here only `__init__` is compiled (it carries the signature, the
defaults and `__post_init__`), and only once a record is built often enough to pay for it (_LazyInit); equality, hash, repr and the frozen guards are shared functions over the field
tuple. Behaviour is the dataclass's: same `__init__` signature, field order, defaults and `default_factory`,
`field(init=False / repr=False / compare=False)`, equal and hashable by value over the compared fields, repr
`Name(a=1, b=2)`, assignment raises `FrozenInstanceError` (an AttributeError), `replace(obj, **changes)`.
tests/test_record.py builds the real frozen slotted dataclass from every record's class body and checks both
behave the same.
"""
from __future__ import annotations

import sys
from typing import Any, Callable, ClassVar, TypeVar

T = TypeVar("T")

if sys.version_info >= (3, 11):
    from typing import dataclass_transform
else:  # Python 3.10: type checkers read the stub; at run time the decorator is a no-op
    def dataclass_transform(**_: Any) -> Callable[[T], T]:
        return lambda f: f

class FrozenInstanceError(AttributeError):
    """Assignment to a field of a record (as dataclasses.FrozenInstanceError)."""


class _Missing:
    __slots__ = ()

    def __repr__(self) -> str:
        return "MISSING"


MISSING: Any = _Missing()


class Field:
    """One field's options, as `dataclasses.field` takes them."""

    __slots__ = ("name", "default", "default_factory", "init", "repr", "compare")

    def __init__(self, default: Any, default_factory: Any, init: bool, repr: bool, compare: bool) -> None:
        self.name = ""
        self.default, self.default_factory = default, default_factory
        self.init, self.repr, self.compare = init, repr, compare


def field(*, default: Any = MISSING, default_factory: Callable[[], Any] | Any = MISSING, init: bool = True,
          repr: bool = True, compare: bool = True) -> Any:
    """Per-field options for a record (the subset of dataclasses.field this package uses)."""
    if default is not MISSING and default_factory is not MISSING:
        raise ValueError("cannot specify both default and default_factory")
    return Field(default, default_factory, init, repr, compare)


def _frozen_setattr(self: Any, name: str, value: Any) -> None:
    raise FrozenInstanceError(f"cannot assign to field {name!r}")


def _frozen_delattr(self: Any, name: str) -> None:
    raise FrozenInstanceError(f"cannot delete field {name!r}")


def _eq(self: Any, other: Any) -> Any:
    if other.__class__ is self.__class__:
        key = self.__record_key__
        return key(self) == key(other)
    return NotImplemented


def _hash(self: Any) -> int:
    # A record's fields never change, so neither does its hash: it is computed once and kept in a slot of its own
    # (not a field: not compared, copied, pickled or shown). Why: Model, Quant and the walk records are the keys of
    # the estimate caches (functools.lru_cache) and were hashed again, with all their nested fields, on every call:
    # ~76,000 Model hashes in one `cost` run, ~7% of its CPU (issue 19: suite and start-up time).
    h = getattr(self, "_record_hash", None)
    if h is None:
        h = hash(self.__record_key__(self))  # TypeError (a dict or list field): unhashable, as a dataclass
        object.__setattr__(self, "_record_hash", h)
    return h


def _repr(self: Any) -> str:
    parts = ", ".join(f"{n}={getattr(self, n)!r}" for n in self.__record_repr__)
    return f"{self.__class__.__qualname__}({parts})"


def _getstate(self: Any) -> tuple:
    return tuple(getattr(self, f.name) for f in self.__record_fields__)


def _setstate(self: Any, state: tuple) -> None:
    for f, value in zip(self.__record_fields__, state):
        object.__setattr__(self, f.name, value)


def _key_of(names: tuple[str, ...]) -> Callable[[Any], tuple]:
    """The compared fields as a tuple (what a dataclass's __eq__ and __hash__ compare)."""
    if not names:
        return lambda self: ()
    if len(names) == 1:
        name = names[0]
        return lambda self: (getattr(self, name),)
    from operator import attrgetter

    return attrgetter(*names)


def _init_source(fields: tuple[Field, ...], post_init: bool) -> tuple[str, dict[str, Any]]:
    """Source of __init__ and the globals it reads: defaults and factories by name, as dataclasses writes it."""
    env: dict[str, Any] = {"_set": object.__setattr__, "_FACTORY": MISSING}
    params, body = [], []
    for f in fields:
        n = f.name
        if f.default_factory is not MISSING:
            env[f"_factory_{n}"] = f.default_factory
            if f.init:
                params.append(f"{n}=_FACTORY")
                body.append(f"_set(self, {n!r}, _factory_{n}() if {n} is _FACTORY else {n})")
            else:
                body.append(f"_set(self, {n!r}, _factory_{n}())")
        elif f.init:
            if f.default is MISSING:
                params.append(n)
            else:
                env[f"_default_{n}"] = f.default
                params.append(f"{n}=_default_{n}")
            body.append(f"_set(self, {n!r}, {n})")
        elif f.default is not MISSING:
            env[f"_default_{n}"] = f.default
            body.append(f"_set(self, {n!r}, _default_{n})")
    if post_init:
        body.append("self.__post_init__()")
    src = f"def __init__(self, {', '.join(params)}):\n    " + ("\n    ".join(body) or "pass") + "\n"
    return src.replace("(self, )", "(self)"), env


class _LazyInit:
    """A record's `__init__` until it is worth compiling. Compiling the generated one (_init_source) is ~0.1 ms a
    class, most of what a record costs, and `fit --json` builds most of its ~30 records a handful of times or never
    (issue 19: start-up). So the first calls bind the arguments here, in plain Python (~2 us a call more than the
    compiled one); the COMPILE_AFTER-th call, or any call this binding does not take as it is (a missing, extra or
    repeated argument: the compiled one raises the dataclass's TypeError), compiles the real one and puts it on the
    class in place of this stand-in. inspect.signature reads the real one through __signature__."""

    __slots__ = ("cls", "fields", "post_init", "names", "calls")
    COMPILE_AFTER = 50  # ~0.1 ms of compiling is paid back by ~50 calls at ~2 us less each

    def __init__(self, fields: tuple[Field, ...], post_init: bool) -> None:
        self.cls: type | None = None
        self.fields, self.post_init = fields, post_init
        self.names = tuple(f.name for f in fields if f.init)
        self.calls = 0

    def compile(self) -> Callable[..., None]:
        cls = self.cls
        assert cls is not None
        src, env = _init_source(self.fields, self.post_init)
        exec(src, env)  # noqa: S102 - our own generated source, as dataclasses does
        init = env["__init__"]
        init.__qualname__ = f"{cls.__qualname__}.__init__"
        init.__module__ = cls.__module__
        if cls.__dict__.get("__init__") is self:
            type.__setattr__(cls, "__init__", init)
        return init

    def _bind(self, instance: Any, args: tuple, kwargs: dict) -> bool:
        """Set the fields as the generated __init__ would; False (nothing raised) where it would refuse the call."""
        names = self.names
        if len(args) > len(names):
            return False
        given = dict(zip(names, args))
        for k, v in kwargs.items():
            if k in given or k not in names:
                return False
            given[k] = v
        values = []
        for f in self.fields:
            if f.init and f.name in given:
                values.append(given[f.name])
            elif f.default_factory is not MISSING:
                values.append(f.default_factory())
            elif f.default is not MISSING:
                values.append(f.default)
            elif f.init:
                return False  # a required argument is missing
            else:
                values.append(MISSING)  # init=False without a default: left unset, as the generated code does
        for f, v in zip(self.fields, values):
            if v is not MISSING:
                object.__setattr__(instance, f.name, v)
        if self.post_init:
            instance.__post_init__()
        return True

    def __get__(self, obj: Any, owner: type | None = None) -> Any:
        if obj is None:
            return self
        from types import MethodType

        return MethodType(self, obj)

    def __call__(self, instance: Any, *args: Any, **kwargs: Any) -> None:
        init = self.cls.__dict__.get("__init__") if self.cls is not None else None
        if init is not None and init is not self:  # compiled already (a bound stand-in kept by a caller)
            init(instance, *args, **kwargs)
            return
        self.calls += 1
        if self.calls >= self.COMPILE_AFTER or not self._bind(instance, args, kwargs):
            self.compile()(instance, *args, **kwargs)

    @property
    def __signature__(self) -> Any:
        import inspect

        return inspect.signature(self.compile())


def _is_classvar(annotation: Any) -> bool:
    if isinstance(annotation, str):  # from __future__ import annotations
        return annotation.replace("typing.", "").startswith("ClassVar")
    return annotation is ClassVar or getattr(annotation, "__origin__", None) is ClassVar


def _fields_of(cls: type) -> tuple[Field, ...]:
    fields = []
    seen_default = False
    annotations = cls.__dict__.get("__annotations__")
    if annotations is None:  # Python 3.14 builds class annotations lazily (PEP 649)
        annotations = getattr(cls, "__annotations__", {})
    for name, annotation in annotations.items():
        if _is_classvar(annotation):
            continue
        value = cls.__dict__.get(name, MISSING)
        f = value if isinstance(value, Field) else Field(value, MISSING, True, True, True)
        if isinstance(f.default, (list, dict, set)):
            raise ValueError(f"mutable default {type(f.default)} for field {name} is not allowed: use default_factory")
        f.name = name
        if f.init:
            has_default = f.default is not MISSING or f.default_factory is not MISSING
            if seen_default and not has_default:
                raise TypeError(f"non-default argument {name!r} follows default argument")
            seen_default = seen_default or has_default
        fields.append(f)
    return tuple(fields)


@dataclass_transform(frozen_default=True, field_specifiers=(field,))
def record(cls: type[T]) -> type[T]:
    """Make `cls` a frozen, slotted record (see the module docstring); use as `@record` on a class with annotations."""
    fields = _fields_of(cls)
    names = tuple(f.name for f in fields)
    ns = {k: v for k, v in cls.__dict__.items() if k not in names and k not in ("__dict__", "__weakref__")}
    init = _LazyInit(fields, "__post_init__" in ns)
    ns.update(
        __slots__=(*names, "_record_hash"),  # _hash's cache
        __init__=init,
        __repr__=_repr,
        __eq__=_eq,
        __hash__=_hash,
        __setattr__=_frozen_setattr,
        __delattr__=_frozen_delattr,
        __getstate__=_getstate,
        __setstate__=_setstate,
        __match_args__=tuple(f.name for f in fields if f.init),
        __record_fields__=fields,
        __record_repr__=tuple(f.name for f in fields if f.repr),
        __record_key__=staticmethod(_key_of(tuple(f.name for f in fields if f.compare))),
    )
    new = type(cls)(cls.__name__, cls.__bases__, ns)
    init.cls = new
    return new  # type: ignore[return-value]


def replace(obj: T, **changes: Any) -> T:
    """A copy of record `obj` with some fields changed (as dataclasses.replace)."""
    for f in obj.__record_fields__:  # type: ignore[attr-defined]
        if not f.init:
            if f.name in changes:
                raise ValueError(f"field {f.name} is declared with init=False, it cannot be specified with replace()")
        elif f.name not in changes:
            changes[f.name] = getattr(obj, f.name)
    return obj.__class__(**changes)


def is_record(obj: Any) -> bool:
    """True for a record class or instance."""
    return hasattr(obj, "__record_fields__")
