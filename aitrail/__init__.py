"""aitrail: an audit trail for AI-generated code."""

from aitrail.errors import AitrailError

__version__ = "0.1.0"
__all__ = ["AitrailError", "__version__"]
