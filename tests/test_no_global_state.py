"""No hidden global state: no module of ``src/`` keeps a mutable cache, and what lambdaless
caches lives on the construct tree, so two apps in one process never see each other's.

A module-level cache is found by reading the source (AST): a module-level name bound to a
mutable container (a dict, list or set display, or a call of ``dict``, ``list``, ``set``,
``WeakKeyDictionary`` and the like) that the module mutates anywhere (item assignment or
deletion, ``+=``, or a mutating method such as ``append``, ``add``, ``update``, ``setdefault``),
a module-level object whose attributes the module assigns, or a ``global`` statement.
"""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_stepfunctions as sfn

from lambdaless import BedrockModel, InvokeBedrock, Workflow
from lambdaless._stack_env import StackEnv

SRC = Path(__file__).resolve().parents[1] / "src"
_CONTAINERS = {
    "dict",
    "list",
    "set",
    "defaultdict",
    "OrderedDict",
    "Counter",
    "deque",
    "WeakKeyDictionary",
    "WeakValueDictionary",
    "WeakSet",
}
_MUTATORS = {
    "append",
    "extend",
    "insert",
    "add",
    "update",
    "setdefault",
    "pop",
    "popitem",
    "remove",
    "discard",
    "clear",
    "appendleft",
}


def _callee(node: ast.expr) -> str | None:
    func = node.func if isinstance(node, ast.Call) else None
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Attribute):
        return func.attr
    return None


def _root(node: ast.expr) -> str | None:
    while isinstance(node, ast.Attribute | ast.Subscript):
        node = node.value
    return node.id if isinstance(node, ast.Name) else None


def module_state(source: str) -> list[str]:
    """What in ``source`` is mutable module-level state, described one per line."""
    tree = ast.parse(source)
    containers: set[str] = set()
    objects: set[str] = set()
    for node in tree.body:
        targets: list[ast.expr] = []
        value: ast.expr | None = None
        if isinstance(node, ast.Assign):
            targets, value = node.targets, node.value
        elif isinstance(node, ast.AnnAssign) and node.value is not None:
            targets, value = [node.target], node.value
        for target in targets:
            if not isinstance(target, ast.Name) or value is None:
                continue
            displays = ast.Dict | ast.List | ast.Set | ast.DictComp | ast.ListComp | ast.SetComp
            if isinstance(value, displays) or _callee(value) in _CONTAINERS:
                containers.add(target.id)
            elif isinstance(value, ast.Call):
                objects.add(target.id)
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Global):
            found.append(f"line {node.lineno}: global {', '.join(node.names)}")
        stores: list[ast.expr] = []
        if isinstance(node, ast.Assign | ast.Delete):
            stores = list(node.targets)
        elif isinstance(node, ast.AugAssign | ast.AnnAssign):
            stores = [node.target]
        for store in stores:
            if isinstance(store, ast.Subscript) and _root(store) in containers:
                found.append(f"line {node.lineno}: {_root(store)}[...] changed")
            elif isinstance(store, ast.Attribute) and _root(store) in objects | containers:
                found.append(f"line {node.lineno}: {_root(store)}.{store.attr} assigned")
            elif isinstance(node, ast.AugAssign) and _root(store) in containers:
                found.append(f"line {node.lineno}: {_root(store)} extended")
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in _MUTATORS
            and isinstance(node.func.value, ast.Name)
            and node.func.value.id in containers
        ):
            found.append(f"line {node.lineno}: {node.func.value.id}.{node.func.attr}()")
    return found


#: The state that stays, and why. The local runner's moto seam: the patches (``_patches``,
#: built on the first local run, cleared if building fails), how many local runs are in progress
#: (``_runs_in_progress``), so that moto is patched exactly while a local execution runs and is
#: plain moto after the last one ends, the moto classes the hooks patch (``_classes``, filled
#: once) and the hooks of the run on this thread (``_thread``, a ``threading.local``). Not a
#: cache of construct state; any other finding, there or elsewhere, fails.
ALLOWED = {
    "lambdaless/testing/_moto_hooks.py": {
        "global _runs_in_progress",
        "_patches.append()",
        "_patches.clear()",
        "_classes.update()",
        "_thread.record_retry assigned",
    },
}


def test_no_module_level_mutable_state_in_src() -> None:
    found = {}
    for path in sorted(SRC.rglob("*.py")):
        name = str(path.relative_to(SRC))
        allowed = ALLOWED.get(name, set())
        state = [
            line
            for line in module_state(path.read_text())
            if line.partition(": ")[2] not in allowed
        ]
        if state:
            found[name] = state
    assert not found, f"module-level mutable state: {found}"


def test_the_check_finds_caches() -> None:
    assert module_state("_C = {}\ndef f(k):\n    _C[k] = 1\n") == ["line 3: _C[...] changed"]
    assert module_state("_C: dict[str, int] = dict()\ndef f():\n    _C.setdefault('a', 1)\n")
    assert module_state("import weakref\n_W = weakref.WeakSet()\ndef f(x):\n    _W.add(x)\n")
    assert module_state("_B = Bindings()\ndef f():\n    _B.collecting = []\n")
    assert module_state("_N = 0\ndef f():\n    global _N\n    _N = 1\n")
    # constants read but never changed are fine
    assert module_state("_T = {'a': 1}\n_L = [1, 2]\ndef f(k):\n    return _T[k], _L[0]\n") == []


def _app_with_two_asks() -> tuple[cdk.App, list[InvokeBedrock]]:
    app = cdk.App()
    stack = cdk.Stack(app, "S", env=cdk.Environment(account="111122223333", region="us-east-1"))
    model = BedrockModel.foundation_model("anthropic.claude-3-haiku-20240307-v1:0")
    asks = [InvokeBedrock(stack, name, model=model, prompt="Hi") for name in ("A", "B")]
    Workflow(stack, "W", definition=asks[0].next(asks[1]), alarms=False)
    return app, asks


def test_steps_own_their_iam_statements() -> None:
    """Two steps granting the same call hold two statement objects: changing one step's
    statements never changes another's (the rendered policy still lists the grant once)."""
    app, (a, b) = _app_with_two_asks()
    assert a.policy_statements
    assert len(a.policy_statements) == len(b.policy_statements)
    assert all(x is not y for x in a.policy_statements for y in b.policy_statements)
    template = app.synth().get_stack_by_name("S").template
    (policy,) = [r for r in template["Resources"].values() if r["Type"] == "AWS::IAM::Policy"]
    rendered = policy["Properties"]["PolicyDocument"]["Statement"]
    invoke = [s for s in rendered if "bedrock:InvokeModel" in str(s["Action"])]
    assert len(invoke) == 1, rendered


def test_what_is_cached_lives_on_each_construct_tree() -> None:
    """Two apps built one after the other share nothing: each app has its own limits plugin,
    each stack its own environment."""
    first, _ = _app_with_two_asks()
    second, _ = _app_with_two_asks()
    stacks: list[Any] = [first.node.find_child("S"), second.node.find_child("S")]
    assert StackEnv.of(stacks[0]) is not StackEnv.of(stacks[1])
    plugins = [app._lambdaless_limits_plugin for app in (first, second)]
    assert plugins[0] is not plugins[1]
    assert [len(p.paths) for p in plugins] == [1, 1]  # each app lints only its own workflow


def test_an_app_without_lambdaless_workflows_gets_no_plugin() -> None:
    app = cdk.App()
    stack = cdk.Stack(app, "S")
    sfn.StateMachine(
        stack, "M", definition_body=sfn.DefinitionBody.from_chainable(sfn.Pass(stack, "P"))
    )
    assert getattr(app, "_lambdaless_limits_plugin", None) is None
