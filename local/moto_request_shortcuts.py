"""Shortcuts in moto's per-request work: pure functions moto recomputes on every request,
remembered per argument (the same answers, computed once). Part of ``local.moto_shortcuts``'
set, kept honest by the same differential test (``tests/integration/test_moto_shortcuts.py``).

* ``remembered_name_conversions``: moto turns CamelCase names into snake_case character by
  character, ~15 times per SQS ``SendMessage`` (every queue attribute, to read one FIFO setting)
  and for every request's action: the answer for a name never changes;
* ``remembered_condition_lexing``: a DynamoDB condition expression is split into tokens with a
  dozen regular expressions per token on every conditional write, though local mode's writes use
  a handful of expression texts; the tokens of a text never change;
* ``remembered_json_paths``: EventBridge applies a target's input paths to every event it puts
  (``moto.events.utils.EventTemplateParser``, local mode's event bus, eight ``$.…`` paths), and
  ``jsonpath_ng.ext.parse`` builds a new PLY parser (grammar tables, introspection) for each one:
  a fifth of the emulator's CPU under load. A path's parsed expression is read-only in ``find``;
* ``remembered_update_expressions``: moto parses a DynamoDB update expression twice per
  ``UpdateItem`` (once to list its placeholders, once to apply it), though local mode's writes use
  a handful of texts; the tree of a text never changes (the validator works on a deep copy of it);
* ``one_map_per_traversal``: the update validator walks the expression's tree ten times per
  ``UpdateItem`` and asked each processor for its node-type map (a new dict) twice per node;
  each walk now asks once. Together: an ``UpdateItem`` a quarter cheaper (4.2 -> 3.1 ms, local
  mode's requests under load replayed);
* ``fast_receipt_handles``: moto draws an SQS receipt handle's 185 lowercase letters one
  ``random.choice`` call each (8% of the emulator's CPU under load); ``random.choices`` draws the
  same kind of handle, from the same generator (moto's seedable one), in one call.
"""

from __future__ import annotations

import functools
import importlib
import string
import sys
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

NAME_CACHE_SIZE = 4096
LEXING_CACHE_SIZE = 1024


@contextmanager
def remembered_name_conversions() -> Iterator[None]:
    """``moto.core.utils.camelcase_to_underscores``, remembered, wherever moto has imported it
    (modules moto imports later import the remembered one)."""
    utils: Any = importlib.import_module("moto.core.utils")
    original: Callable[[str], str] = utils.camelcase_to_underscores
    remembered = functools.lru_cache(maxsize=NAME_CACHE_SIZE)(original)
    patched = [
        module
        for name, module in list(sys.modules.items())
        if name.startswith("moto") and getattr(module, "camelcase_to_underscores", None) is original
    ]
    for module in patched:
        setattr(module, "camelcase_to_underscores", remembered)  # noqa: B010
    try:
        yield
    finally:
        for name, module in list(sys.modules.items()):
            if name.startswith("moto") and getattr(module, "camelcase_to_underscores", None) is remembered:
                setattr(module, "camelcase_to_underscores", original)  # noqa: B010


@contextmanager
def remembered_condition_lexing() -> Iterator[None]:
    """The tokens of a condition expression text, lexed once. Tokens are immutable named tuples
    but for their (empty) ``children`` list: each parse gets fresh lists."""
    parser_class: Any = importlib.import_module("moto.dynamodb.comparisons").ConditionExpressionParser
    original = parser_class._lex_condition_expression
    lexed: dict[str, tuple[Any, ...]] = {}

    def lex(parser: Any) -> deque[Any]:
        text = parser.condition_expression
        tokens = lexed.get(text) if isinstance(text, str) else None
        if tokens is None:
            tokens = tuple(original(parser))  # a text that does not lex raises here, every time
            if isinstance(text, str) and len(lexed) < LEXING_CACHE_SIZE:
                lexed[text] = tokens
        return deque(token._replace(children=[]) for token in tokens)

    parser_class._lex_condition_expression = lex
    try:
        yield
    finally:
        parser_class._lex_condition_expression = original


JSON_PATH_CACHE_SIZE = 256
RECEIPT_HANDLE_LENGTH = 185


@contextmanager
def remembered_json_paths() -> Iterator[None]:
    """``jsonpath_ng.ext.parse``, remembered per path text (moto imports it at each call, so the
    module attribute is the one to replace)."""
    ext: Any = importlib.import_module("jsonpath_ng.ext")
    original = ext.parse
    ext.parse = functools.lru_cache(maxsize=JSON_PATH_CACHE_SIZE)(original)
    try:
        yield
    finally:
        ext.parse = original


@contextmanager
def fast_receipt_handles() -> Iterator[None]:
    """SQS receipt handles drawn in one call (the same alphabet, length and generator)."""
    models: Any = importlib.import_module("moto.sqs.models")
    random: Any = importlib.import_module("moto.moto_api._internal").mock_random
    original = models.generate_receipt_handle

    def generate_receipt_handle() -> str:
        return "".join(random.choices(string.ascii_lowercase, k=RECEIPT_HANDLE_LENGTH))

    models.generate_receipt_handle = generate_receipt_handle
    try:
        yield
    finally:
        models.generate_receipt_handle = original


UPDATE_CACHE_SIZE = 1024


@contextmanager
def remembered_update_expressions() -> Iterator[None]:
    """``UpdateExpressionParser.make``, remembered per text. A text that does not parse raises at
    every call (``lru_cache`` keeps no exceptions)."""
    parser_class: Any = importlib.import_module("moto.dynamodb.parsing.expressions").UpdateExpressionParser
    original = parser_class.__dict__["make"]
    remembered: Any = functools.lru_cache(maxsize=UPDATE_CACHE_SIZE)(original.__func__)
    parser_class.make = classmethod(remembered)
    try:
        yield
    finally:
        parser_class.make = original


@contextmanager
def one_map_per_traversal() -> Iterator[None]:
    """``DepthFirstTraverser.traverse``: moto's walk (children first, each node of a mapped type
    replaced by its processor's result, in the map's order), the map read once per walk."""
    ast_nodes: Any = importlib.import_module("moto.dynamodb.parsing.ast_nodes")
    traverser, node_class = ast_nodes.DepthFirstTraverser, ast_nodes.Node
    original = traverser.traverse

    def traverse(self: Any, root: Any) -> Any:
        processors = list(self._processing_map().items())
        kinds = tuple(kind for kind, _ in processors)

        def visit(node: Any, child_id: int) -> Any:
            if not isinstance(node, node_class):
                return node
            parent = node.parent
            if node.children is not None:
                for index, child in enumerate(node.children):
                    self.pre_processing_of_child(node, index)
                    visit(child, index)
            if isinstance(node, kinds):
                node = next(process(node) for kind, process in processors if isinstance(node, kind))
                node.parent = parent
                if parent:
                    parent.children[child_id] = node
            return node

        return visit(root, -1)

    traverser.traverse = traverse
    try:
        yield
    finally:
        traverser.traverse = original


SHORTCUTS = (
    remembered_update_expressions,
    one_map_per_traversal,
    remembered_name_conversions,
    remembered_condition_lexing,
    remembered_json_paths,
    fast_receipt_handles,
)
