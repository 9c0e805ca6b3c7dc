"""A spec sheet in YAML (`--hardware box.yaml`): yaml.safe_load, with each key of a mapping given once.

Why: safe_load keeps the last of a key given twice without a word, so `cores: 16` then `cores: 64` would price a box
the user may not have meant; a spec file is refused naming the key instead (the inline form does the same,
catalog/spec_fields.parse_pairs). A merge key (`<<: *defaults`) still overrides as YAML says. A date (`build_date:
2024-11-08`, unquoted as the docs write it) stays the text it is: safe_load made it a datetime.date, which the spec
keys refused as "not one value", and an impossible one (2024-02-30) a ValueError read as "not valid YAML"."""
from __future__ import annotations

from ..errors import AdvisorError, BadFileError

_HINT = "write key: value lines, e.g. vram: 16GB"


def load_spec_yaml(raw: bytes, path: str) -> object:
    import yaml

    class Loader(yaml.SafeLoader):
        def construct_mapping(self, node, deep=False):  # noqa: ANN001 - PyYAML's hook
            seen: set[str] = set()
            for key_node, _ in node.value:
                if isinstance(key_node, yaml.ScalarNode) and key_node.tag != "tag:yaml.org,2002:merge":
                    key = key_node.value.strip().lower()
                    if key in seen:
                        raise BadFileError(f"hardware file {path} gives {key!r} twice", "give each key once")
                    seen.add(key)
            return super().construct_mapping(node, deep)

    Loader.add_constructor("tag:yaml.org,2002:timestamp", yaml.SafeLoader.construct_yaml_str)

    try:
        return yaml.load(raw, Loader=Loader)  # noqa: S506 - a SafeLoader subclass
    except AdvisorError:
        raise
    except ValueError as exc:  # Python's int-conversion limit: an integer of more than 4300 digits
        why = ": a number in it has more than 4300 digits" if "digits" in str(exc) else ""
        raise BadFileError(f"hardware file {path} is not valid YAML{why}", _HINT) from None
    except Exception:  # noqa: BLE001 - yaml.YAMLError (yaml imported lazily) and its subclasses, RecursionError
        raise BadFileError(f"hardware file {path} is not valid YAML", _HINT) from None
