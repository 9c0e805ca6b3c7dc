"""selfhost_advisor.record stands in for @dataclass(frozen=True, slots=True) (issue 8: start-up time).

Every record class in the package is rebuilt as the real frozen slotted dataclass from the same fields and
methods; both must take the same arguments and behave the same (repr, equality, hash, frozen, replace, pickle).
"""
from __future__ import annotations

import copy
import dataclasses
import importlib
import inspect
import pickle
import pkgutil

import pytest

import selfhost_advisor
from selfhost_advisor.record import MISSING, FrozenInstanceError, field, is_record, record, replace, _LazyInit

_GENERATED = {"__init__", "__repr__", "__eq__", "__hash__", "__setattr__", "__delattr__", "__getstate__",
              "__setstate__", "__slots__", "__match_args__", "__record_fields__", "__record_repr__", "__record_key__", "__dict__",
              "__weakref__", "__annotations__", "__module__", "__qualname__", "__doc__"}


def _record_classes() -> list[type]:
    found = {}
    for info in pkgutil.walk_packages(selfhost_advisor.__path__, "selfhost_advisor."):
        if info.name.endswith("__main__"):
            continue
        mod = importlib.import_module(info.name)
        for obj in vars(mod).values():
            if inspect.isclass(obj) and is_record(obj) and obj.__module__ == mod.__name__:
                found[f"{obj.__module__}.{obj.__qualname__}"] = obj
    return [found[k] for k in sorted(found)]


RECORDS = _record_classes()


def _reference(cls: type) -> type:
    """The frozen slotted dataclass with cls's fields, options and methods."""
    specs = []
    for f in cls.__record_fields__:
        kw = {"init": f.init, "repr": f.repr, "compare": f.compare}
        if f.default is not MISSING:
            kw["default"] = f.default
        if f.default_factory is not MISSING:
            kw["default_factory"] = f.default_factory
        specs.append((f.name, cls.__annotations__[f.name], dataclasses.field(**kw)))
    namespace = {k: v for k, v in vars(cls).items() if k not in _GENERATED}
    return dataclasses.make_dataclass(cls.__name__, specs, namespace=namespace, frozen=True, slots=True)


def _sample(annotation: str, i: int, bumped: bool):
    """A value of roughly the annotated type, distinct per field index (methods like __post_init__ may read it)."""
    a = annotation.replace(" ", "")
    i += 100 if bumped else 0
    if a.startswith("tuple[int"):
        return (i + 1, 2)
    if a.startswith("int"):
        return i + 3
    if a.startswith("float"):
        return i + 0.5
    if a.startswith("bool"):
        return bool(i % 2) != bumped
    if a.startswith("str"):
        return f"s{i}"
    return ("v", i)


def _args(cls: type, bump: str | None = None) -> dict:
    out = {}
    for i, f in enumerate(cls.__record_fields__):
        if f.init:
            out[f.name] = _sample(cls.__annotations__[f.name], i, f.name == bump)
    return out


def test_the_package_has_records_to_check():
    names = {c.__name__ for c in RECORDS}
    assert {"Model", "Quant", "FitResult", "Tensor", "Weights"} <= names
    assert len(RECORDS) >= 40


@pytest.mark.parametrize("cls", RECORDS, ids=lambda c: f"{c.__module__.split('.', 1)[1]}.{c.__qualname__}")
def test_record_behaves_as_the_frozen_slotted_dataclass(cls):
    ref = _reference(cls)
    sig, ref_sig = inspect.signature(cls), inspect.signature(ref)
    assert list(sig.parameters) == list(ref_sig.parameters)
    for name, p in sig.parameters.items():
        q = ref_sig.parameters[name]
        assert p.kind == q.kind
        assert (p.default is inspect.Parameter.empty) == (q.default is inspect.Parameter.empty)
        if q.default is not inspect.Parameter.empty and repr(q.default) != "<factory>":
            assert p.default == q.default
    args = _args(cls)
    a, b, r = cls(**args), cls(**args), ref(**args)
    assert repr(a) == repr(r)
    assert a == b and not (a != b)
    assert a != r  # different classes never compare equal, as with dataclasses
    try:
        ref_hash = hash(r)
    except TypeError:  # a dict or list field: unhashable in both
        with pytest.raises(TypeError):
            hash(a)
    else:
        assert hash(a) == ref_hash == hash(b)
    for f in cls.__record_fields__:
        if not f.init:
            continue
        other = cls(**_args(cls, bump=f.name))
        ref_other = ref(**_args(cls, bump=f.name))
        assert (a == other) == (r == ref_other) == (not f.compare), f.name
        changed = {f.name: getattr(other, f.name)}
        assert repr(replace(a, **changed)) == repr(dataclasses.replace(r, **changed))
    first = cls.__record_fields__[0].name
    with pytest.raises(FrozenInstanceError):
        setattr(a, first, 1)
    with pytest.raises(dataclasses.FrozenInstanceError):
        setattr(r, first, 1)
    with pytest.raises(AttributeError):
        delattr(a, first)
    with pytest.raises(AttributeError):
        a.not_a_field = 1
    assert not hasattr(a, "__dict__")
    assert cls.__match_args__ == ref.__match_args__
    assert copy.copy(a) == a and copy.deepcopy(a) == a and repr(copy.deepcopy(a)) == repr(copy.deepcopy(r))
    try:
        pickle.dumps(r)
    except (pickle.PicklingError, TypeError, AttributeError):
        return  # the values (or the reference, which is not importable by name) do not pickle
    assert pickle.loads(pickle.dumps(a)) == a


def test_default_factory_gives_each_instance_its_own_value():
    @record
    class Box:
        name: str
        items: list = field(default_factory=list)

    one, two = Box("a"), Box("b")
    one.items.append(1)
    assert two.items == [] and Box("c", items=[5]).items == [5]


def test_init_false_field_is_set_by_post_init_and_left_out_of_repr_and_equality():
    @record
    class Area:
        w: int
        h: int
        area: int = field(init=False, repr=False, compare=False)

        def __post_init__(self) -> None:
            object.__setattr__(self, "area", self.w * self.h)

    a = Area(2, 3)
    assert a.area == 6 and repr(a) == "Area(w=2, h=3)" and a == Area(2, 3)
    with pytest.raises(ValueError):
        replace(a, area=7)
    assert replace(a, w=5).area == 15


def test_class_definitions_dataclasses_refuses_are_refused():
    with pytest.raises(TypeError):
        @record
        class Bad:
            a: int = 1
            b: int

    with pytest.raises(ValueError):
        @record
        class Shared:
            a: list = []  # noqa: RUF012

    with pytest.raises(ValueError):
        field(default=1, default_factory=int)


def test_classvar_is_not_a_field():
    from typing import ClassVar

    @record
    class K:
        unit: ClassVar[str] = "bytes"
        n: int

    assert K(3).n == 3 and K.unit == "bytes" and [f.name for f in K.__record_fields__] == ["n"]


def test_classvar_is_not_a_field_when_annotations_are_objects():
    from typing import ClassVar

    ns = {"__annotations__": {"unit": ClassVar[str], "bare": ClassVar, "n": int}, "unit": "bytes", "bare": 1,
          "__module__": __name__, "__qualname__": "K2"}
    K2 = record(type("K2", (), ns))
    assert [f.name for f in K2.__record_fields__] == ["n"] and K2(4).n == 4 and K2.unit == "bytes"


def test_missing_and_extra_arguments_fail_as_they_do_for_a_dataclass():
    @record
    class P:
        a: int
        b: int = 2

    with pytest.raises(TypeError):
        P()
    with pytest.raises(TypeError):
        P(1, 2, 3)
    with pytest.raises(TypeError):
        P(1, c=3)
    assert P(1) == P(a=1, b=2) != P(1, 3)
    assert {P(1), P(1), P(2)} == {P(1), P(2)}


@pytest.mark.parametrize("cls", RECORDS, ids=lambda c: f"{c.__module__.split('.', 1)[1]}.{c.__qualname__}")
def test_the_stand_in_init_and_the_compiled_one_build_the_same_record(cls):
    """record.py binds the first calls in Python and compiles __init__ later: both must build the same record."""
    args = _args(cls)
    early = cls(**args)
    init = cls.__dict__["__init__"]
    compiled = init.compile() if isinstance(init, _LazyInit) else init
    late = object.__new__(cls)
    compiled(late, **args)
    assert repr(late) == repr(early) and late == early
    assert not isinstance(cls.__dict__["__init__"], _LazyInit)


def test_a_record_compiles_its_init_after_enough_calls_and_behaves_the_same():
    @record
    class R:
        a: int
        b: tuple = ()
        c: list = field(default_factory=list)
        d: int = field(default=4, init=False)
        e: int = field(default=0, init=False, repr=False, compare=False)

        def __post_init__(self):
            object.__setattr__(self, "e", self.a * 2)

    def build():
        return [R(1), R(1, (2,)), R(a=1, c=[3]), R(b=(5,), a=2)]

    early = build()
    assert isinstance(R.__dict__["__init__"], _LazyInit)
    for _ in range(_LazyInit.COMPILE_AFTER):
        R(0)
    assert not isinstance(R.__dict__["__init__"], _LazyInit)
    late = build()
    assert early == late and [repr(x) for x in early] == [repr(x) for x in late]
    assert [x.e for x in early] == [x.e for x in late] == [2, 2, 2, 4] and early[0].c is not late[0].c
    with pytest.raises(TypeError):
        R()
