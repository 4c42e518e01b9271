"""Multi-state patterns: ``sfn.StateMachineFragment`` subclasses built from lambdaless steps.

One module each: :mod:`~lambdaless.patterns.prompt_chain`, :mod:`~lambdaless.patterns.fan_out`,
:mod:`~lambdaless.patterns.approval`, :mod:`~lambdaless.patterns.customization`,
:mod:`~lambdaless.patterns.knowledge_base` and :mod:`~lambdaless.patterns.batch`. The public
names are re-exported by ``lambdaless``.
"""
