"""selfhost-advisor: will this open-weight LLM run on this hardware, how fast, and is self-hosting worth it?"""

__version__ = "0.1.0"
SCHEMA_VERSION = "1.3.0"
