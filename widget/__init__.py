"""petition-widget: an embeddable petition form and live counter."""

from __future__ import annotations

__version__ = "0.1.0"
