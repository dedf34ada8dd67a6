"""aitrail: an audit trail for AI-generated code.

The SDK's front door::

    import aitrail
    aitrail.configure(team="payments")          # optional: OTEL_* variables and defaults work too
    with aitrail.track(assistant="my-tool", prompt=prompt, model="claude-sonnet-4-5") as gen:
        gen.record_edit("src/app.py", new_text=code)
        gen.usage(input_tokens=1200, output_tokens=300, cost=0.008)
        gen.decision("accepted")
"""

from aitrail.errors import AitrailError
from aitrail.sdk.runtime import configure, shutdown
from aitrail.sdk.track import Generation, flush, track

__version__ = "0.1.0"
__all__ = ["AitrailError", "Generation", "__version__", "configure", "flush", "shutdown", "track"]
